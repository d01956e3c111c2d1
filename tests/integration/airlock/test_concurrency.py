"""Two checkers submitting their reviews at the same moment, in two threads
with their own PostgreSQL connections: the request row is locked, so the
count of reviews and the status move together and exactly one transition to
``reviewed`` happens."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from accounts.models import Role
from airlock import services
from airlock.models import OutputRequest, RequestStatus, Review
from audit.models import AuditAction, AuditEvent
from cohorts.services import cohort_create
from participants.models import HpoTerm
from participants.ontology import ontology_write_tables
from portal.celery import app
from tests.conftest import _persona
from tests.factories.domains import ProjectFactory
from tests.integration.airlock.conftest import CONTEXT, CONTROLS, EXPORT_JOB_TYPE, EXPORT_TABLE
from tests.integration.analysis.conftest import CANCER, data_root  # noqa: F401
from tests.integration.cohorts.conftest import load_prepared, prepared_release  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def submitted(prepared_release, data_root):  # noqa: F811
    from analysis.services import job_submit

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
    assert job.status == "succeeded", job.error
    request = services.request_create(by=author, project=project)
    services.request_file_add(by=author, request=request, artifact=job.artifacts.get(key=EXPORT_TABLE),
                              context=CONTEXT, controls=CONTROLS)  # fmt: skip
    request = services.request_submit(by=author, request=request)
    checkers = [_persona(Role.OUTPUT_CHECKER, email=f"checker{i}@example.org") for i in range(3)]
    for checker in checkers:
        for file in request.files.all():
            services.vote_cast(by=checker, file=file, choice="approve")
    return request, checkers


def _at_once(request: OutputRequest, reviewers) -> list[object]:
    barrier = threading.Barrier(len(reviewers))
    outcomes: list[object] = []

    def review(user) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes.append(services.review_submit(by=user, request=request).status)
        except Exception as error:  # the outcome is asserted below
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=review, args=(u,)) for u in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_two_first_reviews_at_once_give_one_partially_reviewed_then_one_reviewed(submitted):
    request, checkers = submitted
    outcomes = _at_once(request, checkers[:2])
    assert sorted(map(str, outcomes)) == ["partially_reviewed", "reviewed"], outcomes
    request.refresh_from_db()
    assert request.status == RequestStatus.REVIEWED
    assert Review.objects.filter(request=request, round=1).count() == 2
    assert AuditEvent.objects.filter(action=AuditAction.OUTPUT_REQUEST_REVIEWED, target_id=str(request.pk)).count() == 1


def test_two_second_reviews_at_once_give_exactly_one_reviewed(submitted):
    request, checkers = submitted
    assert services.review_submit(by=checkers[0], request=request).status == RequestStatus.PARTIALLY_REVIEWED
    outcomes = _at_once(request, checkers[1:])
    assert sorted(map(str, outcomes)) == ["reviewed", "reviewed"], outcomes
    request.refresh_from_db()
    assert request.status == RequestStatus.REVIEWED
    assert Review.objects.filter(request=request, round=1).count() == 3
    events = AuditEvent.objects.filter(action=AuditAction.OUTPUT_REVIEW_SUBMITTED, target_id=str(request.pk))
    assert sorted((e.details["from"], e.details["to"]) for e in events) == [
        ("partially_reviewed", "reviewed"), ("reviewed", "reviewed"), ("submitted", "partially_reviewed"),
    ]  # fmt: skip
    assert AuditEvent.objects.filter(action=AuditAction.OUTPUT_REQUEST_REVIEWED, target_id=str(request.pk)).count() == 1
