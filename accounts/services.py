"""Writes about people: sign-in and two-factor steps, profiles, roles. Each
runs in one transaction and records its audit event inside it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import login, logout
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.shortcuts import assign_perm, remove_perm

from accounts.authorization import ROLE_PERMISSIONS, ROLE_SCOPE, Scope, forget_cached_roles
from accounts.models import CURRENT_AGREEMENT_VERSION, ApiToken, ResearcherProfile, Role, RoleAssignment, User
from audit.models import AuditAction, AuditOutcome
from audit.services import record

SIGNED_IN_AT_KEY = "portal_signed_in_at"
LAST_SEEN_KEY = "portal_last_seen"


class AccountError(Exception):
    """A request about an account that cannot be carried out; the message says why."""


# --- accounts -------------------------------------------------------------------


@transaction.atomic
def user_create(
    *, email: str, password: str | None, full_name: str = "", by: User | None = None, is_staff: bool = False
) -> User:
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise AccountError(f"An account for {email} already exists.")
    user = User.objects.create_user(email, password, full_name=full_name, is_staff=is_staff)
    ResearcherProfile.objects.create(user=user)
    record(action=AuditAction.ACCOUNT_CREATED, by=by, target=user, details={"is_staff": is_staff})
    return user


@transaction.atomic
def user_set_active(*, user: User, active: bool, by: User) -> User:
    """Deactivating a user ends their sessions on their next request
    (the authentication backend refuses inactive users)."""
    user.is_active = active
    user.save(update_fields=["is_active"])
    record(action=AuditAction.ACCOUNT_UPDATED, by=by, target=user, details={"fields": ["is_active"], "active": active})
    return user


@transaction.atomic
def profile_update(
    *, by: User, full_name: str, institution: str, training_completed_on: date | None
) -> ResearcherProfile:
    profile, _ = ResearcherProfile.objects.select_for_update().get_or_create(user=by)
    if training_completed_on and training_completed_on > timezone.localdate():
        raise AccountError("The training completion date cannot be in the future.")
    changed = []
    if by.full_name != full_name:
        by.full_name = full_name
        by.save(update_fields=["full_name"])
        changed.append("full_name")
    for field, value in (("institution", institution), ("training_completed_on", training_completed_on)):
        if getattr(profile, field) != value:
            setattr(profile, field, value)
            changed.append(field)
    if changed:
        profile.save()
        record(action=AuditAction.ACCOUNT_UPDATED, by=by, target=by, details={"fields": changed})
    return profile


@transaction.atomic
def agreement_accept(*, by: User, version: str) -> ResearcherProfile:
    if version != CURRENT_AGREEMENT_VERSION:
        raise AccountError(
            f"Version {version} of the data access agreement is no longer current; "
            f"read and accept version {CURRENT_AGREEMENT_VERSION}."
        )
    profile, _ = ResearcherProfile.objects.select_for_update().get_or_create(user=by)
    profile.agreement_version = version
    profile.agreement_accepted_at = timezone.now()
    profile.save(update_fields=["agreement_version", "agreement_accepted_at"])
    record(action=AuditAction.AGREEMENT_ACCEPTED, by=by, target=by, details={"version": version})
    return profile


@transaction.atomic
def password_change(*, by: User, new_password: str) -> None:
    """Set a new password. The caller keeps its own session signed in
    (``update_session_auth_hash``); every other session of ``by`` ends."""
    by.set_password(new_password)
    by.save(update_fields=["password"])
    record(action=AuditAction.PASSWORD_CHANGED, by=by, target=by)


# --- roles --------------------------------------------------------------------------


def _role_details(role: Role, obj: Model | None) -> dict[str, Any]:
    """What the audit event says of a role change; refuses an object-scoped role without its object."""
    if ROLE_SCOPE[role] is Scope.GLOBAL:
        return {"role": str(role)}
    if obj is None:
        raise AccountError(f"{role.label} is held on one object; say which.")
    return {"role": str(role), "on_type": obj._meta.label_lower, "on_id": str(obj.pk)}


@transaction.atomic
def role_grant(*, user: User, role: Role, by: User | None, obj: Model | None = None) -> None:
    if ROLE_SCOPE[role] is Scope.GLOBAL and obj is not None:
        raise AccountError(f"{role.label} is a global role; it is not granted on one object.")
    details = _role_details(role, obj)
    if obj is None:
        RoleAssignment.objects.get_or_create(user=user, role=role, defaults={"granted_by": by})
    else:
        for permission in ROLE_PERMISSIONS[role]:
            assign_perm(permission.value, user, obj)
    forget_cached_roles(user)
    record(action=AuditAction.ROLE_GRANTED, by=by, target=user, details=details)


@transaction.atomic
def role_revoke(*, user: User, role: Role, by: User | None, obj: Model | None = None) -> None:
    details = _role_details(role, obj)
    if ROLE_SCOPE[role] is Scope.GLOBAL:
        RoleAssignment.objects.filter(user=user, role=role).delete()
    else:
        for permission in ROLE_PERMISSIONS[role]:
            remove_perm(permission.value, user, obj)
    forget_cached_roles(user)
    record(action=AuditAction.ROLE_REVOKED, by=by, target=user, details=details)


# --- sign-in and two-factor -------------------------------------------------------------


@transaction.atomic
def session_sign_in(*, request: HttpRequest, user: User) -> None:
    """First factor accepted: start a fresh session (Django rotates the key)."""
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    now = timezone.now().timestamp()
    request.session[SIGNED_IN_AT_KEY] = now
    request.session[LAST_SEEN_KEY] = now
    record(action=AuditAction.SIGN_IN, by=user, target=user)


def session_sign_in_failed(*, email: str, locked_out: bool) -> None:
    record(
        action=AuditAction.SIGN_IN_LOCKED_OUT if locked_out else AuditAction.SIGN_IN_FAILED,
        outcome=AuditOutcome.DENIED if locked_out else AuditOutcome.FAILURE,
        actor_email=email[:254],
        details={},
    )


def session_sign_out(*, request: HttpRequest, reason: AuditAction = AuditAction.SIGN_OUT) -> None:
    user = request.user
    if isinstance(user, User):
        record(action=reason, by=user, target=user)
    logout(request)


def mfa_device_for_enrolment(*, user: User) -> TOTPDevice:
    """The unconfirmed device a user is enrolling (made on first visit)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def user_has_mfa_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _clean_token(token: str) -> str:
    return "".join(token.split())


