"""Who gets what: every page and API endpoint of domains, for every persona.

Objects a persona may not see answer 404, never 403; 403 means "you can see
this, but this action is not yours"; 409 "not in this state". A URL name in
the ``domains`` or ``api`` namespaces without a row here fails
``test_every_route_has_a_row``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone

from tests.integration.domains.conftest import PERSONAS

pytestmark = pytest.mark.django_db

SIGNED_IN = [p for p in PERSONAS if p != "anonymous"]


def expect(default: int, **overrides: int) -> dict[str, int]:
    return {persona: overrides.get(persona, default) for persona in SIGNED_IN}


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    expected: dict[str, int]
    obj: str = ""  # attribute of the World passed as pk (or slug for domains)
    data: dict = field(default_factory=dict)
    extra: tuple = ()
    public: bool = False  # signed-out visitors get the page too

    @property
    def id(self) -> str:
        return f"{self.method} {self.name}{' ' + self.obj if self.obj else ''}"


PAGES = [
    Row("domains:directory", "GET", expect(200)),
    Row("domains:domain", "GET", expect(200), obj="domain"),
    Row(
        "domains:domain",
        "POST",
        expect(302, member=400, output_checker=400, governance_reviewer=400),
        obj="domain",
        data={"justification": "I work on inherited epilepsies and need this domain."},
    ),
    Row("domains:review-queue", "GET", expect(404, lead=200, other_lead=200)),
    Row("domains:application", "GET", expect(404, lead=200), obj="pending_application"),
    Row("domains:application", "GET", expect(404, lead=200, member=200), obj="membership"),
    Row("domains:application", "GET", expect(404, other_lead=200), obj="other_domain_application"),
    Row("domains:application-withdraw", "POST", expect(404, lead=403), obj="pending_application"),
    Row(
        "domains:application-decide",
        "POST",
        expect(404, lead=302),
        obj="pending_application",
        data={"decision": "approve", "reason": ""},
    ),
    Row(
        "domains:application-revoke",
        "POST",
        expect(404, lead=302, member=403),
        obj="membership",
        data={"reason": "Left the institution."},
    ),
    Row("domains:my-projects", "GET", expect(200)),
    Row("domains:project-register", "GET", expect(200), public=True),
    Row("domains:project-new", "GET", expect(403, member=200), obj="domain"),
    Row("domains:project", "GET", expect(404, member=200, lead=200), obj="submitted_project"),
    Row("domains:project", "GET", expect(404, other_lead=200), obj="other_domain_project"),
    Row("domains:project-edit", "GET", expect(404, member=200, lead=403), obj="returned_project"),
    Row("domains:project-edit", "GET", expect(404, member=409, lead=403), obj="submitted_project"),
    Row(
        "domains:project-decide",
        "POST",
        expect(404, lead=302, member=403),
        obj="submitted_project",
        data={"decision": "approve", "reason": ""},
    ),
    Row("domains:project-withdraw", "POST", expect(404, member=302, lead=403), obj="submitted_project"),
    Row(
        "domains:project-member-add",
        "POST",
        expect(404, member=302, lead=403),
        obj="approved_project",
        data={"user": "colleague"},
    ),
    Row(
        "domains:project-member-remove",
        "POST",
        expect(404, member=302, lead=403),
        obj="approved_project",
        extra=("teammate",),
    ),
    Row("domains:project-workspace", "GET", expect(404, member=200), obj="approved_project"),
    Row("api-docs", "GET", expect(200)),  # the API's documentation: a page, behind the sign-in
]

_PROJECT_IN = {
    "domain": "neurology",
    "title": "Epilepsy genes",
    "lay_summary": "Looking for genes behind childhood epilepsy.",
    "aims": "Find them.",
    "data_needed": "Trio genomes.",
    "planned_outputs": "Gene-level counts.",
    "end_date": (timezone.localdate() + timedelta(days=365)).isoformat(),
}

ENDPOINTS = [
    Row("api:domains", "GET", expect(200)),
    Row("api:applications", "GET", expect(200)),
    Row(
        "api:applications",
        "POST",
        expect(201, member=403, output_checker=403, governance_reviewer=403),
        data={"domain": "neurology", "justification": "I work on inherited epilepsies."},
    ),
    Row("api:application", "GET", expect(404, lead=200), obj="pending_application"),
    Row("api:application-withdraw", "POST", expect(404, lead=403), obj="pending_application"),
    Row("api:application-approve", "POST", expect(404, lead=200), obj="pending_application"),
    Row("api:application-reject", "POST", expect(404, lead=200), obj="pending_application", data={"reason": "No."}),
    Row("api:application", "GET", expect(404, other_lead=200), obj="other_domain_application"),
    Row("api:review-applications", "GET", expect(200)),
    Row("api:projects", "GET", expect(200)),
    Row("api:projects", "POST", expect(403, member=201), data=_PROJECT_IN),
    Row("api:project", "GET", expect(404, member=200, lead=200), obj="submitted_project"),
    Row("api:project-approve", "POST", expect(404, lead=200, member=403), obj="submitted_project"),
    Row(
        "api:project-reject", "POST", expect(404, lead=200, member=403), obj="submitted_project", data={"reason": "No."}
    ),
    Row(
        "api:project-return",
        "POST",
        expect(404, lead=200, member=403),
        obj="submitted_project",
        data={"reason": "More."},
    ),
    Row("api:project-withdraw", "POST", expect(404, member=200, lead=403), obj="submitted_project"),
    Row("api:project-approve", "POST", expect(404, lead=409, member=403), obj="approved_project"),
    Row("api:review-projects", "GET", expect(200)),
    Row("api-schema", "GET", expect(200)),
]


def _url(row: Row, world) -> str:
    args: list = []
    if row.obj:
        obj = getattr(world, row.obj)
        args.append(obj.slug if row.obj.endswith("domain") else obj.pk)
    args += [getattr(world, name).pk for name in row.extra]
    return reverse(row.name, args=args)


def _data(row: Row, world) -> dict:
    return {key: getattr(world, value).pk if key == "user" else value for key, value in row.data.items()}


def _cases(rows):
    return [pytest.param(row, persona, id=f"{row.id} as {persona}") for row in rows for persona in PERSONAS]


@pytest.mark.parametrize(("row", "persona"), _cases(PAGES))
def test_page_access(row, persona, world, people, client_for):
    client = client_for(people[persona])
    url = _url(row, world)
    response = client.get(url) if row.method == "GET" else client.post(url, _data(row, world))
    if persona == "anonymous" and row.public:
        assert response.status_code == 200
        return
    if persona == "anonymous":
        assert response.status_code == 302 and "/accounts/sign-in/" in response["Location"]
        return
    assert response.status_code == row.expected[persona]


@pytest.mark.parametrize(("row", "persona"), _cases(ENDPOINTS))
def test_api_access(row, persona, world, people, api_client_for):
    client = api_client_for(people[persona])
    url = _url(row, world)
    if row.method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, _data(row, world), content_type="application/json")
    if persona == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == row.expected[persona], response.content[:300]


def test_every_route_has_a_row():
    resolver = get_resolver()
    names = set()
    for namespace in ("domains", "api"):
        names |= {
            f"{namespace}:{name}"
            for name in resolver.namespace_dict[namespace][1].reverse_dict
            if isinstance(name, str)
        }
    names |= {"api-schema", "api-docs"}
    covered = {row.name for row in PAGES + ENDPOINTS}
    assert names - covered == set(), "routes without a row in the access table"
