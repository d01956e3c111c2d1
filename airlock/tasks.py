"""Celery adapters for the airlock: they take ids; the request row decides
what happens (releasing a request that is not approved any more does nothing)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="airlock.release_request", acks_late=True, reject_on_worker_lost=True, soft_time_limit=600,
             time_limit=660)  # fmt: skip
def release_request(request_id: int) -> bool:
    from airlock.services import request_release

    return request_release(request_id=request_id) is not None


@shared_task(name="airlock.release_approved", soft_time_limit=600, time_limit=660)
def release_approved() -> int:
    """The beat's sweep: approved requests whose release task was lost are released."""
    from airlock.services import requests_release_approved

    return requests_release_approved()
