"""Who may reach each analysis page and endpoint, for every persona. Others get 404, never 403 or a leak."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from django.urls import get_resolver, reverse

from analysis.models import AnalysisJob
from analysis.services import job_submit

PERSONAS = ["anonymous", "researcher", "member", "lead", "other_lead", "output_checker", "governance_reviewer"]
NOBODY_ELSE = {"researcher": 404, "lead": 404, "other_lead": 404, "output_checker": 404, "governance_reviewer": 404}
EVERYONE = dict.fromkeys(NOBODY_ELSE, 200)


@dataclass
class Row:
    name: str
    method: str
    expected: dict[str, int]
    args: str = ""  # "project", "job", "cohort", "table"
    data: dict = field(default_factory=dict)
    query: str = ""


PAGES = [
    Row("analysis:new", "GET", {"member": 200, **NOBODY_ELSE}, "project"),
    Row("analysis:new", "GET", {"member": 200, **NOBODY_ELSE}, "project", query="?type=allele-frequencies"),
    Row("analysis:new", "POST", {"member": 302, **NOBODY_ELSE}, "project",
        {"type": "cohort-summary", "role_cohort": "COHORT"}),
    Row("analysis:estimate", "POST", {"member": 200, **NOBODY_ELSE}, "project",
        {"type": "cohort-summary", "role_cohort": "COHORT"}),
    Row("analysis:project-jobs", "GET", {"member": 200, **NOBODY_ELSE}, "project"),
    Row("analysis:from-cohort", "GET", {"member": 302, **NOBODY_ELSE}, "cohort"),
    Row("analysis:my-jobs", "GET", {"member": 200, **EVERYONE}),
    Row("analysis:job", "GET", {"member": 200, **NOBODY_ELSE}, "job"),
    Row("analysis:job-progress", "GET", {"member": 200, **NOBODY_ELSE}, "job"),
    Row("analysis:job-row", "GET", {"member": 200, **NOBODY_ELSE}, "job"),
    Row("analysis:job-cancel", "POST", {"member": 302, **NOBODY_ELSE}, "job"),
    Row("analysis:job-retry", "POST", {"member": 302, **NOBODY_ELSE}, "job"),
    Row("analysis:job-table", "GET", {"member": 200, **NOBODY_ELSE}, "table"),
]  # fmt: skip
ENDPOINTS = [
    Row("jobs-api:list", "GET", {"member": 200, **EVERYONE}),
    Row("jobs-api:list", "POST", {"member": 201, **NOBODY_ELSE}, "",
        {"project": "PROJECT", "job_type": "cohort-summary", "cohorts": [{"cohort": "COHORT", "role": "cohort"}]}),
    Row("jobs-api:types", "GET", {"member": 200, **EVERYONE}),
    Row("jobs-api:estimate", "POST", {"member": 200, **NOBODY_ELSE}, "",
        {"project": "PROJECT", "job_type": "cohort-summary", "cohorts": [{"cohort": "COHORT", "role": "cohort"}]}),
    Row("jobs-api:detail", "GET", {"member": 200, **NOBODY_ELSE}, "job"),
    Row("jobs-api:cancel", "POST", {"member": 409, **NOBODY_ELSE}, "job"),
    Row("jobs-api:retry", "POST", {"member": 409, **NOBODY_ELSE}, "job"),
    Row("jobs-api:artifacts", "GET", {"member": 200, **NOBODY_ELSE}, "job"),
    Row("jobs-api:rows", "GET", {"member": 200, **NOBODY_ELSE}, "table"),
]  # fmt: skip


@pytest.fixture
def finished_job(world, cohorts, eager):
    with eager():
        job = job_submit(by=world.approved_project.owner, project=world.approved_project, job_type="cohort-summary",
                         inputs=[("cohort", cohorts[0])], parameters={})  # fmt: skip
    job = AnalysisJob.objects.get(pk=job.pk)
    assert job.status == "succeeded", job.error
    return job


def _url(row: Row, world, cohorts, job) -> str:
    args = {
        "project": [world.approved_project.pk],
        "job": [job.pk],
        "cohort": [cohorts[0].pk],
        "table": [job.pk, "summary"],
        "": [],
    }[row.args]
    return reverse(row.name, args=args) + row.query


def _data(row: Row, world, cohorts) -> dict:
    def fill(value):
        if value == "PROJECT":
            return world.approved_project.pk
        if value == "COHORT":
            return cohorts[0].pk
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    return fill(row.data)


def _cases(rows):
    return [pytest.param(row, id=f"{row.name} {row.method}{row.query}") for row in rows]


# One test per row, every persona in turn (members last, since some rows act):
# a finished job costs a release, a world and a run to set up.
ORDER = [p for p in PERSONAS if p != "member"] + ["member"]


@pytest.mark.parametrize("row", _cases(PAGES))
def test_page_access(row, world, people, cohorts, finished_job, client_for):
    url = _url(row, world, cohorts, finished_job)
    seen = {}
    for persona in ORDER:
        client = client_for(people[persona])
        response = client.get(url) if row.method == "GET" else client.post(url, _data(row, world, cohorts))
        if persona == "anonymous":
            assert response.status_code == 302 and "/accounts/sign-in/" in response["Location"]
            continue
        seen[persona] = response.status_code
        if row.name == "analysis:my-jobs" and persona != "member":
            assert f"Job {finished_job.pk}" not in response.content.decode()
    assert seen == row.expected


@pytest.mark.parametrize("row", _cases(ENDPOINTS))
def test_api_access(row, world, people, cohorts, finished_job, api_client_for):
    url = _url(row, world, cohorts, finished_job)
    seen = {}
    for persona in ORDER:
        client = api_client_for(people[persona])
        if row.method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, json.dumps(_data(row, world, cohorts)), content_type="application/json")
        if persona == "anonymous":
            assert response.status_code == 401
            continue
        seen[persona] = response.status_code
        if row.name == "jobs-api:list" and row.method == "GET":
            ids = {j["id"] for j in response.json()}
            assert (finished_job.pk in ids) == (persona == "member")
    assert seen == row.expected


def test_lapsed_accreditation_gets_an_explanation_not_the_job(world, people, finished_job, client_for):
    member = people["member"]
    member.profile.training_completed_on = member.profile.training_completed_on.replace(year=2000)
    member.profile.save()
    response = client_for(member).get(reverse("analysis:job", args=[finished_job.pk]))
    assert response.status_code == 403
    assert "training" in response.content.decode()


def test_a_teammate_on_the_project_may_open_its_jobs(world, finished_job, client_for):
    assert client_for(world.teammate).get(reverse("analysis:job", args=[finished_job.pk])).status_code == 200


def test_every_analysis_route_has_a_row():
    resolver = get_resolver()
    names = set()
    for namespace in ("analysis", "jobs-api"):
        names |= {f"{namespace}:{n}" for n in resolver.namespace_dict[namespace][1].reverse_dict if isinstance(n, str)}
    assert names - {row.name for row in PAGES + ENDPOINTS} == set()
