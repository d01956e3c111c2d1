"""Celery adapters for domains."""

from celery import shared_task

from domains.services import projects_close_ended


@shared_task(name="domains.close_ended_projects", soft_time_limit=600, time_limit=660)
def close_ended_projects() -> int:
    """Close approved projects past their end date (the system's transition).
    Safe to run twice: a closed project is not closed again. Access itself
    never waits for this: the end date is checked on every request."""
    return len(projects_close_ended())
