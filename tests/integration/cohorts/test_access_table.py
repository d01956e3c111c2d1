"""Who may reach each cohort page and endpoint, for every persona of the one
persona set (tests/conftest.py). Only members of the cohort's project see it;
everyone else gets 404, never 403 or a leak."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse

from cohorts.models import Cohort
from cohorts.services import cohort_create
from tests.access import Row, cases, check, expect

pytestmark = pytest.mark.django_db

CRITERIA = {"include_all": [{"type": "programme", "values": ["cancer"]}]}
ONLY_THE_RESEARCHER = expect(404, researcher=200)


def _with_project(data: dict):
    return lambda world: {k: (world.approved_project.pk if v == "PROJECT" else v) for k, v in data.items()}


PAGES = [
    Row("cohorts:list", "GET", expect(200)),
    Row("cohorts:builder", "GET", ONLY_THE_RESEARCHER, args=("approved_project",)),
    Row("cohorts:builder", "POST", expect(404, researcher=302), args=("approved_project",),
        data={"programme": ["cancer"], "name": "Saved from the page"}),
    Row("cohorts:count", "POST", ONLY_THE_RESEARCHER, args=("approved_project",), data={"programme": ["cancer"]}),
    Row("cohorts:terms", "GET", ONLY_THE_RESEARCHER, args=("approved_project",), query="q=seizure"),
    Row("cohorts:genes", "GET", ONLY_THE_RESEARCHER, args=("approved_project",), query="gene=BRC"),
    Row("cohorts:detail", "GET", ONLY_THE_RESEARCHER, args=("cohort",)),
    Row("cohorts:share", "POST", expect(404, researcher=302), args=("cohort",), data={"project": "0"}),
    Row("cohorts:new-version", "POST", expect(404, researcher=302), args=("cohort",)),
    Row("cohorts:compare", "GET", ONLY_THE_RESEARCHER, query="a={a}&b={b}"),
]  # fmt: skip
ENDPOINTS = [
    Row("cohorts-api:count", "POST", ONLY_THE_RESEARCHER, api=True,
        data=_with_project({"project": "PROJECT", "criteria": CRITERIA})),
    Row("cohorts-api:list", "GET", expect(200), api=True),
    Row("cohorts-api:list", "POST", expect(404, researcher=201), api=True,
        data=_with_project({"project": "PROJECT", "name": "From the API", "criteria": CRITERIA})),
    Row("cohorts-api:detail", "GET", ONLY_THE_RESEARCHER, args=("cohort",), api=True),
    Row("cohorts-api:versions", "POST", expect(404, researcher=409), args=("cohort",), api=True),
]  # fmt: skip
ROWS = PAGES + ENDPOINTS


@dataclass
class CohortWorld:
    """The persona world with two saved cohorts of the approved project."""

    base: object
    cohort: Cohort
    second: Cohort

    def __getattr__(self, name):
        return getattr(self.base, name)


@pytest.fixture
def cohort_world(release, persona_world) -> CohortWorld:
    project = persona_world.approved_project
    owner = project.owner
    first = cohort_create(by=owner, project=project, name="Cancer", criteria_json=CRITERIA)
    second = cohort_create(by=owner, project=project, name="Female",
                           criteria_json={"include_all": [{"type": "sex", "values": ["female"]}]})  # fmt: skip
    return CohortWorld(base=persona_world, cohort=first, second=second)


@pytest.mark.parametrize(("row", "persona"), cases(ROWS))
def test_cohorts_access(row, persona, cohort_world, client_for, api_client_for):
    if row.query:
        row = Row(**{**row.__dict__, "query": row.query.format(a=cohort_world.cohort.pk, b=cohort_world.second.pk)})
    response = check(row, persona, cohort_world, client_for, api_client_for)
    if persona == "anonymous":
        return
    if row.name == "cohorts:list" and persona != "researcher":
        assert "Cancer" not in response.content.decode()
    if row.name == "cohorts-api:list" and row.method == "GET":
        names = {c["name"] for c in response.json()}
        assert names == ({"Cancer", "Female"} if persona == "researcher" else set())


def test_lapsed_accreditation_gets_an_explanation_not_the_cohort(cohort_world, client_for):
    researcher = cohort_world.people["researcher"]
    researcher.profile.training_completed_on = researcher.profile.training_completed_on.replace(year=2000)
    researcher.profile.save()
    response = client_for(researcher).get(reverse("cohorts:detail", args=[cohort_world.cohort.pk]))
    assert response.status_code == 403
    assert "training" in response.content.decode()


def test_a_shared_cohort_is_visible_to_the_other_projects_members(cohort_world, client_for):
    from cohorts.services import cohort_share
    from tests.factories.domains import ProjectFactory, add_to_project

    researcher = cohort_world.people["researcher"]
    other = ProjectFactory(domain=cohort_world.domain, owner=cohort_world.teammate, status="approved",
                           title="Sibling project")  # fmt: skip
    add_to_project(researcher, other)
    cohort_share(by=researcher, cohort=cohort_world.cohort, project=other)
    url = reverse("cohorts:detail", args=[cohort_world.cohort.pk])
    assert client_for(cohort_world.teammate).get(url).status_code == 200
    assert client_for(cohort_world.people["other_member"]).get(url).status_code == 404


def test_unknown_cohort_is_404_for_its_project_member_too(cohort_world, client_for):
    missing = Cohort.objects.order_by("-pk").first().pk + 100
    response = client_for(cohort_world.people["researcher"]).get(reverse("cohorts:detail", args=[missing]))
    assert response.status_code == 404
