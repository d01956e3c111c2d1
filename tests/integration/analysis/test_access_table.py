"""Who may reach each analysis page and endpoint, for every persona of the one
persona set (tests/conftest.py). Only members of the job's project see it;
everyone else gets 404, never 403 or a leak."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.urls import reverse

from analysis.models import AnalysisJob
from analysis.services import job_submit
from cohorts.models import Cohort
from cohorts.services import cohort_create
from tests.access import Row, check, expect
from tests.conftest import PERSONAS
from tests.integration.analysis.conftest import CANCER

pytestmark = pytest.mark.django_db

ONLY_THE_RESEARCHER = expect(404, researcher=200)
EVERYONE = expect(200)


def _filled(data: dict):
    """Row data with the world's project ("PROJECT") and cohort ("COHORT") filled in."""

    def fill(value, world):
        if value == "PROJECT":
            return world.approved_project.pk
        if value == "COHORT":
            return world.cohort.pk
        if isinstance(value, list):
            return [fill(v, world) for v in value]
        if isinstance(value, dict):
            return {k: fill(v, world) for k, v in value.items()}
        return value

    return lambda world: fill(data, world)


SUMMARY_JOB = {"project": "PROJECT", "job_type": "cohort-summary", "cohorts": [{"cohort": "COHORT", "role": "cohort"}]}

PAGES = [
    Row("analysis:new", "GET", ONLY_THE_RESEARCHER, args=("approved_project",)),
    Row("analysis:new", "GET", ONLY_THE_RESEARCHER, args=("approved_project",), query="type=allele-frequencies",
        note="allele frequencies"),
    Row("analysis:new", "POST", expect(404, researcher=302), args=("approved_project",),
        data=_filled({"type": "cohort-summary", "role_cohort": "COHORT"})),
    Row("analysis:estimate", "POST", ONLY_THE_RESEARCHER, args=("approved_project",),
        data=_filled({"type": "cohort-summary", "role_cohort": "COHORT"})),
    Row("analysis:project-jobs", "GET", ONLY_THE_RESEARCHER, args=("approved_project",)),
    Row("analysis:from-cohort", "GET", expect(404, researcher=302), args=("cohort",)),
    Row("analysis:my-jobs", "GET", EVERYONE),
    Row("analysis:job", "GET", ONLY_THE_RESEARCHER, args=("job",)),
    Row("analysis:job-progress", "GET", ONLY_THE_RESEARCHER, args=("job",)),
    Row("analysis:job-row", "GET", ONLY_THE_RESEARCHER, args=("job",)),
    Row("analysis:job-cancel", "POST", expect(404, researcher=302), args=("job",)),
    Row("analysis:job-retry", "POST", expect(404, researcher=302), args=("job",)),
    Row("analysis:job-table", "GET", ONLY_THE_RESEARCHER, args=("job", "summary_table")),
]  # fmt: skip
ENDPOINTS = [
    Row("jobs-api:list", "GET", EVERYONE, api=True),
    Row("jobs-api:list", "POST", expect(404, researcher=201), api=True, data=_filled(SUMMARY_JOB)),
    Row("jobs-api:types", "GET", EVERYONE, api=True),
    Row("jobs-api:estimate", "POST", ONLY_THE_RESEARCHER, api=True, data=_filled(SUMMARY_JOB)),
    Row("jobs-api:detail", "GET", ONLY_THE_RESEARCHER, args=("job",), api=True),
    Row("jobs-api:cancel", "POST", expect(404, researcher=409), args=("job",), api=True),
    Row("jobs-api:retry", "POST", expect(404, researcher=409), args=("job",), api=True),
    Row("jobs-api:artifacts", "GET", ONLY_THE_RESEARCHER, args=("job",), api=True),
    Row("jobs-api:rows", "GET", ONLY_THE_RESEARCHER, args=("job", "summary_table"), api=True),
]  # fmt: skip
ROWS = PAGES + ENDPOINTS


@dataclass
class JobWorld:
    """The persona world with a saved cohort of the approved project and a finished job on it."""

    base: object
    cohort: Cohort
    job: AnalysisJob
    summary_table: object  # the job's summary table, by its key

    def __getattr__(self, name):
        return getattr(self.base, name)


@pytest.fixture
def job_world(release, data_root, persona_world, eager) -> JobWorld:
    project = persona_world.approved_project
    cohort = cohort_create(by=project.owner, project=project, name="Cancer", criteria_json=CANCER)
    with eager():
        job = job_submit(by=project.owner, project=project, job_type="cohort-summary",
                         inputs=[("cohort", cohort)], parameters={})  # fmt: skip
    job = AnalysisJob.objects.get(pk=job.pk)
    assert job.status == "succeeded", job.error
    return JobWorld(base=persona_world, cohort=cohort, job=job, summary_table=SimpleNamespace(slug="summary"))


# One test per row, every persona in turn (the researcher last, since some rows
# act): a finished job costs a release and a run to set up.
ORDER = [p for p in PERSONAS if p != "researcher"] + ["researcher"]


@pytest.mark.parametrize("row", [pytest.param(row, id=row.id) for row in ROWS])
def test_analysis_access(row, job_world, client_for, api_client_for):
    for persona in ORDER:
        response = check(row, persona, job_world, client_for, api_client_for)
        if persona in ("anonymous", "researcher"):
            continue
        if row.name == "analysis:my-jobs":
            assert f"Job {job_world.job.pk}" not in response.content.decode()
        if row.name == "jobs-api:list" and row.method == "GET":
            assert job_world.job.pk not in {j["id"] for j in response.json()}
    if row.name == "jobs-api:list" and row.method == "GET":
        assert job_world.job.pk in {j["id"] for j in response.json()}


def test_lapsed_accreditation_gets_an_explanation_not_the_job(job_world, client_for):
    researcher = job_world.people["researcher"]
    researcher.profile.training_completed_on = researcher.profile.training_completed_on.replace(year=2000)
    researcher.profile.save()
    response = client_for(researcher).get(reverse("analysis:job", args=[job_world.job.pk]))
    assert response.status_code == 403
    assert "training" in response.content.decode()


def test_a_teammate_on_the_project_may_open_its_jobs(job_world, client_for):
    assert client_for(job_world.teammate).get(reverse("analysis:job", args=[job_world.job.pk])).status_code == 200
