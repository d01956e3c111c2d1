"""The release after approval is queued after commit and done by a real Celery
worker process over Redis; a second delivery of the task does nothing."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.models import Role
from airlock import services
from airlock.models import OutputRequest, Release
from airlock.tasks import release_request
from analysis.services import job_submit
from cohorts.services import cohort_create
from participants.models import HpoTerm
from participants.ontology import ontology_write_tables
from portal.celery import app
from tests.conftest import _persona
from tests.factories.domains import ProjectFactory
from tests.integration.airlock.conftest import CONTEXT, CONTROLS, EXPORT_JOB_TYPE, EXPORT_TABLE
from tests.integration.analysis.conftest import CANCER, Workers, data_root, wait_for  # noqa: F401
from tests.integration.cohorts.conftest import load_prepared, prepared_release  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_an_approved_request_is_released_by_a_worker_after_commit(prepared_release, data_root, tmp_path):  # noqa: F811
    with transaction.atomic():
        if not HpoTerm.objects.exists():  # transactional tests start from an empty database
            ontology_write_tables()
        load_prepared(prepared_release, name="test-r1")
    author = _persona(Role.RESEARCHER, email="rosa@example.org", accredited=True)
    project = ProjectFactory(owner=author, status="approved", title="Cardiac genetics")
    cohort = cohort_create(by=author, project=project, name="Cancer", criteria_json=CANCER)
    app.conf.task_always_eager = True
    try:
        job = job_submit(by=author, project=project, job_type=EXPORT_JOB_TYPE, inputs=[("cohort", cohort)],
                         parameters={})  # fmt: skip
    finally:
        app.conf.task_always_eager = False
    job.refresh_from_db()
    request = services.request_create(by=author, project=project)
    services.request_file_add(by=author, request=request, artifact=job.artifacts.get(key=EXPORT_TABLE),
                              context=CONTEXT, controls=CONTROLS)  # fmt: skip
    request = services.request_submit(by=author, request=request)
    checkers = [_persona(Role.OUTPUT_CHECKER, email=f"checker{i}@example.org") for i in range(2)]
    for checker in checkers:
        for file in request.files.all():
            services.vote_cast(by=checker, file=file, choice="approve")
        request = services.review_submit(by=checker, request=request)
    # The release task goes to the default queue ("interactive") once the approval commits.
    services.request_decide(by=checkers[0], request=request, decision="approve")
    assert OutputRequest.objects.get(pk=request.pk).status == "approved"
    pool = Workers(tmp_path, data_root)
    pool.queue = app.conf.task_default_queue
    pool.start(1, EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    try:
        wait_for(lambda: OutputRequest.objects.get(pk=request.pk).status == "released", what="the release",
                 logs=pool.logs)  # fmt: skip
        release_request.delay(request.pk)  # a second delivery
        wait_for(lambda: pool.logs().count("airlock.release_request") >= 4, what="the second delivery",
                 logs=pool.logs)  # fmt: skip
    finally:
        pool.stop()
    assert Release.objects.filter(request=request).count() == 1
