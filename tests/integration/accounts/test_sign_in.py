"""Signing in: password, then a TOTP code; lockout; replay; session rules."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import LAST_SEEN_KEY, SIGNED_IN_AT_KEY, user_set_active
from audit.models import AuditAction, AuditEvent, AuditOutcome
from tests.factories.accounts import PASSWORD, TOTPDeviceFactory, UserFactory
from tests.helpers import sign_in_verified, totp_code

pytestmark = pytest.mark.django_db

SIGN_IN = reverse("accounts:sign-in")
VERIFY = reverse("accounts:mfa-verify")
ENROL = reverse("accounts:mfa-enrol")
DASHBOARD = reverse("dashboard")


@pytest.fixture
def person():
    user = UserFactory(email="person@example.org")
    TOTPDeviceFactory(user=user)
    return user


def _password_step(client, email="person@example.org", password=PASSWORD):
    return client.post(SIGN_IN, {"email": email, "password": password})


def test_password_then_code_reaches_dashboard(client, person):
    response = _password_step(client)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    response = client.post(VERIFY, {"token": totp_code(person.totpdevice_set.get())})
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    assert client.get(DASHBOARD).status_code == 200
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == [AuditAction.SIGN_IN, AuditAction.MFA_VERIFIED]


def test_password_alone_does_not_open_the_dashboard(client, person):
    _password_step(client)
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)


def test_wrong_password_is_refused_and_audited(client, person):
    response = _password_step(client, password="not-the-password")
    assert response.status_code == 400
    assert "E-mail address or password not recognised." in response.content.decode()
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.actor_email) == (
        AuditAction.SIGN_IN_FAILED,
        AuditOutcome.FAILURE,
        "person@example.org",
    )
    assert "not-the-password" not in str(event.details)


def test_replayed_code_is_rejected(client, person):
    device = person.totpdevice_set.get()
    code = totp_code(device)
    _password_step(client)
    assert client.post(VERIFY, {"token": code}).status_code == 302

    second = Client()
    _password_step(second)
    response = second.post(VERIFY, {"token": code})
    assert response.status_code == 400
    assert "used already" in response.content.decode()
    assert second.get(DASHBOARD)["Location"].startswith(VERIFY)
    assert AuditEvent.objects.filter(action=AuditAction.MFA_FAILED).count() == 1


def test_wrong_code_is_refused_with_a_clear_message(client, person):
    _password_step(client)
    response = client.post(VERIFY, {"token": "12345"})
    assert response.status_code == 400
    assert "Enter the six digits" in response.content.decode()


def test_repeated_failed_sign_ins_lock_the_account(client, person, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _password_step(client, password="wrong-password-guess")
    response = _password_step(client)  # the right password, but locked
    assert response.status_code == 429
    assert "locked" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_IN_LOCKED_OUT).exists()


def test_lockout_applies_from_any_address(person, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        Client(REMOTE_ADDR=f"10.0.0.{i + 1}").post(SIGN_IN, {"email": person.email, "password": "guess"})
    response = Client(REMOTE_ADDR="10.9.9.9").post(SIGN_IN, {"email": person.email, "password": PASSWORD})
    assert response.status_code == 429


def test_session_key_changes_at_sign_in_and_at_verification(client, person):
    client.get(SIGN_IN)
    client.cookies  # noqa: B018 - a session may not exist yet
    session = client.session
    session["probe"] = "x"
    session.save()
    before = client.session.session_key
    _password_step(client)
    after_password = client.session.session_key
    client.post(VERIFY, {"token": totp_code(person.totpdevice_set.get())})
    after_code = client.session.session_key
    assert len({before, after_password, after_code}) == 3


def test_idle_session_is_ended(client, person, settings):
    sign_in_verified(client, person)
    session = client.session
    session[LAST_SEEN_KEY] = timezone.now().timestamp() - settings.SESSION_IDLE_TIMEOUT.total_seconds() - 5
    session.save()
    response = client.get(DASHBOARD, follow=True)
    assert response.redirect_chain[0][0].startswith(SIGN_IN)
    assert "signed out after 30 minutes without activity" in response.content.decode()
    assert client.get(DASHBOARD).status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.SESSION_EXPIRED, actor_id=person.pk).exists()


def test_session_ends_after_absolute_timeout_even_when_active(client, person, settings):
    sign_in_verified(client, person)
    session = client.session
    session[SIGNED_IN_AT_KEY] = timezone.now().timestamp() - settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds() - 5
    session.save()
    assert client.get(DASHBOARD)["Location"].startswith(SIGN_IN)


def test_activity_keeps_a_session_alive(client, person):
    sign_in_verified(client, person)
    assert client.get(DASHBOARD).status_code == 200
    assert client.get(DASHBOARD).status_code == 200


def test_deactivated_user_is_signed_out_on_next_request(client, person):
    sign_in_verified(client, person)
    assert client.get(DASHBOARD).status_code == 200
    user_set_active(user=person, active=False, by=UserFactory())
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith(SIGN_IN)


def test_deactivated_user_cannot_sign_in(client, person):
    person.is_active = False
    person.save()
    assert _password_step(client).status_code == 400


def test_sign_out_ends_the_session_and_is_audited(client, person):
    sign_in_verified(client, person)
    response = client.post(reverse("accounts:sign-out"))
    assert response.status_code == 302
    assert client.get(DASHBOARD)["Location"].startswith(SIGN_IN)
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_OUT, actor_id=person.pk).exists()


def test_sign_out_needs_post(client, person):
    sign_in_verified(client, person)
    assert client.get(reverse("accounts:sign-out")).status_code == 405


def test_next_parameter_to_another_site_is_ignored(client, person):
    client.post(
        SIGN_IN + "?next=https://evil.example.com/",
        {"email": person.email, "password": PASSWORD, "next": "https://evil.example.com/"},
    )
    response = client.post(
        VERIFY, {"token": totp_code(person.totpdevice_set.get()), "next": "https://evil.example.com/"}
    )
    assert response["Location"] == DASHBOARD


# --- enrolment -------------------------------------------------------------------------


def test_new_user_is_sent_to_enrolment_and_can_enrol(client):
    user = UserFactory(email="new@example.org")
    response = client.post(SIGN_IN, {"email": user.email, "password": PASSWORD})
    assert response["Location"].startswith(ENROL)
    page = client.get(ENROL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and 'data-testid="totp-secret"' in html
    device = TOTPDevice.objects.get(user=user, confirmed=False)

    wrong = "000000" if totp_code(device) != "000000" else "111111"
    response = client.post(ENROL, {"token": wrong})
    assert response.status_code == 400 and "That code is not right" in response.content.decode()
    response = client.post(ENROL, {"token": totp_code(device)})
    assert response.status_code == 400 and "Too many wrong codes" in response.content.decode()

    _let_throttle_pass(device)
    response = client.post(ENROL, {"token": totp_code(device)})
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get(DASHBOARD).status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.MFA_ENROLLED, actor_id=user.pk).exists()


def _let_throttle_pass(device):
    device.refresh_from_db()
    device.throttling_failure_timestamp -= timedelta(minutes=5)
    device.save()


def test_enrolment_is_closed_to_a_password_only_session_of_an_enrolled_user(client, person):
    _password_step(client)
    response = client.get(ENROL)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    response = client.post(ENROL, {"token": "123456"})
    assert response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=person).count() == 1


def test_enrolment_and_verification_need_the_password_first(client):
    assert client.get(ENROL)["Location"].startswith(SIGN_IN)
    assert client.get(VERIFY)["Location"].startswith(SIGN_IN)
