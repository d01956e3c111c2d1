"""Celery adapters: they take ids, and the database row decides what happens
(a second delivery of a running or finished job, or of a finished block,
does nothing). Queues and time limits are given when a job is published
(``analysis.services.publish``): each job type's queue."""

from __future__ import annotations

from celery import shared_task

from analysis import runner, services


@shared_task(name="analysis.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: int) -> None:
    runner.execute_job(job_id)


@shared_task(name="analysis.run_block", acks_late=True, reject_on_worker_lost=True)
def run_block(job_id: int, attempt: int, index: int) -> None:
    runner.execute_block(job_id, attempt, index)


@shared_task(name="analysis.combine_blocks", acks_late=True, reject_on_worker_lost=True)
def combine_blocks(job_id: int, attempt: int) -> None:
    runner.execute_combine(job_id, attempt)


@shared_task(name="analysis.sweep_jobs")
def sweep_jobs() -> dict[str, int]:
    return services.jobs_sweep()
