from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import CURRENT_AGREEMENT_VERSION, ResearcherProfile
from audit.models import AuditAction, AuditEvent
from tests.factories.accounts import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
ACCOUNT = reverse("accounts:account")


@pytest.fixture
def newcomer():
    return UserFactory(email="newcomer@example.org")


def test_account_page_shows_the_user_their_details(client_for, newcomer):
    response = client_for(newcomer).get(ACCOUNT)
    assert response.status_code == 200
    assert "newcomer@example.org" in response.content.decode()


def test_profile_update_is_saved_and_audited_without_values(client_for, newcomer):
    trained = timezone.localdate() - timedelta(days=10)
    response = client_for(newcomer).post(
        ACCOUNT,
        {"action": "profile", "full_name": "Nia Newcomer", "institution": "Uni", "training_completed_on": trained},
    )
    assert response.status_code == 302
    profile = ResearcherProfile.objects.get(user=newcomer)
    assert (profile.institution, profile.training_completed_on) == ("Uni", trained)
    event = AuditEvent.objects.get(action=AuditAction.ACCOUNT_UPDATED)
    assert sorted(event.details["fields"]) == ["full_name", "institution", "training_completed_on"]
    assert "Uni" not in str(event.details)


def test_training_date_in_the_future_is_refused_next_to_the_field(client_for, newcomer):
    future = timezone.localdate() + timedelta(days=3)
    response = client_for(newcomer).post(ACCOUNT, {"action": "profile", "training_completed_on": future})
    assert response.status_code == 400
    assert "This date is in the future" in response.content.decode()
    assert ResearcherProfile.objects.get(user=newcomer).training_completed_on is None


def test_accepting_the_agreement_and_training_make_the_user_accredited(client_for, newcomer):
    client = client_for(newcomer)
    client.post(ACCOUNT, {"action": "profile", "training_completed_on": timezone.localdate()})
    assert not ResearcherProfile.objects.get(user=newcomer).is_accredited()
    response = client.post(ACCOUNT, {"action": "agreement", "version": CURRENT_AGREEMENT_VERSION, "accept": "on"})
    assert response.status_code == 302
    assert ResearcherProfile.objects.get(user=newcomer).is_accredited()
    assert AuditEvent.objects.filter(action=AuditAction.AGREEMENT_ACCEPTED).count() == 1


def test_agreement_needs_the_box_ticked(client_for, newcomer):
    response = client_for(newcomer).post(ACCOUNT, {"action": "agreement", "version": CURRENT_AGREEMENT_VERSION})
    assert response.status_code == 400
    assert "Tick the box" in response.content.decode()


def test_an_old_agreement_version_is_refused(client_for, newcomer):
    response = client_for(newcomer).post(ACCOUNT, {"action": "agreement", "version": "2019-1", "accept": "on"})
    assert response.status_code == 400
    assert "no longer current" in response.content.decode()
    assert not ResearcherProfile.objects.get(user=newcomer).agreement_valid()


def test_training_expires_after_twelve_months(newcomer):
    profile = ResearcherProfile.objects.get(user=newcomer)
    profile.training_completed_on = timezone.localdate() - timedelta(days=365)
    assert not profile.training_valid()
    profile.training_completed_on = timezone.localdate() - timedelta(days=364)
    assert profile.training_valid()


def test_password_change_keeps_the_session_and_is_audited(client_for, newcomer):
    client = client_for(newcomer)
    new = "a-brand-new-passphrase-77"
    response = client.post(
        ACCOUNT, {"action": "password", "current_password": PASSWORD, "new_password": new, "confirm_password": new}
    )
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.check_password(new)
    assert client.get(ACCOUNT).status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGED).exists()


def test_password_change_with_wrong_current_password_is_refused(client_for, newcomer):
    response = client_for(newcomer).post(
        ACCOUNT,
        {"action": "password", "current_password": "nope", "new_password": "x" * 20, "confirm_password": "x" * 20},
    )
    assert response.status_code == 400
    assert "current password is not right" in response.content.decode()
