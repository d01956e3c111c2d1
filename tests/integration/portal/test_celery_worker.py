"""A real task goes through the real broker (Redis in the test run) to a real
worker process, and its effect lands in the database."""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings

from audit.models import AuditAction, AuditEvent, AuditOutcome
from audit.services import record
from audit.tasks import verify_chain
from portal.celery import app
from tests.subprocess_env import child_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture
def worker(tmp_path):
    """A Celery worker process on a queue of its own, so parallel runs do not meet."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        env=child_env(CELERY_BROKER_URL=settings.CELERY_BROKER_URL),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=os.getcwd(),
    )
    yield queue
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def test_celery_configuration_does_not_lose_work():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert {q.name for q in conf.task_queues} == {"interactive", "heavy"}


def test_task_runs_in_a_real_worker_and_writes_to_the_database(worker, tmp_path):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    for i in range(3):
        record(action=AuditAction.SIGN_IN, actor_email=f"u{i}@example.org")
    verify_chain.apply_async(queue=worker)

    deadline = time.monotonic() + 90
    verdict = None
    while time.monotonic() < deadline and verdict is None:
        verdict = AuditEvent.objects.filter(action=AuditAction.AUDIT_VERIFIED).first()
        time.sleep(0.3)
    assert verdict is not None, (tmp_path / "worker.log").read_text()
    assert verdict.outcome == AuditOutcome.SUCCESS
    assert verdict.details == {"checked": 3}
    assert verdict.actor_id is None
