"""The nightly schedule names tasks that exist, on queues the workers consume."""

from __future__ import annotations

from celery.schedules import crontab
from django.conf import settings

from portal.celery import app


def test_every_scheduled_task_is_registered_on_a_consumed_queue():
    app.loader.import_default_modules()
    queues = {q.name for q in app.conf.task_queues}
    assert settings.CELERY_BEAT_SCHEDULE
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, f"{name}: no task {entry['task']}"
        route = app.amqp.router.route({}, entry["task"])
        assert route["queue"].name in queues, name
        assert isinstance(entry["schedule"], crontab), name


def test_projects_past_their_end_date_are_closed_nightly_and_the_audit_chain_checked():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks == {"domains.close_ended_projects", "audit.verify_chain", "analysis.sweep_jobs",
                     "airlock.release_approved"}  # fmt: skip
