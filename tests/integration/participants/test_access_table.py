"""Who may see and record withdrawals: only governance reviewers; everyone
else gets 404 (the register's existence is not theirs to learn), anonymous
callers the sign-in page or 401. Then what the page and the API answer."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from audit.models import AuditAction, AuditEvent
from participants.models import RegisteredWithdrawal
from participants.selectors import release_usable
from tests.access import Row, cases, check, expect
from tests.integration.participants.releases import load, person

pytestmark = pytest.mark.django_db

CHECK = {"participant_id": "P2", "withdrawal_month": "2025-01"}
ONLY_GOVERNANCE = expect(404, governance=200)

ROWS = [
    Row("participants:withdrawals", "GET", ONLY_GOVERNANCE),
    Row("participants:withdrawals", "POST", ONLY_GOVERNANCE, data=CHECK, note="check"),
    Row("participants:withdrawals", "POST", expect(404, governance=302), data={**CHECK, "confirm": "yes"},
        note="confirm"),
    Row("participants-api:withdrawals", "GET", ONLY_GOVERNANCE, api=True),
    Row("participants-api:withdrawals", "POST", expect(404, governance=201), api=True, data=CHECK),
]  # fmt: skip
RECORDS = {("participants:withdrawals", "confirm"), ("participants-api:withdrawals", "")}


@pytest.fixture
def releases(db):
    three = [person("P1"), person("P2"), person("P3")]
    return load("v1", three), load("v2", three)


@pytest.mark.parametrize(("row", "persona"), cases(ROWS))
def test_withdrawals_access(row, persona, persona_world, releases, client_for, api_client_for):
    response = check(row, persona, persona_world, client_for, api_client_for)
    records = (row.name, row.note) in RECORDS and row.method == "POST" and persona == "governance"
    assert RegisteredWithdrawal.objects.exists() == (records and response.status_code < 400)
    if response.status_code == 404 and not row.api:  # nothing of the register shows
        assert "Withdrawal register" not in response.content.decode()


# --- what the page says ------------------------------------------------------------------


def test_the_page_asks_for_confirmation_naming_the_releases_then_records(releases, governance_reviewer, client_for):
    client = client_for(governance_reviewer)
    url = reverse("participants:withdrawals")
    confirm = client.post(url, CHECK)
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert "Record this withdrawal?" in text and "releases v2, v1" in text and "cannot be undone" in text
    assert not RegisteredWithdrawal.objects.exists()

    done = client.post(url, {**CHECK, "confirm": "yes"}, follow=True)
    text = done.content.decode()
    assert "Withdrawal recorded. The participant is no longer used in v2, v1." in text
    assert "Saved cohorts flagged: 0" in text
    entry = RegisteredWithdrawal.objects.get()
    assert (entry.participant_id, entry.withdrawal_month, entry.source) == ("P2", "2025-01", "page")
    assert "<td>P2</td>" in text and "<td>2025-01</td>" in text and "<td>v2, v1</td>" in text
    assert AuditEvent.objects.filter(action=AuditAction.WITHDRAWALS_VIEWED, actor_id=governance_reviewer.pk).exists()
    assert "P2" not in set(release_usable(releases[1]).values_list("participant_id", flat=True))


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"participant_id": "P9", "withdrawal_month": "2025-01"}, "participant_id", "is not in any data release"),
        ({"participant_id": "P1", "withdrawal_month": "2025-13"}, "withdrawal_month", "is not a month written"),
        ({"participant_id": "P1", "withdrawal_month": "2017-01"}, "withdrawal_month", "records the consent"),
        ({"participant_id": "", "withdrawal_month": "2025-01"}, "participant_id", "This field is required"),
    ],
    ids=["unknown", "bad-month", "before-consent", "empty"],
)
def test_the_page_shows_each_problem_next_to_its_field_and_records_nothing(
    releases, governance_reviewer, client_for, data, field, words
):
    for confirm in ({}, {"confirm": "yes"}):
        response = client_for(governance_reviewer).post(reverse("participants:withdrawals"), {**data, **confirm})
        assert response.status_code == 400
        assert words in " ".join(response.context["form"].errors[field])
        assert f'id="id_{field}-error"' in response.content.decode()
    assert not RegisteredWithdrawal.objects.exists()


def test_the_page_says_when_there_is_nothing_to_record(releases, governance_reviewer, client_for):
    client = client_for(governance_reviewer)
    client.post(reverse("participants:withdrawals"), {**CHECK, "confirm": "yes"})
    again = client.post(reverse("participants:withdrawals"), CHECK)
    assert again.status_code == 400
    assert "may be used in no release already" in again.content.decode()
    assert RegisteredWithdrawal.objects.count() == 1


# --- what the API says ---------------------------------------------------------------------


def test_the_api_records_and_lists_withdrawals(releases, governance_reviewer, api_client_for):
    client = api_client_for(governance_reviewer)
    url = reverse("participants-api:withdrawals")
    created = client.post(url, json.dumps(CHECK), content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert {k: body[k] for k in ("participant_id", "withdrawal_month", "source", "recorded_by")} == {
        **CHECK,
        "source": "api",
        "recorded_by": governance_reviewer.email,
    }
    assert body["no_longer_usable_in"] == ["v2", "v1"]
    assert body["flagged"] == {"saved cohorts": 0, "analysis results": 0, "output requests": 0}
    listed = client.get(url).json()
    assert [(e["participant_id"], e["withdrawal_month"]) for e in listed["results"]] == [("P2", "2025-01")]

    again = client.post(url, json.dumps(CHECK), content_type="application/json")
    assert again.status_code == 409 and "nothing was recorded" in again.json()["detail"]
    bad = client.post(url, json.dumps({"participant_id": "P9", "withdrawal_month": "2025-1"}),
                      content_type="application/json")  # fmt: skip
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"withdrawal_month"}
    assert RegisteredWithdrawal.objects.count() == 1
