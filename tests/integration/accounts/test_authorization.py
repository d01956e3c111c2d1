import pytest
from guardian.shortcuts import assign_perm

from accounts.authorization import ROLE_PERMISSIONS, Permission, UnknownPermissionError, has_permission
from accounts.models import Role
from accounts.services import AccountError, role_grant, role_revoke, user_set_active
from audit.models import AuditAction, AuditEvent
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

GLOBAL_ROLES = [Role.RESEARCHER, Role.OUTPUT_CHECKER, Role.GOVERNANCE_REVIEWER, Role.ADMINISTRATOR]


@pytest.mark.parametrize("role", GLOBAL_ROLES)
@pytest.mark.parametrize("permission", list(Permission))
def test_global_role_holds_exactly_its_bundle(role, permission):
    user = UserFactory()
    role_grant(user=user, role=role, by=None)
    assert has_permission(user, permission) is (permission in ROLE_PERMISSIONS[role])


@pytest.mark.parametrize("permission", list(Permission))
def test_user_without_roles_holds_nothing(permission):
    assert has_permission(UserFactory(), permission) is False


def test_unknown_permission_raises_instead_of_answering_false():
    with pytest.raises(UnknownPermissionError):
        has_permission(UserFactory(), "audit.delete_everything")


def test_anonymous_user_holds_nothing():
    from django.contrib.auth.models import AnonymousUser

    assert has_permission(AnonymousUser(), Permission.AUDIT_VIEW) is False


def test_deactivated_user_loses_permissions_at_once():
    admin, user = UserFactory(), UserFactory()
    role_grant(user=user, role=Role.GOVERNANCE_REVIEWER, by=None)
    user_set_active(user=user, active=False, by=admin)
    assert has_permission(user, Permission.AUDIT_VIEW) is False


def test_revoked_role_takes_effect_at_once():
    user = UserFactory()
    role_grant(user=user, role=Role.OUTPUT_CHECKER, by=None)
    assert has_permission(user, Permission.OUTPUT_REVIEW)
    role_revoke(user=user, role=Role.OUTPUT_CHECKER, by=None)
    assert not has_permission(user, Permission.OUTPUT_REVIEW)


def test_object_permission_applies_to_that_object_only():
    manager, managed, other = UserFactory(), UserFactory(), UserFactory()
    assign_perm(Permission.USER_MANAGE.value, manager, managed)
    assert has_permission(manager, Permission.USER_MANAGE, managed)
    assert not has_permission(manager, Permission.USER_MANAGE, other)
    assert not has_permission(manager, Permission.USER_MANAGE)


def test_object_scoped_role_needs_an_object_and_global_role_refuses_one():
    user = UserFactory()
    with pytest.raises(AccountError, match="say which"):
        role_grant(user=user, role=Role.DOMAIN_LEAD, by=None)
    with pytest.raises(AccountError, match="global role"):
        role_grant(user=user, role=Role.RESEARCHER, by=None, obj=UserFactory())


def test_role_grant_is_audited():
    granter, user = UserFactory(), UserFactory()
    role_grant(user=user, role=Role.OUTPUT_CHECKER, by=granter)
    event = AuditEvent.objects.get(action=AuditAction.ROLE_GRANTED, target_id=str(user.pk))
    assert event.actor_id == granter.pk
    assert event.details == {"role": "output_checker"}


def test_a_superuser_holds_no_object_role_it_was_not_granted(db):
    from accounts.authorization import Permission, has_permission, objects_with_permission
    from domains.models import Domain
    from tests.factories.accounts import UserFactory
    from tests.factories.domains import DomainFactory

    domain = DomainFactory()
    root = UserFactory(is_staff=True, is_superuser=True)
    assert not has_permission(root, Permission.DOMAIN_REVIEW_MEMBERSHIP, domain)
    assert not objects_with_permission(root, Permission.PROJECT_REVIEW, Domain.objects.all()).exists()
