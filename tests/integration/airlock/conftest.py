"""A loaded release, the small world of the domains tests, saved cohorts, a
finished job of the project, two more output checkers, and helpers that take
a request through the airlock's steps with the real services."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import Role
from analysis.models import AnalysisJob, Artifact
from analysis.services import job_submit
from tests.conftest import _persona

# The release, the personas, saved cohorts and the ways to run jobs of the analysis tests.
from tests.integration.analysis.conftest import (  # noqa: F401
    CANCER,
    FEMALE,
    applicant,
    cohorts,
    data_root,
    domain,
    eager,
    lead,
    member,
    other_domain,
    other_lead,
    people,
    prepared_release,
    release,
    world,
)

# The job type the airlock tests export from: one that exists on main. Another
# type (an association result) is swapped in by changing these two names.
EXPORT_JOB_TYPE = "cohort-summary"
EXPORT_TABLE = "summary"


@pytest.fixture
def checkers(db, output_checker):
    """Three output checkers on no project: the world's and two more."""
    second = _persona(Role.OUTPUT_CHECKER, email="checker2@example.org", full_name="Carl Checker")
    third = _persona(Role.OUTPUT_CHECKER, email="checker3@example.org", full_name="Cora Checker")
    return output_checker, second, third


def run_job(project, cohort_list, eager, job_type=EXPORT_JOB_TYPE, parameters=None) -> AnalysisJob:  # noqa: F811
    with eager():
        job = job_submit(by=project.owner, project=project, job_type=job_type,
                         inputs=[("cohort", c) for c in cohort_list], parameters=parameters or {})  # fmt: skip
    job = AnalysisJob.objects.get(pk=job.pk)
    assert job.status == "succeeded", job.error
    return job


@dataclass
class Finished:
    job: AnalysisJob
    table: Artifact
    plot: Artifact


@pytest.fixture
def finished(world, cohorts, eager) -> Finished:  # noqa: F811
    """A finished job of the approved project (its owner is ``world.approved_project.owner``)."""
    job = run_job(world.approved_project, [cohorts[0]], eager)
    table = job.artifacts.get(key=EXPORT_TABLE)
    plot = job.artifacts.filter(kind="plot", source=table).first()
    return Finished(job, table, plot)


CONTEXT = "Participants of the cohort by sex and age band, for the paper's table 1."
CONTROLS = "Counts below 5 suppressed, all counts rounded to 5 (the portal's policy)."
