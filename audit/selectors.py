from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.authorization import Permission, has_permission
from audit.chain import ChainReport, verify_events
from audit.models import AuditEvent


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""
    outcome: str = ""
    target_type: str = ""
    target_id: str = ""
    since: date | None = None
    until: date | None = None


def audit_events_for_user(*, user: object, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Audit events a governance reviewer may read, filtered; 404 for anyone else."""
    if not has_permission(user, Permission.AUDIT_VIEW):
        raise Http404
    events = AuditEvent.objects.all().order_by("-seq")
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.actor:
        events = events.filter(actor_email__icontains=filters.actor)
    if filters.outcome:
        events = events.filter(outcome=filters.outcome)
    if filters.target_type:
        events = events.filter(target_type=filters.target_type)
    if filters.target_id:
        events = events.filter(target_id=filters.target_id)
    tz = timezone.get_default_timezone()
    if filters.since:
        events = events.filter(occurred_at__gte=datetime.combine(filters.since, time.min, tzinfo=tz))
    if filters.until:
        events = events.filter(occurred_at__lte=datetime.combine(filters.until, time.max, tzinfo=tz))
    return events


def audit_chain_verify(*, using: str = "default", batch_size: int = 2000) -> ChainReport:
    """Check the whole chain, streaming rows in ``seq`` order."""
    events = AuditEvent.objects.using(using).order_by("seq").iterator(chunk_size=batch_size)
    return verify_events(events)
