from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import CURRENT_AGREEMENT_VERSION, ResearcherProfile
from audit.models import AuditAction, AuditEvent
from tests.factories.accounts import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
ACCOUNT = reverse("accounts:account")
DETAILS = reverse("accounts:details")
AGREEMENT = reverse("accounts:agreement")
PASSWORD_URL = reverse("accounts:password")


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
        DETAILS,
        {"full_name": "Nia Newcomer", "institution": "Uni", "training_completed_on": trained},
    )
    assert response.status_code == 302
    profile = ResearcherProfile.objects.get(user=newcomer)
    assert (profile.institution, profile.training_completed_on) == ("Uni", trained)
    event = AuditEvent.objects.get(action=AuditAction.ACCOUNT_UPDATED)
    assert sorted(event.details["fields"]) == ["full_name", "institution", "training_completed_on"]
    assert "Uni" not in str(event.details)


def test_training_date_in_the_future_is_refused_next_to_the_field(client_for, newcomer):
    future = timezone.localdate() + timedelta(days=3)
    response = client_for(newcomer).post(DETAILS, {"training_completed_on": future})
    assert response.status_code == 400
    assert "This date is in the future" in response.content.decode()
    assert ResearcherProfile.objects.get(user=newcomer).training_completed_on is None


def test_accepting_the_agreement_and_training_make_the_user_accredited(client_for, newcomer):
    client = client_for(newcomer)
    client.post(DETAILS, {"training_completed_on": timezone.localdate()})
    assert not ResearcherProfile.objects.get(user=newcomer).is_accredited()
    response = client.post(AGREEMENT, {"version": CURRENT_AGREEMENT_VERSION, "accept": "on"})
    assert response.status_code == 302
    assert ResearcherProfile.objects.get(user=newcomer).is_accredited()
    assert AuditEvent.objects.filter(action=AuditAction.AGREEMENT_ACCEPTED).count() == 1


def test_agreement_needs_the_box_ticked(client_for, newcomer):
    response = client_for(newcomer).post(AGREEMENT, {"version": CURRENT_AGREEMENT_VERSION})
    assert response.status_code == 400
    assert "Tick the box" in response.content.decode()


def test_an_old_agreement_version_is_refused(client_for, newcomer):
    response = client_for(newcomer).post(AGREEMENT, {"version": "2019-1", "accept": "on"})
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
    response = client.post(PASSWORD_URL, {"current_password": PASSWORD, "new_password": new, "confirm_password": new})
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.check_password(new)
    assert client.get(ACCOUNT).status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGED).exists()


def test_password_change_with_wrong_current_password_is_refused(client_for, newcomer):
    response = client_for(newcomer).post(
        PASSWORD_URL,
        {"current_password": "nope", "new_password": "x" * 20, "confirm_password": "x" * 20},
    )
    assert response.status_code == 400
    assert "current password is not right" in response.content.decode()


def test_account_page_renders_the_training_date_as_a_date_input_reads_it(client_for, researcher):
    trained = researcher.profile.training_completed_on
    body = client_for(researcher).get(ACCOUNT).content.decode()
    assert f'type="date" name="training_completed_on" value="{trained.isoformat()}"' in body


def test_saving_the_details_unchanged_keeps_the_accreditation(client_for, researcher):
    client = client_for(researcher)
    form = client.get(ACCOUNT).context["profile_form"]
    unchanged = {name: form[name].value() or "" for name in form.fields}
    response = client.post(
        DETAILS, {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in unchanged.items()}
    )
    assert response.status_code == 302
    researcher.profile.refresh_from_db()
    assert researcher.profile.is_accredited()
    assert not AuditEvent.objects.filter(action=AuditAction.ACCOUNT_UPDATED).exists()


def test_a_british_date_typed_by_hand_is_still_read(client_for, newcomer):
    response = client_for(newcomer).post(DETAILS, {"training_completed_on": "01/02/2025"})
    assert response.status_code == 302
    assert ResearcherProfile.objects.get(user=newcomer).training_completed_on.isoformat() == "2025-02-01"


def test_viewing_the_account_page_writes_nothing(client_for):
    from accounts.models import User

    legacy = User.objects.create_user("legacy@example.org", "a-long-enough-password-1")
    client = client_for(legacy)
    assert client.get(ACCOUNT).status_code == 200
    assert client.get(reverse("dashboard")).status_code == 200
    assert not ResearcherProfile.objects.filter(user=legacy).exists()


@pytest.mark.parametrize("name", ["details", "agreement", "password", "token-create"])
def test_account_actions_answer_only_post(client_for, newcomer, name):
    assert client_for(newcomer).get(reverse(f"accounts:{name}")).status_code == 405


def test_a_lead_sees_the_domain_lead_role_on_the_account_page_and_dashboard(client_for, researcher):
    from tests.factories.domains import DomainFactory, make_lead

    make_lead(researcher, DomainFactory())
    client = client_for(researcher)
    for url in (ACCOUNT, reverse("dashboard")):
        assert client.get(url).context["roles"] == ["Domain lead", "Researcher"]
