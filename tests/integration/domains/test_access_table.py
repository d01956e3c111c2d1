"""Who gets what: every page and API endpoint of domains, for every persona
of the one persona set (tests/conftest.py; conventions in tests/access.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.access import Row, cases, check, expect

pytestmark = pytest.mark.django_db

APPLY = {"justification": "I work on inherited epilepsies and need this domain."}

PAGES = [
    Row("domains:directory", "GET", expect(200)),
    Row("domains:domain", "GET", expect(200), args=("domain",)),
    Row("domains:domain", "POST", expect(400, lead=302, other_member=302), args=("domain",), data=APPLY),
    Row("domains:review-queue", "GET", expect(404, lead=200)),
    Row("domains:application", "GET", expect(404, lead=200), args=("pending_application",)),
    Row("domains:application", "GET", expect(404, lead=200, researcher=200), args=("membership",)),
    Row("domains:application", "GET", expect(404), args=("other_domain_application",)),
    Row("domains:application-withdraw", "POST", expect(404, lead=403), args=("pending_application",)),
    Row(
        "domains:application-decide",
        "POST",
        expect(404, lead=302),
        args=("pending_application",),
        data={"decision": "approve", "reason": ""},
    ),
    Row(
        "domains:application-revoke",
        "POST",
        expect(404, lead=302, researcher=403),
        args=("membership",),
        data={"reason": "Left the institution."},
    ),
    Row("domains:my-projects", "GET", expect(200)),
    Row("domains:project-register", "GET", expect(200), public=True),
    Row("domains:project-new", "GET", expect(403, researcher=200), args=("domain",)),
    Row("domains:project", "GET", expect(404, researcher=200, lead=200), args=("submitted_project",)),
    Row("domains:project", "GET", expect(404, other_member=200), args=("other_domain_project",)),
    Row("domains:project-edit", "GET", expect(404, researcher=200, lead=403), args=("returned_project",)),
    Row("domains:project-edit", "GET", expect(404, researcher=409, lead=403), args=("submitted_project",)),
    Row(
        "domains:project-decide",
        "POST",
        expect(404, lead=302, researcher=403),
        args=("submitted_project",),
        data={"decision": "approve", "reason": ""},
    ),
    Row("domains:project-withdraw", "POST", expect(404, researcher=302, lead=403), args=("submitted_project",)),
    Row(
        "domains:project-member-add",
        "POST",
        expect(404, researcher=302, lead=403),
        args=("approved_project",),
        data=lambda world: {"user": world.colleague.pk},
    ),
    Row(
        "domains:project-member-remove",
        "POST",
        expect(404, researcher=302, lead=403),
        args=("approved_project", "teammate"),
    ),
    Row("domains:project-workspace", "GET", expect(404, researcher=200), args=("approved_project",)),
    Row("domains:project-workspace", "GET", expect(404, other_member=200), args=("other_domain_project",)),
]


def _project_in(world) -> dict:
    return {
        "domain": "neurology",
        "title": "Epilepsy genes",
        "lay_summary": "Looking for genes behind childhood epilepsy.",
        "aims": "Find them.",
        "data_needed": "Trio genomes.",
        "planned_outputs": "Gene-level counts.",
        "end_date": (timezone.localdate() + timedelta(days=365)).isoformat(),
    }


def _api(*args, **kwargs) -> Row:
    return Row(*args, api=True, **kwargs)


ENDPOINTS = [
    _api("api:domains", "GET", expect(200)),
    _api("api:applications", "GET", expect(200)),
    _api(
        "api:applications",
        "POST",
        expect(403, lead=201, other_member=201),
        data={"domain": "neurology", "justification": "I work on inherited epilepsies."},
    ),
    _api("api:application", "GET", expect(404, lead=200), args=("pending_application",)),
    _api("api:application", "GET", expect(404, lead=200, researcher=200), args=("membership",)),
    _api("api:application", "GET", expect(404), args=("other_domain_application",)),
    _api("api:application-withdraw", "POST", expect(404, lead=403), args=("pending_application",)),
    _api("api:application-approve", "POST", expect(404, lead=200), args=("pending_application",)),
    _api(
        "api:application-reject", "POST", expect(404, lead=200), args=("pending_application",), data={"reason": "No."}
    ),
    _api("api:review-applications", "GET", expect(200)),
    _api("api:projects", "GET", expect(200)),
    _api("api:projects", "POST", expect(403, researcher=201), data=_project_in),
    _api("api:project", "GET", expect(404, researcher=200, lead=200), args=("submitted_project",)),
    _api("api:project", "GET", expect(404, other_member=200), args=("other_domain_project",)),
    _api("api:project-approve", "POST", expect(404, lead=200, researcher=403), args=("submitted_project",)),
    _api(
        "api:project-reject",
        "POST",
        expect(404, lead=200, researcher=403),
        args=("submitted_project",),
        data={"reason": "No."},
    ),
    _api(
        "api:project-return",
        "POST",
        expect(404, lead=200, researcher=403),
        args=("submitted_project",),
        data={"reason": "More."},
    ),
    _api("api:project-withdraw", "POST", expect(404, researcher=200, lead=403), args=("submitted_project",)),
    _api("api:project-approve", "POST", expect(404, lead=409, researcher=403), args=("approved_project",)),
    _api("api:review-projects", "GET", expect(200)),
]

ROWS = PAGES + ENDPOINTS


@pytest.mark.parametrize(("row", "persona"), cases(ROWS))
def test_domains_access(row, persona, persona_world, client_for, api_client_for):
    check(row, persona, persona_world, client_for, api_client_for)


def test_review_lists_hold_only_the_leads_domain(persona_world, api_client_for):
    world = persona_world
    queue = api_client_for(world.people["lead"]).get("/api/v1/reviews/applications/").json()["results"]
    assert [row["id"] for row in queue] == [world.pending_application.pk]
    assert api_client_for(world.people["other_member"]).get("/api/v1/reviews/applications/").json()["results"] == []
