"""Who may reach each airlock page and endpoint, for every persona of the one
persona set (tests/conftest.py). The author (the researcher) acts on their own
request; the checker, on no project, reviews a teammate's submitted request;
everyone else gets 404, never a leak. Pending requests are invisible to
checkers; released files leave only to their author."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import Role
from airlock import services
from airlock.models import OutputRequest, RequestFile
from analysis.models import AnalysisJob, Artifact
from analysis.services import job_submit
from cohorts.services import cohort_create
from tests.access import Row, check, expect
from tests.conftest import PERSONAS, _persona
from tests.integration.airlock.conftest import CONTEXT, CONTROLS, EXPORT_JOB_TYPE, EXPORT_TABLE
from tests.integration.analysis.conftest import CANCER, data_root, eager, prepared_release, release  # noqa: F401

pytestmark = pytest.mark.django_db

AUTHOR = expect(404, researcher=200)
AUTHOR_ACTS = expect(404, researcher=302)


def _plot(world):
    return {"artifact": world.plot.pk, "context": CONTEXT, "controls": CONTROLS}


PAGES = [
    Row("airlock:project-outputs", "GET", AUTHOR, args=("approved_project",)),
    Row("airlock:new", "POST", AUTHOR_ACTS, args=("approved_project",)),
    Row("airlock:from-job", "GET", AUTHOR, args=("job",)),
    Row("airlock:from-job", "POST", AUTHOR_ACTS, args=("job",), data=_plot),
    Row("airlock:queue", "GET", expect(404, checker=200)),
    Row("airlock:request", "GET", AUTHOR, args=("pending",), note="pending"),
    Row("airlock:request", "GET", expect(404, researcher=200, checker=302), args=("submitted",), note="submitted"),
    Row("airlock:file-add", "POST", AUTHOR_ACTS, args=("pending",), data=_plot),
    Row("airlock:file-update", "POST", AUTHOR_ACTS, args=("pending", "pending_file"),
        data={"context": "New words", "controls": CONTROLS}),
    Row("airlock:file-replace", "POST", AUTHOR_ACTS, args=("pending", "pending_file"),
        data=lambda w: {"artifact": w.plot.pk}),
    Row("airlock:file-remove", "POST", AUTHOR_ACTS, args=("pending", "pending_file")),
    Row("airlock:submit", "POST", AUTHOR_ACTS, args=("pending",)),
    Row("airlock:withdraw", "POST", AUTHOR_ACTS, args=("pending",)),
    Row("airlock:review", "GET", expect(404, checker=200), args=("submitted",)),
    Row("airlock:vote", "POST", expect(404, researcher=403, checker=302), args=("submitted", "submitted_file"),
        data={"choice": "approve", "comment": "", "visibility": "private"}),
    Row("airlock:review-submit", "POST", expect(404, researcher=403, checker=302), args=("submitted",)),
    Row("airlock:decide", "POST", expect(404, researcher=403, checker=409), args=("submitted",),
        data={"decision": "approve"}),
    Row("airlock:download", "GET", expect(404, researcher=200, checker=403), args=("released", "released_file")),
    Row("airlock:record", "GET", expect(404, researcher=200, checker=403), args=("released",)),
]  # fmt: skip
ENDPOINTS = [
    Row("outputs-api:list", "GET", expect(200), api=True),
    Row("outputs-api:list", "POST", expect(404, researcher=400), api=True,
        data=lambda w: {"project": w.approved_project.pk}, note="one open request already"),
    Row("outputs-api:queue", "GET", expect(403, checker=200), api=True),
    Row("outputs-api:ledger", "GET", AUTHOR, api=True, query="project=PROJECT"),
    Row("outputs-api:detail", "GET", AUTHOR, args=("pending",), api=True),
    Row("outputs-api:detail", "GET", expect(404, researcher=200, checker=200), args=("submitted",), api=True,
        note="submitted"),
    Row("outputs-api:files", "POST", expect(404, researcher=201), args=("pending",), api=True, data=_plot),
    Row("outputs-api:file", "PATCH", AUTHOR, args=("pending", "pending_file"), api=True,
        data={"context": "New words"}),
    Row("outputs-api:file", "DELETE", AUTHOR, args=("pending", "pending_file"), api=True),
    Row("outputs-api:file-replace", "POST", AUTHOR, args=("pending", "pending_file"), api=True,
        data=lambda w: {"artifact": w.plot.pk, "format": "svg"}),
    Row("outputs-api:checks", "GET", expect(404, researcher=200, checker=200), args=("submitted",), api=True),
    Row("outputs-api:submit", "POST", AUTHOR, args=("pending",), api=True),
    Row("outputs-api:withdraw", "POST", AUTHOR, args=("pending",), api=True),
    Row("outputs-api:vote", "POST", expect(404, researcher=403, checker=200), args=("submitted", "submitted_file"),
        api=True, data={"choice": "approve"}),
    Row("outputs-api:review", "POST", expect(404, researcher=403, checker=200), args=("submitted",), api=True),
    Row("outputs-api:decide", "POST", expect(404, researcher=403, checker=409), args=("submitted",), api=True,
        data={"decision": "approve"}),
    Row("outputs-api:download", "GET", expect(404, researcher=200, checker=403), args=("released", "released_file"),
        api=True),
    Row("outputs-api:record", "GET", expect(404, researcher=200, checker=403), args=("released",), api=True),
]  # fmt: skip
ROWS = PAGES + ENDPOINTS


@dataclass
class AirlockWorld:
    base: object
    job: AnalysisJob
    plot: Artifact
    pending: OutputRequest
    pending_file: RequestFile
    submitted: OutputRequest
    submitted_file: RequestFile
    released: OutputRequest
    released_file: RequestFile

    def __getattr__(self, name):
        return getattr(self.base, name)


@pytest.fixture
def airlock_world(release, data_root, persona_world, eager) -> AirlockWorld:  # noqa: F811
    project = persona_world.approved_project
    author, teammate, checker = project.owner, persona_world.teammate, persona_world.people["checker"]
    second = _persona(Role.OUTPUT_CHECKER, email="carl@example.org", full_name="Carl Checker")
    cohort = cohort_create(by=author, project=project, name="Cancer", criteria_json=CANCER)
    with eager():
        job = job_submit(by=author, project=project, job_type=EXPORT_JOB_TYPE, inputs=[("cohort", cohort)],
                         parameters={})  # fmt: skip
    job = AnalysisJob.objects.get(pk=job.pk)
    assert job.status == "succeeded", job.error
    table = job.artifacts.get(key=EXPORT_TABLE)
    plot = job.artifacts.filter(kind="plot").first()

    def made(by, *, submit: bool) -> tuple[OutputRequest, RequestFile]:
        request = services.request_create(by=by, project=project)
        file = services.request_file_add(by=by, request=request, artifact=table, context=CONTEXT, controls=CONTROLS)
        if submit:
            request = services.request_submit(by=by, request=request)
        return request, file

    released, released_file = made(author, submit=True)
    for reviewer in (checker, second):
        services.vote_cast(by=reviewer, file=released_file, choice="approve")
        services.review_submit(by=reviewer, request=released)
    with eager():
        services.request_decide(by=second, request=released, decision="approve")
    released.refresh_from_db()
    assert released.status == "released"
    pending, pending_file = made(author, submit=False)
    submitted, submitted_file = made(teammate, submit=True)
    services.vote_cast(by=checker, file=submitted_file, choice="approve")
    return AirlockWorld(persona_world, job, plot, pending, pending_file, submitted, submitted_file, released,
                        released_file)  # fmt: skip


ORDER = [p for p in PERSONAS if p != "researcher"] + ["researcher"]


@pytest.mark.parametrize("row", [pytest.param(row, id=row.id) for row in ROWS])
def test_airlock_access(row, airlock_world, client_for, api_client_for):
    if "PROJECT" in row.query:
        row = Row(**{**row.__dict__, "query": row.query.replace("PROJECT", str(airlock_world.approved_project.pk))})
    for persona in ORDER:
        response = check(row, persona, airlock_world, client_for, api_client_for)
        if persona in ("anonymous", "researcher", "checker"):
            continue
        if row.name == "outputs-api:list":
            assert response.json() == [] if row.method == "GET" else True
