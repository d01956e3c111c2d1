"""E-mails to the people a decision concerns. Always sent after the
transaction commits (``transaction.on_commit``), never from inside it."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from accounts.models import User


def notify_after_commit(*, to: Iterable[User], subject: str, body: str) -> None:
    recipients = sorted({user.email for user in to if user.is_active and user.email})
    if not recipients:
        return
    message = body + "\n\n-- \nGenomic Research Environment. This message was sent automatically.\n"
    transaction.on_commit(
        partial(
            send_mail,
            subject=f"[Research environment] {subject}",
            message=message,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=recipients,
            fail_silently=False,
        )
    )
