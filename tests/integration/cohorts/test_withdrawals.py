"""A withdrawal recorded in the register takes effect from the very next
request: counts cached before it, saved cohorts, the members an analysis
gets, summaries, the pages."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditAction, AuditEvent
from cohorts.compiler import compile_criteria
from cohorts.criteria import parse
from cohorts.genotypes import release_genotypes
from cohorts.models import Cohort, CohortMember
from cohorts.selectors import cohort_summary
from cohorts.services import cohort_count, cohort_create, cohort_members_for_job, criterion_counts
from disclosure.rules import Policy, safe_count
from participants import vocabularies as vocab
from participants.models import Disease, Participant, RegisteredWithdrawal, Tumour
from participants.selectors import release_current
from participants.services import withdrawals_record
from participants.withdrawal_list import WithdrawalLine
from tests.integration.cohorts.conftest import load_prepared

pytestmark = pytest.mark.django_db

PAGE = RegisteredWithdrawal.Source.PAGE


@pytest.fixture
def project(world):
    return world.approved_project


def _withdraw(by, participant: Participant) -> None:
    withdrawals_record(by=by, lines=[WithdrawalLine(participant.participant_id, "2025-06")], source=PAGE)


def _two_disease_groups(release):
    groups = sorted(set(Disease.objects.filter(participant__release=release).values_list("disease_group", flat=True)))
    return {"type": "disease", "field": "disease_group", "values": groups[:2]}


def _staged_tumour(release):
    types = Tumour.objects.filter(participant__release=release).values_list("disease_type", flat=True)
    return {"type": "tumour", "disease_types": [types.first()], "stages": ["II", "III"]}


CRITERIA = {
    "per-value counts": lambda release: {"type": "programme", "values": ["cancer"]},
    "phenotype rollup": lambda release: {"type": "hpo", "term": "HP:0000707"},
    "database": _two_disease_groups,
    "database, tumour": _staged_tumour,
    "genotype store": lambda release: {"type": "genotype", "gene": "BRCA1"},
}


@pytest.mark.parametrize("path", list(CRITERIA))
def test_recording_a_withdrawal_changes_the_very_next_count_of_a_criterion_cached_before_it(
    release, project, governance_reviewer, path
):
    raw = {"include_all": [CRITERIA[path](release)]}
    (criterion,) = parse(raw).include_all
    before = criterion_counts([criterion], release)[0]
    with CaptureQueriesContext(connection) as cached:
        assert criterion_counts([criterion], release) == [before]
    assert not [q for q in cached.captured_queries if "participants_participant" in q["sql"]], "read from the cache"
    leaver = compile_criteria(parse(raw), release).order_by("pk").first()
    assert leaver is not None and before > 0

    _withdraw(governance_reviewer, leaver)

    current = release_current()  # as the next request reads it
    assert criterion_counts([criterion], current) == [before - 1]
    assert leaver not in compile_criteria(parse(raw), current)
    result = cohort_count(by=project.owner, project=project, criteria_json=raw)
    assert result.per_criterion[0][1] == safe_count(before - 1, Policy())
    assert result.total == safe_count(before - 1, Policy())


def test_counts_cached_in_redis_are_not_used_after_a_withdrawal(release, project, settings, governance_reviewer):
    """With the production cache (Redis), shared by every web server."""
    from django.core.cache import cache

    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.CELERY_BROKER_URL,
            "KEY_PREFIX": prefix,
        }
    }
    client = cache._cache.get_client()
    try:
        (criterion,) = parse({"include_all": [_two_disease_groups(release)]}).include_all
        before = criterion_counts([criterion], release)[0]
        leaver = compile_criteria(parse({"include_all": [criterion.as_json()]}), release).first()
        _withdraw(governance_reviewer, leaver)
        assert criterion_counts([criterion], release_current()) == [before - 1]
        assert len(client.keys(f"{prefix}:*:cohorts:criterion-count:*")) == 2
    finally:
        for key in client.keys(f"{prefix}:*"):
            client.delete(key)


def test_a_saved_cohort_containing_the_participant_is_flagged(release, project, world, governance_reviewer, client_for):
    cancer = {"include_all": [{"type": "programme", "values": ["cancer"]}]}
    cohort = cohort_create(by=project.owner, project=project, name="Cancer", criteria_json=cancer)
    other = cohort_create(
        by=project.owner,
        project=project,
        name="Rare disease",
        criteria_json={"include_all": [{"type": "programme", "values": ["rare_disease"]}]},
    )
    size = cohort.member_count
    leaver = CohortMember.objects.filter(cohort=cohort).select_related("participant").first().participant
    assert leaver.participant_id in {pid for pid, _ in cohort_members_for_job(cohort=cohort)}

    _withdraw(governance_reviewer, leaver)

    cohort.refresh_from_db()
    assert cohort.withdrawals_flagged_at is not None
    assert (cohort.member_count, cohort.withdrawn_members) == (size - 1, 1)
    assert CohortMember.objects.filter(cohort=cohort).count() == size  # the snapshot itself is kept
    assert leaver.participant_id not in {pid for pid, _ in cohort_members_for_job(cohort=cohort)}
    assert len(cohort_members_for_job(cohort=cohort)) == size - 1
    assert cohort_summary(cohort=cohort).size == safe_count(size - 1, Policy())
    assert Cohort.objects.get(pk=other.pk).withdrawals_flagged_at is None
    flagged = AuditEvent.objects.get(action=AuditAction.COHORTS_FLAGGED)
    assert flagged.details["cohorts"] == [cohort.pk]

    page = client_for(project.owner).get(reverse("cohorts:detail", args=[cohort.pk]))
    assert "withdrew consent" in page.content.decode()
    assert client_for(project.owner).get(reverse("cohorts-api:detail", args=[cohort.pk])).json()["withdrawals_flagged"]


def test_a_participant_withdrawn_in_the_register_then_in_a_release_is_counted_once(
    release, project, prepared_release, governance_reviewer
):
    cancer = {"include_all": [{"type": "programme", "values": ["cancer"]}]}
    cohort = cohort_create(by=project.owner, project=project, name="Cancer", criteria_json=cancer)
    size = cohort.member_count
    leaver = CohortMember.objects.filter(cohort=cohort).select_related("participant").first().participant
    _withdraw(governance_reviewer, leaver)

    bundle = prepared_release.bundle
    rows = [{**r, "consent_status": vocab.WITHDRAWN} if r["participant_id"] == leaver.participant_id else r
            for r in bundle.rows["participants.tsv"]]  # fmt: skip
    newer = type(bundle)(path=bundle.path, release=bundle.release, rows={**bundle.rows, "participants.tsv": rows})
    load_prepared(prepared_release, name="test-r2", checksum="1" * 64, bundle=newer)

    cohort.refresh_from_db()
    assert (cohort.member_count, cohort.withdrawn_members) == (size - 1, 1)


def test_carrier_lookups_and_allele_counts_read_through_the_mask(release, governance_reviewer):
    genotypes = release_genotypes(release)
    carriers = genotypes.carriers(gene="BRCA1")
    counts = genotypes.allele_counts(gene="BRCA1").for_group("usable")
    leaver = Participant.objects.get(release=release, sample_index=min(carriers))

    _withdraw(governance_reviewer, leaver)

    masked = release_genotypes(release_current())
    assert masked.samples.tolist() == sorted(set(genotypes.samples.tolist()) - {leaver.sample_index})
    assert masked.carriers(gene="BRCA1") == carriers - {leaver.sample_index}
    after = masked.allele_counts(gene="BRCA1").for_group("usable")
    gt = masked.store.genotype_matrix(mask=masked.store.every_sample(), gene="BRCA1", samples=[leaver.participant_id])[
        :, 0, :
    ]
    assert (counts.ac - after.ac)[:, 0].tolist() == (gt > 0).sum(axis=1).tolist()
    assert (counts.an - after.an)[:, 0].tolist() == (gt >= 0).sum(axis=1).tolist()
