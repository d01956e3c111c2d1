"""Writing to the audit trail. Every service that changes or reads data calls
``record`` inside its own transaction, so the event commits with the change."""

from __future__ import annotations

from typing import Any

from django.db import connections, router, transaction
from django.db.models import Model
from django.utils import timezone

from audit import context
from audit.chain import GENESIS_HASH, canonical_content, compute_hash
from audit.models import AuditAction, AuditEvent, AuditOutcome

# Key of the PostgreSQL advisory lock that serialises appends to the chain.
CHAIN_LOCK_KEY = 0x4155444954  # "AUDIT"

_FORBIDDEN_DETAIL_KEYS = {"password", "token", "secret", "key", "otp", "code", "api_key"}


def _check_details(details: dict[str, Any]) -> None:
    for key in details:
        if key.lower() in _FORBIDDEN_DETAIL_KEYS:
            raise ValueError(f"Audit details must not carry secrets; refusing key {key!r}.")


def _lock_chain(using: str) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    # SQLite: transactions begin IMMEDIATE (see settings), so the database's
    # single write lock is already held and appends are serialised.


def record(
    *,
    action: AuditAction,
    by: Any = None,
    target: Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    details: dict[str, Any] | None = None,
    actor_email: str = "",
) -> AuditEvent:
    """Append one event to the chain and return it.

    ``by`` is the acting user (None for the system or an anonymous caller; then
    ``actor_email`` may name who was claimed, e.g. on a failed sign-in).
    ``target`` is a model instance, or give ``target_type``/``target_id``.
    """
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}.")
    details = dict(details or {})
    _check_details(details)
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    actor_id = None
    if by is not None and getattr(by, "is_authenticated", False):
        actor_id = by.pk
        actor_email = by.get_username()
    request_context = context.current()
    using = router.db_for_write(AuditEvent)

    with transaction.atomic(using=using):
        _lock_chain(using)
        last = AuditEvent.objects.using(using).order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        occurred_at = timezone.now()
        fields: dict[str, Any] = {
            "seq": seq,
            "occurred_at": occurred_at,
            "actor_id": actor_id,
            "actor_email": actor_email or "",
            "action": str(action),
            "target_type": target_type,
            "target_id": str(target_id),
            "outcome": str(outcome),
            "request_id": request_context.request_id,
            "ip_address": request_context.ip_address,
            "details": details,
        }
        content = canonical_content(**fields)
        # Store exactly what was hashed: JSON round-trips through the database.
        return AuditEvent.objects.using(using).create(
            **fields, prev_hash=prev_hash, hash=compute_hash(prev_hash, content)
        )
