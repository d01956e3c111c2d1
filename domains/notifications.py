"""E-mails to the people a decision concerns. Queued after the transaction
commits (``transaction.on_commit``), never from inside it, and sent by a
Celery task that retries (``domains.tasks.send_notification``): a mail server
that fails never turns a committed decision into an error page."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from kombu.exceptions import KombuError

from accounts.models import User

logger = logging.getLogger(__name__)

SUBJECT_PREFIX = "[Research environment] "
SIGNATURE = "\n\n-- \nGenomic Research Environment. This message was sent automatically.\n"


def notify_after_commit(*, to: Iterable[User], subject: str, body: str) -> None:
    recipients = sorted({user.email for user in to if user.is_active and user.email})
    if not recipients:
        return
    kwargs = {"subject": SUBJECT_PREFIX + subject, "body": body + SIGNATURE, "recipients": recipients}
    transaction.on_commit(lambda: _queue(kwargs))


def _queue(kwargs: dict[str, Any]) -> None:
    from domains.tasks import send_notification

    try:
        send_notification.delay(**kwargs)
    except (KombuError, OSError):
        logger.exception("E-mail %r could not be queued; it is not sent", kwargs["subject"])
