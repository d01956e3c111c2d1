"""Celery adapters for domains."""

from __future__ import annotations

import logging
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

logger = logging.getLogger(__name__)

NOTIFICATION_MAX_RETRIES = 6  # about two hours of tries, backing off from 30 s


@shared_task(name="domains.close_ended_projects", soft_time_limit=600, time_limit=660)
def close_ended_projects() -> int:
    """Close approved projects past their end date (the system's transition).
    Safe to run twice: a closed project is not closed again. Access itself
    never waits for this: the end date is checked on every request."""
    from domains.services import projects_close_ended

    return len(projects_close_ended())


@shared_task(
    name="domains.send_notification",
    bind=True,
    max_retries=NOTIFICATION_MAX_RETRIES,
    soft_time_limit=60,
    time_limit=90,
)
def send_notification(self, *, subject: str, body: str, recipients: list[str]) -> bool:
    """Send one e-mail about a decision that is already committed. A mail
    server that refuses or cannot be reached is tried again with a growing
    delay; after the last try the failure is logged (the decision stands and
    the person sees it in the portal). A second delivery of the task may send
    the mail twice, which is better than not at all."""
    try:
        send_mail(
            subject=subject,
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=recipients,
            fail_silently=False,
        )
    except (SMTPException, OSError) as error:
        tries = self.request.retries + 1
        if self.request.retries >= self.max_retries:
            logger.error(
                "E-mail %r to %d recipient(s) not sent after %d tries: %s", subject, len(recipients), tries, error
            )
            return False
        logger.warning("E-mail %r not sent (try %d), trying again: %s", subject, tries, error)
        raise self.retry(exc=error, countdown=min(3600, 30 * 2**self.request.retries)) from error
    return True
