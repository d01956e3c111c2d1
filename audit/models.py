"""The audit trail: append-only (enforced by database triggers) and hash-chained."""

from __future__ import annotations

from django.db import models


class AuditAction(models.TextChoices):
    SIGN_IN = "auth.sign_in", "Signed in (password)"
    SIGN_IN_FAILED = "auth.sign_in_failed", "Sign-in failed"
    SIGN_IN_LOCKED_OUT = "auth.locked_out", "Sign-in refused: account locked"
    SIGN_OUT = "auth.sign_out", "Signed out"
    SESSION_EXPIRED = "auth.session_expired", "Session expired"
    MFA_ENROLLED = "auth.mfa_enrolled", "Two-factor device enrolled"
    MFA_VERIFIED = "auth.mfa_verified", "Two-factor code accepted"
    MFA_FAILED = "auth.mfa_failed", "Two-factor code rejected"
    ACCOUNT_CREATED = "account.created", "Account created"
    ACCOUNT_UPDATED = "account.updated", "Account details changed"
    PASSWORD_CHANGED = "account.password_changed", "Password changed"
    AGREEMENT_ACCEPTED = "account.agreement_accepted", "Data access agreement accepted"
    ROLE_GRANTED = "access.role_granted", "Role granted"
    ROLE_REVOKED = "access.role_revoked", "Role revoked"
    ONTOLOGY_LOADED = "data.ontology_loaded", "Ontology loaded"
    RELEASE_INGESTED = "data.release_ingested", "Data release ingested"
    RELEASE_REJECTED = "data.release_rejected", "Data release refused at validation"
    WITHDRAWAL_RECORDED = "data.withdrawal_recorded", "Withdrawal of consent recorded in the register"
    WITHDRAWALS_REFUSED = "data.withdrawals_refused", "Withdrawals refused: nothing recorded"
    WITHDRAWALS_VIEWED = "data.withdrawals_viewed", "Withdrawal register viewed"
    COHORT_COUNTED = "cohort.counted", "Cohort count queried"
    COHORT_SAVED = "cohort.saved", "Cohort saved"
    COHORT_VERSIONED = "cohort.versioned", "Cohort re-run on a newer release"
    COHORT_SHARED = "cohort.shared", "Cohort shared with another project"
    COHORT_VIEWED = "cohort.viewed", "Cohort viewed"
    COHORTS_FLAGGED = "cohort.withdrawals_flagged", "Cohorts flagged for withdrawn participants"
    AUDIT_VIEWED = "audit.viewed", "Audit trail viewed"
    AUDIT_VERIFIED = "audit.verified", "Audit chain verified"
    API_TOKEN_CREATED = "api.token_created", "API token created"
    API_TOKEN_REVOKED = "api.token_revoked", "API token revoked"
    API_TOKEN_REFUSED = "api.token_refused", "API token refused"
    DOMAIN_CREATED = "domain.created", "Research domain created"
    DOMAIN_UPDATED = "domain.updated", "Research domain changed"
    MEMBERSHIP_APPLIED = "membership.applied", "Applied to join a domain"
    MEMBERSHIP_WITHDRAWN = "membership.withdrawn", "Domain application withdrawn"
    MEMBERSHIP_APPROVED = "membership.approved", "Domain application approved"
    MEMBERSHIP_REJECTED = "membership.rejected", "Domain application rejected"
    MEMBERSHIP_REVOKED = "membership.revoked", "Domain membership revoked"
    PROJECT_SUBMITTED = "project.submitted", "Project submitted"
    PROJECT_RESUBMITTED = "project.resubmitted", "Project resubmitted"
    PROJECT_APPROVED = "project.approved", "Project approved"
    PROJECT_REJECTED = "project.rejected", "Project rejected"
    PROJECT_RETURNED = "project.returned", "Project returned for changes"
    PROJECT_WITHDRAWN = "project.withdrawn", "Project withdrawn"
    PROJECT_CLOSED = "project.closed", "Project closed at its end date"
    PROJECT_MEMBER_ADDED = "project.member_added", "Project member added"
    PROJECT_MEMBER_REMOVED = "project.member_removed", "Project member removed"
    DATA_ACCESS_REFUSED = "data.access_refused", "Access to project data refused"
    JOB_SUBMITTED = "job.submitted", "Analysis job submitted"
    JOB_STARTED = "job.started", "Analysis job started by a worker"
    JOB_SUCCEEDED = "job.succeeded", "Analysis job succeeded"
    JOB_FAILED = "job.failed", "Analysis job failed"
    JOB_CANCEL_REQUESTED = "job.cancel_requested", "Analysis job cancel asked for"
    JOB_CANCELLED = "job.cancelled", "Analysis job cancelled"
    JOB_RETRIED = "job.retried", "Analysis job retried"
    JOB_RESULT_VIEWED = "job.result_viewed", "Analysis results viewed"
    JOBS_FLAGGED = "job.withdrawals_flagged", "Analysis jobs flagged for withdrawn participants"
    OUTPUT_REQUEST_CREATED = "output.request_created", "Output request created"
    OUTPUT_FILE_ADDED = "output.file_added", "File added to an output request"
    OUTPUT_FILE_CHANGED = "output.file_changed", "File of an output request changed (votes reset)"
    OUTPUT_FILE_DESCRIBED = "output.file_described", "Context, controls or justification of an output file changed"
    OUTPUT_FILE_REMOVED = "output.file_removed", "File removed from an output request"
    OUTPUT_REQUEST_SUBMITTED = "output.request_submitted", "Output request submitted"
    OUTPUT_REQUEST_RESUBMITTED = "output.request_resubmitted", "Output request resubmitted"
    OUTPUT_REQUEST_WITHDRAWN = "output.request_withdrawn", "Output request withdrawn"
    OUTPUT_VOTED = "output.voted", "Output checker voted on a file"
    OUTPUT_REVIEW_SUBMITTED = "output.review_submitted", "Output checker submitted a review"
    OUTPUT_REQUEST_REVIEWED = "output.request_reviewed", "Output request reviewed by two checkers"
    OUTPUT_REQUEST_APPROVED = "output.request_approved", "Output request approved (files frozen)"
    OUTPUT_REQUEST_RETURNED = "output.request_returned", "Output request returned to its author"
    OUTPUT_REQUEST_REJECTED = "output.request_rejected", "Output request rejected"
    OUTPUT_REQUEST_RELEASED = "output.request_released", "Output request released"
    OUTPUT_RELEASE_REFUSED = "output.release_refused", "Release refused: stored bytes changed since approval"
    OUTPUT_REQUEST_VIEWED = "output.request_viewed", "Output request opened for review"
    OUTPUT_DOWNLOADED = "output.downloaded", "Released output downloaded"
    OUTPUT_DOWNLOAD_REFUSED = "output.download_refused", "Download refused: stored bytes do not match"
    OUTPUT_FILES_FLAGGED = "output.withdrawals_flagged", "Output files flagged for withdrawn participants"


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    DENIED = "denied", "Denied"


class AuditEvent(models.Model):
    """One thing that happened, who did it, to what, and how it ended.

    Targets and actors are stored by type and id, without foreign keys, so an
    event outlives whatever it names. ``details`` holds context (field names,
    states, reasons), never secrets or data values.
    """

    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64, choices=AuditAction.choices, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=16, choices=AuditOutcome.choices, default=AuditOutcome.SUCCESS)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["target_type", "target_id"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="audit_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_email or 'system'}"

    @property
    def details_json(self) -> str:
        import json

        return json.dumps(self.details, sort_keys=True, ensure_ascii=False)
