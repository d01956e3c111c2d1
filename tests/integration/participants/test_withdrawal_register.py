"""The withdrawal register: which releases an entry applies to, what it changes
at once (kept counts, rollup, version), the command's all-or-nothing with line
numbers, and that nothing in the database can change an entry."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.models import AuditAction, AuditEvent, AuditOutcome
from participants import vocabularies as vocab
from participants.marginals import consenting_by
from participants.models import DataRelease, PhenotypeAncestor, RegisteredWithdrawal
from participants.ontology import phenotype_rollup_build
from participants.permissions import WithdrawalNotAllowed
from participants.selectors import release_usable
from participants.services import WithdrawalsRefused, withdrawals_record
from participants.withdrawal_list import WithdrawalLine
from participants.withdrawals import participants_withdrawn_callbacks
from tests.integration.participants.releases import load, person

pytestmark = pytest.mark.django_db

SOURCE = RegisteredWithdrawal.Source.PAGE


def usable_ids(release: DataRelease) -> set[str]:
    return set(release_usable(release).values_list("participant_id", flat=True))


def assert_kept_data_is_fresh(release: DataRelease) -> None:
    """The per-value counts and the rollup equal what would be computed now."""
    release.refresh_from_db()
    assert release.counts["consenting_by"] == consenting_by(release)
    rollup = PhenotypeAncestor.objects.filter(release=release)
    kept = set(rollup.values_list("ancestor_id", "observed", "participant_id"))
    with transaction.atomic():
        rollup.delete()
        phenotype_rollup_build(release)
        assert set(rollup.values_list("ancestor_id", "observed", "participant_id")) == kept
        transaction.set_rollback(True)


@pytest.fixture
def releases():
    """v1 and v2 hold the same three participants; v2 is current."""
    people = [person("P1"), person("P2", sex="male"), person("P3", recruiting_centre="Oxford GMC")]
    return load("v1", people), load("v2", people)


def test_a_withdrawal_takes_effect_at_once_in_every_release_holding_the_participant(releases, governance_reviewer):
    v1, v2 = releases
    recorded = withdrawals_record(by=governance_reviewer, lines=[WithdrawalLine("P3", "2025-01")], source=SOURCE)

    assert usable_ids(v1) == usable_ids(v2) == {"P1", "P2"}
    for release in (v1, v2):
        assert_kept_data_is_fresh(release)
        assert release.counts["consenting_by"]["recruiting_centre"] == {"Wessex GMC": 2}
        assert release.withdrawals_version == 1
        assert not PhenotypeAncestor.objects.filter(release=release, participant__participant_id="P3").exists()
    assert recorded.effect.no_longer_usable == {"v1": ("P3",), "v2": ("P3",)}
    (entry,) = recorded.entries
    assert (entry.participant_id, entry.withdrawal_month, entry.recorded_by, entry.source) == (
        "P3", "2025-01", governance_reviewer, SOURCE
    )  # fmt: skip
    event = AuditEvent.objects.get(action=AuditAction.WITHDRAWAL_RECORDED)
    assert (event.target_type, event.target_id, event.actor_id) == (
        "participants.registeredwithdrawal", str(entry.pk), governance_reviewer.pk
    )  # fmt: skip
    assert event.details == {"withdrawal_month": "2025-01", "source": "page", "no_longer_usable_in": ["v2", "v1"]}
    assert "P3" not in event.details_json  # the entry holds the id; the trail names the entry


def test_a_newer_release_recording_a_later_consent_brings_the_participant_back(releases, governance_reviewer):
    v1, _ = releases
    withdrawals_record(by=governance_reviewer, lines=[WithdrawalLine("P3", "2025-01")], source=SOURCE)

    same = load("v3", [person("P1"), person("P2", sex="male"), person("P3")])  # P3's consent still from 2018-05
    assert usable_ids(same) == {"P1", "P2"}
    assert same.counts["consenting_by"]["sex"] == {"female": 1, "male": 1}
    assert_kept_data_is_fresh(same)

    again = load("v4", [person("P1"), person("P2"), person("P3", consent_month="2025-03")])  # consented again
    assert usable_ids(again) == {"P1", "P2", "P3"}
    assert usable_ids(v1) == {"P1", "P2"}  # earlier releases keep them out
    assert_kept_data_is_fresh(again)


def test_a_withdrawal_in_the_month_of_consent_applies(releases, governance_reviewer):
    v1, v2 = releases
    withdrawals_record(by=governance_reviewer, lines=[WithdrawalLine("P1", "2018-05")], source=SOURCE)
    assert "P1" not in usable_ids(v1) | usable_ids(v2)


def test_a_withdrawal_before_the_latest_consent_is_refused_and_changes_nothing(releases, governance_reviewer):
    load("v3", [person("P1"), person("P2"), person("P3", consent_month="2025-03")])
    with pytest.raises(WithdrawalsRefused) as refused:
        withdrawals_record(by=governance_reviewer, lines=[WithdrawalLine("P3", "2025-01")], source=SOURCE)
    (problem,) = refused.value.problems
    assert (problem.field, problem.code) == ("withdrawal_month", "before_consent")
    assert "release v3 records the consent of participant P3 in 2025-03, after 2025-01" in problem.message
    assert not RegisteredWithdrawal.objects.exists()
    assert DataRelease.objects.filter(withdrawals_version__gt=0).count() == 0
    event = AuditEvent.objects.get(action=AuditAction.WITHDRAWALS_REFUSED)
    assert event.outcome == AuditOutcome.FAILURE and event.details["codes"] == ["before_consent"]


def test_a_release_withdrawal_keeps_the_participant_out_of_earlier_releases(releases):
    v1, v2 = releases
    load("v3", [person("P1"), person("P2"), person("P3", consent_status=vocab.WITHDRAWN)])
    assert usable_ids(v1) == usable_ids(v2) == {"P1", "P2"}
    for release in (v1, v2):
        assert_kept_data_is_fresh(release)
        assert release.withdrawals_version == 1


def test_only_governance_reviewers_record(releases, researcher):
    with pytest.raises(WithdrawalNotAllowed):
        withdrawals_record(by=researcher, lines=[WithdrawalLine("P1", "2025-01")], source=SOURCE)
    assert not RegisteredWithdrawal.objects.exists()


def test_the_register_refuses_updates_and_deletes_in_the_database(releases, governance_reviewer):
    withdrawals_record(by=governance_reviewer, lines=[WithdrawalLine("P1", "2025-01")], source=SOURCE)
    table = RegisteredWithdrawal._meta.db_table
    for statement in (f"UPDATE {table} SET withdrawal_month = '2030-01'", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert RegisteredWithdrawal.objects.get().withdrawal_month == "2025-01"


def _list(tmp_path, *lines: str):
    path = tmp_path / "provider-withdrawals.tsv"
    path.write_text("participant_id\twithdrawal_month\n" + "".join(f"{line}\n" for line in lines))
    return path


def test_the_command_records_nothing_unless_the_whole_list_is_valid(releases, tmp_path):
    load("v3", [person("P1"), person("P2", consent_month="2025-03"), person("P3")])
    path = _list(tmp_path, "P1\t2025-01", "P9\t2025-01", "P2\t2025-01", "P3\t2025-1", "P1\t2025-02")
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"4 problem\(s\) listed above\. Nothing was recorded"):
        call_command("record_withdrawals", str(path), stderr=err)
    assert err.getvalue().splitlines() == [
        "provider-withdrawals.tsv:3 [participant_id]: participant P9 is not in any data release",
        "provider-withdrawals.tsv:4 [withdrawal_month]: release v3 records the consent of participant P2 in "
        "2025-03, after 2025-01: a withdrawal must be in or after the month of their latest consent",
        "provider-withdrawals.tsv:5 [withdrawal_month]: '2025-1' is not a month written YYYY-MM",
        "provider-withdrawals.tsv:6 [participant_id]: participant P1 is already on line 2",
    ]
    assert not RegisteredWithdrawal.objects.exists()
    assert not DataRelease.objects.filter(withdrawals_version__gt=0).exists()
    refused = AuditEvent.objects.get(action=AuditAction.WITHDRAWALS_REFUSED)
    assert refused.details["problems"] == 4 and refused.details["file"] == path.name


def test_the_command_records_a_valid_list_once(releases, tmp_path):
    v1, v2 = releases
    path = _list(tmp_path, "P1\t2025-01", "P3\t2025-02")
    out = io.StringIO()
    call_command("record_withdrawals", str(path), stdout=out)
    assert "2 withdrawal(s) recorded from provider-withdrawals.tsv." in out.getvalue()
    assert "release v2: 2 participant(s) no longer used" in out.getvalue()
    assert usable_ids(v1) == usable_ids(v2) == {"P2"}
    entries = RegisteredWithdrawal.objects.order_by("participant_id")
    assert [(e.participant_id, e.source, e.source_detail, e.recorded_by) for e in entries] == [
        ("P1", "file", "provider-withdrawals.tsv line 2", None),
        ("P3", "file", "provider-withdrawals.tsv line 3", None),
    ]
    events = AuditEvent.objects.filter(action=AuditAction.WITHDRAWAL_RECORDED).order_by("seq")
    assert [e.details["line"] for e in events] == [2, 3]
    assert all(len(e.details["file_sha256"]) == 64 for e in events)

    again = io.StringIO()
    call_command("record_withdrawals", str(path), stdout=again)  # the same list again: nothing changes
    assert "provider-withdrawals.tsv:2: participant P1 may be used in no release already" in again.getvalue()
    assert "0 withdrawal(s) recorded" in again.getvalue()
    assert RegisteredWithdrawal.objects.count() == 2


def test_the_command_names_a_missing_file(tmp_path):
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("record_withdrawals", str(tmp_path / "nothing.tsv"), stderr=err)
    assert "is not a file" in err.getvalue()


def test_flaggers_are_registered_by_the_apps_that_hold_results():
    """Each app holding results computed with participants registers its
    flagger in its AppConfig.ready()."""
    registered = {(f.callback.__module__, f.callback.__name__, f.label) for f in participants_withdrawn_callbacks()}
    assert registered == {
        ("cohorts.services", "cohorts_flag_withdrawals", "saved cohorts"),
        ("analysis.services", "jobs_flag_withdrawals", "analysis results"),
        ("airlock.services", "requests_flag_withdrawals", "output requests"),
    }
