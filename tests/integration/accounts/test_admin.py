import pytest
from django.urls import reverse

from accounts.models import RoleAssignment
from audit.models import AuditAction, AuditEvent
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    user = UserFactory(email="root@example.org")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def _change_form(user, **overrides):
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "is_active": "on",
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-id": user.profile.pk,
        "profile-0-user": user.pk,
        "profile-0-institution": "",
        "profile-0-training_completed_on": "",
        "profile-0-agreement_version": "",
        "role_assignments-TOTAL_FORMS": "1",
        "role_assignments-INITIAL_FORMS": "0",
        "role_assignments-MIN_NUM_FORMS": "0",
        "role_assignments-MAX_NUM_FORMS": "1000",
        "role_assignments-0-role": "",
        "role_assignments-0-user": user.pk,
    }
    data.update(overrides)
    return data


def test_admin_deactivation_and_role_grant_are_audited(client_for, superuser):
    target = UserFactory(email="target@example.org")
    url = reverse("admin:accounts_user_change", args=[target.pk])
    data = _change_form(target, **{"role_assignments-0-role": "output_checker"})
    del data["is_active"]
    response = client_for(superuser).post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    target.refresh_from_db()
    assert not target.is_active
    assert RoleAssignment.objects.filter(user=target, role="output_checker", granted_by=superuser).exists()
    updated = AuditEvent.objects.get(
        action=AuditAction.ACCOUNT_UPDATED,
        target_id=str(target.pk),
        details__via="admin",
        details__fields=["is_active"],
    )
    assert updated.actor_id == superuser.pk
    assert AuditEvent.objects.filter(
        action=AuditAction.ROLE_GRANTED, target_id=str(target.pk), details__role="output_checker"
    ).exists()


def test_admin_is_closed_to_non_staff(client_for, researcher):
    response = client_for(researcher).get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_non_staff_get_404_not_a_login_form_and_keep_their_session(client_for, researcher):
    client = client_for(researcher)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 404
    assert 'name="password"' not in response.content.decode()
    assert client.post(reverse("admin:login"), {"username": researcher.email, "password": "x"}).status_code == 404
    assert client.get(reverse("accounts:account")).status_code == 200


def test_staff_whose_admin_session_lapsed_go_on_to_the_admin(client_for, superuser):
    response = client_for(superuser).get(reverse("admin:login"), {"next": "/admin/accounts/user/"})
    assert response.status_code == 302 and response["Location"] == "/admin/accounts/user/"
