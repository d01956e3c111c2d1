"""E-mail about a committed decision goes through a Celery task with retries;
a mail server or broker that fails is logged and never undoes or hides the
decision."""

from __future__ import annotations

import logging
from smtplib import SMTPServerDisconnected

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from kombu.exceptions import OperationalError

from domains.models import MembershipApplication
from domains.tasks import NOTIFICATION_MAX_RETRIES, send_notification

pytestmark = pytest.mark.django_db
WHY = "I study inherited epilepsies and would like to join."


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    attempts = 0

    def send_messages(self, email_messages):
        type(self).attempts += 1
        raise SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def smtp_down(settings):
    RefusingBackend.attempts = 0
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    return RefusingBackend


def test_the_task_sends_the_mail(lead):
    assert send_notification.apply(kwargs={"subject": "S", "body": "B", "recipients": [lead.email]}).get() is True
    assert mail.outbox[0].to == [lead.email] and mail.outbox[0].subject == "S"


def test_a_failing_mail_server_is_tried_again_then_the_failure_is_logged(smtp_down, lead, caplog):
    with caplog.at_level(logging.WARNING, logger="domains.tasks"):
        result = send_notification.apply(kwargs={"subject": "S", "body": "B", "recipients": [lead.email]})
    assert result.get() is False
    assert smtp_down.attempts == NOTIFICATION_MAX_RETRIES + 1
    assert any(r.levelno == logging.ERROR and "not sent after 7 tries" in r.getMessage() for r in caplog.records)


def test_an_application_is_saved_and_shown_when_the_mail_server_is_down(
    smtp_down, client_for, researcher, domain, lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(researcher).post(reverse("domains:domain", args=[domain.slug]), {"justification": WHY})
    assert response.status_code == 302
    assert MembershipApplication.objects.filter(applicant=researcher, domain=domain).exists()
    assert smtp_down.attempts == NOTIFICATION_MAX_RETRIES + 1


def test_a_broker_that_cannot_be_reached_is_logged_and_the_decision_stands(
    monkeypatch, client_for, researcher, domain, lead, caplog, django_capture_on_commit_callbacks
):
    def unreachable(**kwargs):
        raise OperationalError("Error 111 connecting to broker")

    monkeypatch.setattr(send_notification, "delay", unreachable)
    url = reverse("domains:domain", args=[domain.slug])
    with (
        caplog.at_level(logging.ERROR, logger="domains.notifications"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client_for(researcher).post(url, {"justification": WHY})
    assert response.status_code == 302
    assert MembershipApplication.objects.filter(applicant=researcher, domain=domain).exists()
    assert "could not be queued" in caplog.text and mail.outbox == []
