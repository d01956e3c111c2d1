"""The authorization core: one enum of permissions, roles as named bundles of
them, and one entry point, ``has_permission``.

Global roles are rows of ``RoleAssignment``. Roles scoped to an object (a
domain lead leads *one* domain) are django-guardian object permissions on that
object; guardian is used here and nowhere else.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet
from guardian.core import ObjectPermissionChecker
from guardian.models import UserObjectPermission
from guardian.shortcuts import get_objects_for_user

from accounts.models import Role, RoleAssignment


class UnknownPermissionError(LookupError):
    """Asked about a permission that does not exist: a programming error, never a 'no'."""


class Permission(enum.StrEnum):
    # value = "<app_label>.<codename>"; object-level ones exist as Django permissions.
    AUDIT_VIEW = "audit.view_auditevent"
    WITHDRAWAL_RECORD = "participants.record_withdrawal"  # the consent withdrawal register
    USER_MANAGE = "accounts.manage_user"
    ROLE_ASSIGN = "accounts.assign_role"
    DOMAIN_APPLY = "domains.apply_membership"
    DOMAIN_REVIEW_MEMBERSHIP = "domains.review_membership"
    PROJECT_REGISTER = "domains.register_project"
    PROJECT_REVIEW = "domains.review_project"
    # For the airlock (output requests and their review), which is coming: the
    # roles already carry them so that granting a role needs no change then.
    OUTPUT_REQUEST = "airlock.request_output"
    OUTPUT_REVIEW = "airlock.review_output"

    @property
    def codename(self) -> str:
        return self.value.split(".", 1)[1]


class Scope(enum.Enum):
    GLOBAL = "global"  # held everywhere, through RoleAssignment
    OBJECT = "object"  # held on one object, through guardian


ROLE_SCOPE: dict[Role, Scope] = {
    Role.RESEARCHER: Scope.GLOBAL,
    Role.DOMAIN_LEAD: Scope.OBJECT,
    Role.OUTPUT_CHECKER: Scope.GLOBAL,
    Role.GOVERNANCE_REVIEWER: Scope.GLOBAL,
    Role.ADMINISTRATOR: Scope.GLOBAL,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.RESEARCHER: frozenset({Permission.DOMAIN_APPLY, Permission.PROJECT_REGISTER, Permission.OUTPUT_REQUEST}),
    Role.DOMAIN_LEAD: frozenset({Permission.DOMAIN_REVIEW_MEMBERSHIP, Permission.PROJECT_REVIEW}),
    Role.OUTPUT_CHECKER: frozenset({Permission.OUTPUT_REVIEW}),
    Role.GOVERNANCE_REVIEWER: frozenset({Permission.AUDIT_VIEW, Permission.WITHDRAWAL_RECORD}),
    Role.ADMINISTRATOR: frozenset({Permission.USER_MANAGE, Permission.ROLE_ASSIGN}),
}

_ROLE_CACHE_ATTR = "_portal_global_roles"
_M = TypeVar("_M", bound=Model)


def _as_permission(perm: Permission | str) -> Permission:
    try:
        return Permission(perm)
    except ValueError:
        raise UnknownPermissionError(f"{perm!r} is not a Permission") from None


def global_roles(user: Any) -> frozenset[Role]:
    """The user's global roles, read once per user object (so once per request)."""
    cached = getattr(user, _ROLE_CACHE_ATTR, None)
    if cached is None:
        cached = frozenset(
            Role(role) for role in RoleAssignment.objects.filter(user=user).values_list("role", flat=True)
        )
        setattr(user, _ROLE_CACHE_ATTR, cached)
    return cached


def forget_cached_roles(user: Any) -> None:
    if hasattr(user, _ROLE_CACHE_ATTR):
        delattr(user, _ROLE_CACHE_ATTR)


def has_permission(user: Any, perm: Permission | str, obj: Model | None = None) -> bool:
    """Whether ``user`` holds ``perm``, globally or (given ``obj``) on that object.

    Raises ``UnknownPermissionError`` for anything not in ``Permission``.
    Anonymous and deactivated users hold nothing.
    """
    permission = _as_permission(perm)
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if any(permission in ROLE_PERMISSIONS[role] for role in global_roles(user)):
        return True
    if obj is None:
        return False
    if obj._meta.app_label != permission.value.split(".", 1)[0]:
        return False
    # Only permissions granted on the object count: a superuser (the Django
    # admin's flag) is not a lead of every domain.
    return permission.codename in ObjectPermissionChecker(user).get_user_perms(obj)


def held_roles(user: Any) -> frozenset[Role]:
    """Every role the user holds: global ones, and object-scoped ones held on
    at least one object (a lead of any domain holds the domain-lead role)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    scoped = {
        role
        for role, scope in ROLE_SCOPE.items()
        if scope is Scope.OBJECT
        and UserObjectPermission.objects.filter(
            user=user, permission__codename__in=[p.codename for p in ROLE_PERMISSIONS[role]]
        ).exists()
    }
    return global_roles(user) | scoped


def role_labels(user: Any) -> list[str]:
    """The names of the roles the user holds, for pages."""
    return sorted(role.label for role in held_roles(user))


def objects_with_permission(user: Any, perm: Permission | str, queryset: QuerySet[_M]) -> QuerySet[_M]:
    """The objects of ``queryset`` on which ``user`` holds ``perm``: all of them
    when a global role carries it, none for anonymous or deactivated users.
    Agrees with ``has_permission`` object by object, in one query."""
    permission = _as_permission(perm)
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    if any(permission in ROLE_PERMISSIONS[role] for role in global_roles(user)):
        return queryset
    if queryset.model._meta.app_label != permission.value.split(".", 1)[0]:
        return queryset.none()
    return get_objects_for_user(user, permission.value, klass=queryset, accept_global_perms=False, with_superuser=False)


def holders_of_object_permission(perm: Permission | str, objects: list[Model]) -> dict[Any, list[Any]]:
    """Active users granted ``perm`` on each of ``objects`` (not global role
    holders, not superusers): ``{object pk: [users]}``, in one query."""
    permission = _as_permission(perm)
    holders: dict[Any, list[Any]] = {obj.pk: [] for obj in objects}
    if not objects:
        return holders
    model = type(objects[0])
    by_key = {str(obj.pk): obj.pk for obj in objects}
    rows = (
        UserObjectPermission.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            permission__codename=permission.codename,
            permission__content_type__app_label=permission.value.split(".", 1)[0],
            object_pk__in=list(by_key),
            user__is_active=True,
        )
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    for row in rows:
        holders[by_key[row.object_pk]].append(row.user)
    return holders
