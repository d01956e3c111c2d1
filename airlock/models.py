"""The airlock: the only way anything leaves the environment.

An ``OutputRequest`` is made by a member of a project (its author) and holds
``RequestFile`` rows: each a copy, under ``DATA_ROOT/airlock/``, of one
file of a finished job's artifact (a table exported as CSV, or a plot as PNG,
SVG or PDF), with the author's context and the disclosure controls applied,
and the results of the automated checks (``disclosure.checks``). Output
checkers vote per file (``Vote``) and submit their review of a round
(``Review``); two submitted reviews lift the blinding. Approved files are
frozen by SHA-256; a released request has a ``Release``: the ledger entry
with its machine-readable disclosure record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Being prepared by its author"
    SUBMITTED = "submitted", "Submitted, waiting for output checkers"
    PARTIALLY_REVIEWED = "partially_reviewed", "Reviewed by one output checker"
    REVIEWED = "reviewed", "Reviewed by two output checkers"
    APPROVED = "approved", "Approved, being released"
    RELEASED = "released", "Released"
    RETURNED = "returned", "Returned to its author for changes"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn by its author"


OPEN_STATUSES = (
    RequestStatus.PENDING,
    RequestStatus.SUBMITTED,
    RequestStatus.PARTIALLY_REVIEWED,
    RequestStatus.REVIEWED,
    RequestStatus.APPROVED,
    RequestStatus.RETURNED,
)
EDITABLE_STATUSES = (RequestStatus.PENDING, RequestStatus.RETURNED)
UNDER_REVIEW_STATUSES = (RequestStatus.SUBMITTED, RequestStatus.PARTIALLY_REVIEWED, RequestStatus.REVIEWED)


class OutputRequest(models.Model):
    project = models.ForeignKey("domains.Project", on_delete=models.PROTECT, related_name="output_requests")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="output_requests")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    round = models.PositiveSmallIntegerField(default=0, help_text="Review round: 1 at the first submission.")
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now, help_text="When it entered its status.")
    submitted_at = models.DateTimeField(null=True, blank=True, help_text="Last (re)submitted.")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_comment = models.TextField(blank=True, help_text="To the author, with a return or a rejection.")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "author"],
                condition=models.Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="one_open_output_request_per_author_and_project",
            ),
            models.CheckConstraint(
                condition=models.Q(decided_at__isnull=True, decided_by__isnull=True)
                | models.Q(decided_at__isnull=False, decided_by__isnull=False),
                name="output_request_decided_at_with_by",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="pending") | models.Q(round=0),
                name="output_request_pending_before_round_one",
            ),
        ]
        indexes = [models.Index(fields=["status", "status_changed_at"]), models.Index(fields=["project", "status"])]

    def __str__(self) -> str:
        return f"output request {self.pk} ({self.status})"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def directory(self) -> str:
        """Where its files live, relative to DATA_ROOT."""
        return f"airlock/requests/{self.pk}"


class CheckStatus(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    NEEDS_REVIEW = "needs_review", "Needs review"


class FileDecision(models.TextChoices):
    UNDECIDED = "undecided", "Undecided"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REJECTED = "rejected", "Rejected"
    CONFLICTED = "conflicted", "Conflicted"


class RequestFile(models.Model):
    """One file asked to leave: a copy of an artifact's file, checksummed."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        PNG = "png", "PNG"
        SVG = "svg", "SVG"
        PDF = "pdf", "PDF"

    request = models.ForeignKey(OutputRequest, on_delete=models.CASCADE, related_name="files")
    artifact = models.ForeignKey("analysis.Artifact", on_delete=models.PROTECT, related_name="output_files")
    format = models.CharField(max_length=4, choices=Format.choices)
    name = models.CharField(max_length=120, help_text="The file's name when released.")
    path = models.CharField(max_length=300, help_text="Relative to DATA_ROOT.")
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    n_rows = models.PositiveIntegerField(null=True, blank=True)
    context = models.TextField(blank=True, help_text="What the file shows and why it is needed outside.")
    controls = models.TextField(blank=True, help_text="The disclosure controls applied.")
    justification = models.TextField(blank=True, help_text="Why a file failing a check should leave anyway.")
    check_status = models.CharField(max_length=14, choices=CheckStatus.choices, default=CheckStatus.NEEDS_REVIEW)
    checks = models.JSONField(default=list, blank=True, help_text="Each rule's id, version, status and reasons.")
    checked_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now, help_text="When its content was last set.")
    changed_in_round = models.PositiveSmallIntegerField(default=0, help_text="Round in which its content was set.")
    decision = models.CharField(max_length=18, choices=FileDecision.choices, default=FileDecision.UNDECIDED)
    frozen_sha256 = models.CharField(max_length=64, blank=True, help_text="Set at approval: what may leave.")
    frozen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["request", "name"], name="unique_output_file_name_per_request"),
            models.UniqueConstraint(fields=["request", "artifact", "format"], name="unique_output_file_per_request"),
            models.CheckConstraint(condition=Exact(Length("sha256"), 64), name="output_file_sha256_length"),
            models.CheckConstraint(
                condition=models.Q(frozen_sha256="", frozen_at__isnull=True)
                | (~models.Q(frozen_sha256="") & models.Q(frozen_at__isnull=False)),
                name="output_file_frozen_with_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} of output request {self.request_id}"

    @property
    def is_plot(self) -> bool:
        return self.format != self.Format.CSV


class VoteChoice(models.TextChoices):
    UNDECIDED = "undecided", "Undecided"
    APPROVE = "approve", "Approve"
    REQUEST_CHANGES = "request_changes", "Request changes"
    REJECT = "reject", "Reject"


class CommentVisibility(models.TextChoices):
    PRIVATE = "private", "Private to output checkers"
    PUBLIC = "public", "Public to the author"


class Vote(models.Model):
    """One checker's vote on one file (their latest; the audit trail keeps every one)."""

    file = models.ForeignKey(RequestFile, on_delete=models.CASCADE, related_name="votes")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(max_length=16, choices=VoteChoice.choices, default=VoteChoice.UNDECIDED)
    comment = models.TextField(blank=True)
    visibility = models.CharField(max_length=8, choices=CommentVisibility.choices, default=CommentVisibility.PRIVATE)
    round = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["file", "reviewer"], name="one_vote_per_checker_and_file"),
            models.CheckConstraint(
                condition=~models.Q(choice="request_changes") | ~models.Q(comment=""),
                name="vote_request_changes_has_a_comment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.choice} on file {self.file_id}"


class Review(models.Model):
    """A checker's review of a request, submitted for one round."""

    request = models.ForeignKey(OutputRequest, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    round = models.PositiveSmallIntegerField()
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["submitted_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["request", "reviewer", "round"], name="one_review_per_checker_and_round")
        ]

    def __str__(self) -> str:
        return f"review of request {self.request_id} (round {self.round})"


class Release(models.Model):
    """The ledger: a released request, with its machine-readable disclosure record."""

    request = models.OneToOneField(OutputRequest, on_delete=models.PROTECT, related_name="release")
    project = models.ForeignKey("domains.Project", on_delete=models.PROTECT, related_name="output_releases")
    released_at = models.DateTimeField(default=timezone.now)
    record = models.JSONField(help_text="Rules, versions, thresholds, results, justifications, reviewers, times.")
    record_path = models.CharField(max_length=300, help_text="The record as a JSON file, relative to DATA_ROOT.")
    record_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-released_at", "-pk"]

    def __str__(self) -> str:
        return f"release of output request {self.request_id}"
