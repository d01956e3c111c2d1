"""The hash chain: how an event's hash is computed and how a chain is checked."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_content(
    *,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor_email: str,
    action: str,
    target_type: str,
    target_id: str,
    outcome: str,
    request_id: str,
    ip_address: str | None,
    details: dict[str, Any],
) -> str:
    """The exact bytes (as text) an event's hash covers, apart from the previous hash."""
    return json.dumps(
        {
            "seq": seq,
            "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor_email": actor_email,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "outcome": outcome,
            "request_id": request_id,
            "ip_address": ip_address,
            "details": details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def compute_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def event_hash(event: Any) -> str:
    """Recompute the hash of a stored event from its fields."""
    return compute_hash(
        event.prev_hash,
        canonical_content(
            seq=event.seq,
            occurred_at=event.occurred_at,
            actor_id=event.actor_id,
            actor_email=event.actor_email,
            action=event.action,
            target_type=event.target_type,
            target_id=event.target_id,
            outcome=event.outcome,
            request_id=event.request_id,
            ip_address=event.ip_address,
            details=event.details,
        ),
    )


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    event_id: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    last_hash: str
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify_events(events: Iterable[Any]) -> ChainReport:
    """Walk events in ``seq`` order; report the first one that breaks the chain."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in events:
        if event.seq != expected_seq:
            reason = (
                f"sequence jumps from {expected_seq - 1} to {event.seq}: {event.seq - expected_seq} event(s) missing"
            )
            return ChainReport(checked, expected_prev, ChainBreak(event.seq, event.id, reason))
        if event.prev_hash != expected_prev:
            reason = "its previous-hash does not match the hash of the event before it"
            return ChainReport(checked, expected_prev, ChainBreak(event.seq, event.id, reason))
        if event_hash(event) != event.hash:
            reason = "its content does not match its hash (the row was altered)"
            return ChainReport(checked, expected_prev, ChainBreak(event.seq, event.id, reason))
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    return ChainReport(checked, expected_prev, None)
