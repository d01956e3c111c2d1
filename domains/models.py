"""Research domains, who may join them, and the projects registered in them:
safe people and safe projects."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone


class Programme(models.TextChoices):
    CANCER = "cancer", "Cancer"
    RARE_DISEASE = "rare_disease", "Rare disease"
    CROSS_CUTTING = "cross_cutting", "Cross-cutting"


# Fixed pages under /domains/ (domains/urls.py builds its paths from these):
# a domain may not take one of them as its slug.
REVIEW_PAGE = "review"
APPLICATIONS_PAGE = "applications"
RESERVED_SLUGS = [REVIEW_PAGE, APPLICATIONS_PAGE]


class Domain(models.Model):
    """A research domain: researchers grouped around a condition or a method.
    Its leads hold the domain-lead role on it (object permissions)."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    programme = models.CharField(max_length=20, choices=Programme.choices)
    description = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["programme", "name"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="unique_domain_name_per_programme"),
            # These words are pages under /domains/, not domains.
            models.CheckConstraint(condition=~models.Q(slug__in=RESERVED_SLUGS), name="domain_slug_not_reserved"),
        ]
        permissions = [
            ("review_membership", "Can decide applications to join this domain"),
            ("review_project", "Can decide projects registered in this domain"),
        ]

    def __str__(self) -> str:
        return self.name


class MembershipStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a decision"
    APPROVED = "approved", "Member"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    REVOKED = "revoked", "Membership revoked"


# An application in one of these statuses blocks a new one to the same domain
# (the constraint below, the check before applying, the directory's "your status").
OPEN_MEMBERSHIP_STATUSES = [MembershipStatus.PENDING.value, MembershipStatus.APPROVED.value]


class MembershipApplication(models.Model):
    """One application by one researcher to one domain. An approved application
    *is* the membership; after rejection, withdrawal or revocation the
    researcher may apply again, which makes a new row."""

    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="domain_applications"
    )
    justification = models.TextField()
    status = models.CharField(max_length=16, choices=MembershipStatus.choices, default=MembershipStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When it was withdrawn or revoked.")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "applicant"],
                condition=models.Q(status__in=OPEN_MEMBERSHIP_STATUSES),
                name="one_open_application_per_domain",
            ),
            models.CheckConstraint(
                condition=models.Q(decided_at__isnull=True, decided_by__isnull=True)
                | models.Q(decided_at__isnull=False, decided_by__isnull=False),
                name="application_decided_at_with_by",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["approved", "rejected", "revoked"])
                | models.Q(decided_at__isnull=False),
                name="application_decision_recorded",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["withdrawn", "revoked"]) | models.Q(closed_at__isnull=False),
                name="application_closed_at_when_closed",
            ),
        ]
        indexes = [models.Index(fields=["domain", "status"]), models.Index(fields=["applicant", "status"])]

    def __str__(self) -> str:
        return f"{self.applicant} → {self.domain} ({self.get_status_display()})"

    @property
    def is_membership(self) -> bool:
        return self.status == MembershipStatus.APPROVED


class ProjectStatus(models.TextChoices):
    SUBMITTED = "submitted", "Waiting for review"
    RETURNED = "returned", "Returned for changes"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    CLOSED = "closed", "Closed"


class Project(models.Model):
    """A piece of research registered in a domain. Its data may be reached only
    while it is approved and current (today is on or before ``end_date``)."""

    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="projects")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_projects")
    title = models.CharField(max_length=200)
    lay_summary = models.TextField(help_text="For the public register: plain words, no jargon.")
    aims = models.TextField()
    data_needed = models.TextField()
    planned_outputs = models.TextField()
    end_date = models.DateField()
    status = models.CharField(max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.SUBMITTED)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    approved_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decided_at__isnull=True, decided_by__isnull=True)
                | models.Q(decided_at__isnull=False, decided_by__isnull=False),
                name="project_decided_at_with_by",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["approved", "closed"]) | models.Q(approved_on__isnull=False),
                name="project_approved_on_when_approved",
            ),
        ]
        indexes = [models.Index(fields=["domain", "status"]), models.Index(fields=["status", "end_date"])]

    def __str__(self) -> str:
        return self.title

    def is_current(self, on: date | None = None) -> bool:
        """Approved and not past its end date: data access stops the day after ``end_date``."""
        on = on or timezone.localdate()
        return self.status == ProjectStatus.APPROVED and on <= self.end_date

    def has_ended(self, on: date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.status == ProjectStatus.CLOSED or (self.status == ProjectStatus.APPROVED and on > self.end_date)


class ProjectMember(models.Model):
    """A researcher working on a project. The owner is a member from the start;
    others are added by the owner from the members of the project's domain."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="project_memberships")
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="unique_project_member")]

    def __str__(self) -> str:
        return f"{self.user} on {self.project}"
