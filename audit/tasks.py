"""Celery adapters for the audit trail."""

from celery import shared_task

from audit.models import AuditAction, AuditOutcome
from audit.selectors import audit_chain_verify
from audit.services import record


@shared_task(name="audit.verify_chain", soft_time_limit=1800, time_limit=1900)
def verify_chain() -> bool:
    """Verify the chain and write the verdict into the chain itself.

    Safe to run twice: each run appends one verdict, and a verdict never changes
    what it checked.
    """
    report = audit_chain_verify()
    details: dict[str, object] = {"checked": report.checked}
    if report.broken is not None:
        details.update({"broken_seq": report.broken.seq, "reason": report.broken.reason})
    record(
        action=AuditAction.AUDIT_VERIFIED,
        outcome=AuditOutcome.SUCCESS if report.intact else AuditOutcome.FAILURE,
        details=details,
    )
    return report.intact
