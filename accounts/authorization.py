"""The authorization core: one enum of permissions, roles as named bundles of
them, and one entry point, ``has_permission``.

Global roles are rows of ``RoleAssignment``. Roles scoped to an object (a
domain lead leads *one* domain) are django-guardian object permissions on that
object; guardian is used here and nowhere else.
"""

from __future__ import annotations

import enum
from typing import Any

from django.db.models import Model
from guardian.core import ObjectPermissionChecker

from accounts.models import Role, RoleAssignment


class UnknownPermissionError(LookupError):
    """Asked about a permission that does not exist: a programming error, never a 'no'."""


class Permission(enum.StrEnum):
    # value = "<app_label>.<codename>"; object-level ones exist as Django permissions.
    AUDIT_VIEW = "audit.view_auditevent"
    USER_MANAGE = "accounts.manage_user"
    ROLE_ASSIGN = "accounts.assign_role"
    DOMAIN_APPLY = "domains.apply_membership"
    DOMAIN_REVIEW_MEMBERSHIP = "domains.review_membership"
    PROJECT_REGISTER = "domains.register_project"
    PROJECT_REVIEW = "domains.review_project"
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
    Role.GOVERNANCE_REVIEWER: frozenset({Permission.AUDIT_VIEW}),
    Role.ADMINISTRATOR: frozenset({Permission.USER_MANAGE, Permission.ROLE_ASSIGN}),
}

_ROLE_CACHE_ATTR = "_portal_global_roles"


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
    return ObjectPermissionChecker(user).has_perm(permission.codename, obj)


def has_role(user: Any, role: Role) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return role in global_roles(user)
