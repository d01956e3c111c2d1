"""Who may reach each cohort page and endpoint. Others get 404, never 403 or a leak."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from django.urls import get_resolver, reverse

from cohorts.models import Cohort
from cohorts.services import cohort_create

PERSONAS = ["anonymous", "researcher", "member", "lead", "other_lead", "output_checker", "governance_reviewer"]
NOBODY_ELSE = {"researcher": 404, "lead": 404, "other_lead": 404, "output_checker": 404, "governance_reviewer": 404}
CRITERIA = {"include_all": [{"type": "programme", "values": ["cancer"]}]}


@dataclass
class Row:
    name: str
    method: str
    expected: dict[str, int]
    args: str = ""  # "project", "cohort" or "compare"
    data: dict = field(default_factory=dict)


PAGES = [
    Row("cohorts:list", "GET", {"member": 200, **dict.fromkeys(NOBODY_ELSE, 200)}),
    Row("cohorts:builder", "GET", {"member": 200, **NOBODY_ELSE}, "project"),
    Row("cohorts:builder", "POST", {"member": 302, **NOBODY_ELSE}, "project",
        {"programme": ["cancer"], "name": "Saved from the page"}),
    Row("cohorts:count", "POST", {"member": 200, **NOBODY_ELSE}, "project", {"programme": ["cancer"]}),
    Row("cohorts:terms", "GET", {"member": 200, **NOBODY_ELSE}, "project", {"q": "seizure"}),
    Row("cohorts:genes", "GET", {"member": 200, **NOBODY_ELSE}, "project", {"gene": "BRC"}),
    Row("cohorts:detail", "GET", {"member": 200, **NOBODY_ELSE}, "cohort"),
    Row("cohorts:share", "POST", {"member": 302, **NOBODY_ELSE}, "cohort", {"project": "0"}),
    Row("cohorts:new-version", "POST", {"member": 302, **NOBODY_ELSE}, "cohort"),
    Row("cohorts:compare", "GET", {"member": 200, **NOBODY_ELSE}, "compare"),
]  # fmt: skip
ENDPOINTS = [
    Row("cohorts-api:count", "POST", {"member": 200, **NOBODY_ELSE}, "", {"project": "PROJECT", "criteria": CRITERIA}),
    Row("cohorts-api:list", "GET", {"member": 200, **dict.fromkeys(NOBODY_ELSE, 200)}),
    Row("cohorts-api:list", "POST", {"member": 201, **NOBODY_ELSE}, "",
        {"project": "PROJECT", "name": "From the API", "criteria": CRITERIA}),
    Row("cohorts-api:detail", "GET", {"member": 200, **NOBODY_ELSE}, "cohort"),
    Row("cohorts-api:versions", "POST", {"member": 409, **NOBODY_ELSE}, "cohort"),
]  # fmt: skip


@pytest.fixture
def cohorts(release, world):
    project = world.approved_project
    first = cohort_create(by=world.approved_project.owner, project=project, name="Cancer", criteria_json=CRITERIA)
    second = cohort_create(by=project.owner, project=project, name="Female",
                           criteria_json={"include_all": [{"type": "sex", "values": ["female"]}]})  # fmt: skip
    return first, second


def _url(row: Row, world, cohorts) -> str:
    if row.args == "project":
        return reverse(row.name, args=[world.approved_project.pk])
    if row.args == "cohort":
        return reverse(row.name, args=[cohorts[0].pk])
    if row.args == "compare":
        return reverse(row.name) + f"?a={cohorts[0].pk}&b={cohorts[1].pk}"
    return reverse(row.name)


def _data(row: Row, world) -> dict:
    return {k: (world.approved_project.pk if v == "PROJECT" else v) for k, v in row.data.items()}


def _cases(rows):
    return [pytest.param(row, p, id=f"{row.name} {row.method} as {p}") for row in rows for p in PERSONAS]


@pytest.mark.parametrize(("row", "persona"), _cases(PAGES))
def test_page_access(row, persona, world, people, cohorts, client_for):
    client = client_for(people[persona])
    url = _url(row, world, cohorts)
    response = client.get(url, _data(row, world)) if row.method == "GET" else client.post(url, _data(row, world))
    if persona == "anonymous":
        assert response.status_code == 302 and "/accounts/sign-in/" in response["Location"]
        return
    assert response.status_code == row.expected[persona]
    if row.name == "cohorts:list" and persona != "member":
        assert "Cancer" not in response.content.decode()


@pytest.mark.parametrize(("row", "persona"), _cases(ENDPOINTS))
def test_api_access(row, persona, world, people, cohorts, api_client_for):
    client = api_client_for(people[persona])
    url = _url(row, world, cohorts)
    if row.method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, json.dumps(_data(row, world)), content_type="application/json")
    if persona == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == row.expected[persona], response.content[:300]
    if row.name == "cohorts-api:list" and row.method == "GET":
        names = {c["name"] for c in response.json()}
        assert names == ({"Cancer", "Female"} if persona == "member" else set())


def test_lapsed_accreditation_gets_an_explanation_not_the_cohort(world, people, cohorts, client_for):
    member = people["member"]
    member.profile.training_completed_on = member.profile.training_completed_on.replace(year=2000)
    member.profile.save()
    response = client_for(member).get(reverse("cohorts:detail", args=[cohorts[0].pk]))
    assert response.status_code == 403
    assert "training" in response.content.decode()


def test_a_shared_cohort_is_visible_to_the_other_projects_members(world, people, cohorts, client_for):
    from cohorts.services import cohort_share
    from tests.factories.domains import ProjectFactory, add_to_project

    other = ProjectFactory(domain=world.domain, owner=world.teammate, status="approved", title="Sibling project")
    add_to_project(people["member"], other)
    cohort_share(by=people["member"], cohort=cohorts[0], project=other)
    assert client_for(world.teammate).get(reverse("cohorts:detail", args=[cohorts[0].pk])).status_code == 200
    assert client_for(people["researcher"]).get(reverse("cohorts:detail", args=[cohorts[0].pk])).status_code == 404


def test_every_cohort_route_has_a_row():
    resolver = get_resolver()
    names = set()
    for namespace in ("cohorts", "cohorts-api"):
        names |= {f"{namespace}:{n}" for n in resolver.namespace_dict[namespace][1].reverse_dict if isinstance(n, str)}
    assert names - {row.name for row in PAGES + ENDPOINTS} == set()


def test_unknown_cohort_is_404_for_its_project_member_too(world, people, cohorts, client_for):
    missing = Cohort.objects.order_by("-pk").first().pk + 100
    assert client_for(people["member"]).get(reverse("cohorts:detail", args=[missing])).status_code == 404