def mfa_enrol_confirm(*, request: HttpRequest, user: User, token: str) -> None:
    """Confirm a new authenticator with its first code. A wrong code is
    recorded (and counted by the device's throttle) before the error is raised,
    so the failure is never rolled back with the attempt."""
    with transaction.atomic():
        if user_has_mfa_device(user):
            raise AccountError("Two-factor authentication is already set up for this account.")
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()
        if device is None:
            raise AccountError("Start the set-up again: no authenticator is waiting to be confirmed.")
        allowed, _ = device.verify_is_allowed()
        accepted = allowed and device.verify_token(_clean_token(token))
        if accepted:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            otp_login(request, device)
            request.session.cycle_key()
            record(action=AuditAction.MFA_ENROLLED, by=user, target=user)
            return
        record(
            action=AuditAction.MFA_FAILED,
            by=user,
            target=user,
            outcome=AuditOutcome.FAILURE,
            details={"step": "enrolment", "throttled": not allowed},
        )
    if not allowed:
        raise AccountError("Too many wrong codes. Wait a minute, then try again with a fresh code.")
    raise AccountError("That code is not right. Check the time on your phone and enter the current code.")


def mfa_verify(*, request: HttpRequest, user: User, token: str) -> None:
    """Second factor. A code is accepted once only (django-otp keeps the last
    time step used), and repeated failures slow further attempts down. Failures
    are committed (audit event, throttle counter) before the error is raised."""
    token = _clean_token(token)
    with transaction.atomic():
        devices = list(TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True))
        if not devices:
            raise AccountError("This account has no authenticator yet; set one up first.")
        throttled = False
        for device in devices:
            allowed, _ = device.verify_is_allowed()
            if not allowed:
                throttled = True
                continue
            if device.verify_token(token):
                otp_login(request, device)
                request.session.cycle_key()
                record(action=AuditAction.MFA_VERIFIED, by=user, target=user)
                return
        record(
            action=AuditAction.MFA_FAILED,
            by=user,
            target=user,
            outcome=AuditOutcome.DENIED if throttled else AuditOutcome.FAILURE,
            details={"step": "verify", "throttled": throttled},
        )
    if throttled:
        raise AccountError("Too many wrong codes. Wait a minute, then try again with a fresh code.")
    raise AccountError("That code is not right, or it has been used already. Enter the next code your app shows.")


# --- personal API tokens ----------------------------------------------------------------

API_TOKEN_KEY_PREFIX = "gre_"  # noqa: S105 -- a label, not a secret
API_TOKEN_MAX_LIVE = 10
API_TOKEN_LIFETIMES_DAYS = (30, 90, 365)


def api_token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, by: User, name: str, lifetime_days: int | None) -> tuple[ApiToken, str]:
    """Make a token for ``by`` and return it with its key, which is never stored
    and cannot be shown again. Callers must only offer this to a session that
    has passed the second factor (the account page does)."""
    name = name.strip()
    if not name:
        raise AccountError("Give the token a name, so you can tell it apart later.")
    if lifetime_days is not None and lifetime_days not in API_TOKEN_LIFETIMES_DAYS:
        raise AccountError("Choose one of the offered lifetimes.")
    live = ApiToken.objects.select_for_update().filter(user=by, revoked_at__isnull=True)
    now = timezone.now()
    if sum(1 for token in live if token.is_usable(now)) >= API_TOKEN_MAX_LIVE:
        raise AccountError(f"You already have {API_TOKEN_MAX_LIVE} tokens. Revoke one you no longer use first.")
    key = API_TOKEN_KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=by,
        name=name[:100],
        prefix=key[:10],
        key_hash=api_token_hash(key),
        created_at=now,
        expires_at=now + timedelta(days=lifetime_days) if lifetime_days else None,
    )
    record(
        action=AuditAction.API_TOKEN_CREATED,
        by=by,
        target=token,
        details={"name": token.name, "prefix": token.prefix, "lifetime_days": lifetime_days},
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != by.pk:
        raise AccountError("Only the owner of a token can revoke it.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(action=AuditAction.API_TOKEN_REVOKED, by=by, target=token, details={"prefix": token.prefix})
    return token


def api_token_refused(*, prefix: str, reason: str, user: User | None = None) -> None:
    """Record a refused API call (committed on its own: the request fails)."""
    record(
        action=AuditAction.API_TOKEN_REFUSED,
        by=user,
        outcome=AuditOutcome.DENIED,
        target_type="accounts.apitoken",
        details={"prefix": prefix[:10], "reason": reason},
    )
