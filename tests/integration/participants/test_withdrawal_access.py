"""Who may see and record withdrawals: only governance reviewers; everyone
else gets 404 (the register's existence is not theirs to learn), anonymous
callers the sign-in page or 401. Then what the page and the API answer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from django.urls import get_resolver, reverse

from audit.models import AuditAction, AuditEvent
from participants.models import RegisteredWithdrawal
from participants.selectors import release_usable
from tests.integration.domains.conftest import PERSONAS
from tests.integration.participants.releases import load, person

pytestmark = pytest.mark.django_db

NOBODY_ELSE = dict.fromkeys(("researcher", "member", "lead", "other_lead", "output_checker"), 404)
CHECK = {"participant_id": "P2", "withdrawal_month": "2025-01"}


@dataclass
class Row:
    name: str
    method: str
    expected: dict[str, int]
    data: dict = field(default_factory=dict)
    records: bool = False  # a 2xx/3xx answer records the withdrawal


PAGES = [
    Row("participants:withdrawals", "GET", {"governance_reviewer": 200, **NOBODY_ELSE}),
    Row("participants:withdrawals", "POST", {"governance_reviewer": 200, **NOBODY_ELSE}, CHECK),
    Row("participants:withdrawals", "POST", {"governance_reviewer": 302, **NOBODY_ELSE}, {**CHECK, "confirm": "yes"},
        records=True),
]  # fmt: skip
ENDPOINTS = [
    Row("participants-api:withdrawals", "GET", {"governance_reviewer": 200, **NOBODY_ELSE}),
    Row("participants-api:withdrawals", "POST", {"governance_reviewer": 201, **NOBODY_ELSE}, CHECK, records=True),
]


@pytest.fixture
def releases(db):
    three = [person("P1"), person("P2"), person("P3")]
    return load("v1", three), load("v2", three)


def _cases(rows):
    return [pytest.param(row, p, id=f"{row.name} {row.method} {row.data.get('confirm', '')} as {p}")
            for row in rows for p in PERSONAS]  # fmt: skip


def _recorded(expected_status: int, row: Row) -> bool:
    return row.records and expected_status < 400


@pytest.mark.parametrize(("row", "persona"), _cases(PAGES))
def test_page_access(row, persona, people, releases, client_for):
    client = client_for(people[persona])
    url = reverse(row.name)
    response = client.get(url) if row.method == "GET" else client.post(url, row.data)
    if persona == "anonymous":
        assert response.status_code == 302 and "/accounts/sign-in/" in response["Location"]
        assert not RegisteredWithdrawal.objects.exists()
        return
    assert response.status_code == row.expected[persona]
    assert RegisteredWithdrawal.objects.exists() == _recorded(response.status_code, row)
    if response.status_code == 404:  # nothing of the register shows
        assert "Withdrawal register" not in response.content.decode()


@pytest.mark.parametrize(("row", "persona"), _cases(ENDPOINTS))
def test_api_access(row, persona, people, releases, api_client_for):
    client = api_client_for(people[persona])
    url = reverse(row.name)
    if row.method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, json.dumps(row.data), content_type="application/json")
    if persona == "anonymous":
        assert response.status_code == 401
        assert not RegisteredWithdrawal.objects.exists()
        return
    assert response.status_code == row.expected[persona], response.content[:300]
    assert RegisteredWithdrawal.objects.exists() == _recorded(response.status_code, row)


def test_every_withdrawal_route_has_a_row():
    resolver = get_resolver()
    names = set()
    for namespace in ("participants", "participants-api"):
        names |= {f"{namespace}:{n}" for n in resolver.namespace_dict[namespace][1].reverse_dict if isinstance(n, str)}
    assert names - {row.name for row in PAGES + ENDPOINTS} == set()


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
    assert body["no_longer_usable_in"] == ["v2", "v1"] and body["flagged"] == {"saved cohorts": 0}
    listed = client.get(url).json()
    assert [(e["participant_id"], e["withdrawal_month"]) for e in listed["results"]] == [("P2", "2025-01")]

    again = client.post(url, json.dumps(CHECK), content_type="application/json")
    assert again.status_code == 409 and "nothing was recorded" in again.json()["detail"]
    bad = client.post(url, json.dumps({"participant_id": "P9", "withdrawal_month": "2025-1"}),
                      content_type="application/json")  # fmt: skip
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"withdrawal_month"}
    assert RegisteredWithdrawal.objects.count() == 1
