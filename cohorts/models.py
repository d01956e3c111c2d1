"""Saved cohorts: a definition (criteria JSON) pinned to a data release, owned
by a project, with a snapshot of its members. Member ids are never shown to
researchers; they are read only inside analysis jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Cohort(models.Model):
    project = models.ForeignKey("domains.Project", on_delete=models.PROTECT, related_name="cohorts")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    release = models.ForeignKey("participants.DataRelease", on_delete=models.PROTECT, related_name="cohorts")
    definition = models.JSONField(help_text="Criteria, version 1 (see cohorts.criteria).")
    version = models.PositiveIntegerField(default=1)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    member_count = models.PositiveIntegerField(
        help_text="Members who may be used now: the snapshot less those withdrawn since (kept by the flagger)."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    withdrawals_flagged_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when some of its members withdrew (the register or a later release)."
    )
    withdrawn_members = models.PositiveIntegerField(default=0, help_text="Members of the snapshot withdrawn since.")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(version__gte=1), name="cohort_version_positive"),
            models.CheckConstraint(
                condition=models.Q(withdrawals_flagged_at__isnull=True, withdrawn_members=0)
                | models.Q(withdrawals_flagged_at__isnull=False, withdrawn_members__gt=0),
                name="cohort_flag_with_count",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version}, {self.release_id})"


class CohortMember(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="members")
    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "participant"], name="unique_cohort_member")]

    def __str__(self) -> str:
        return f"member of cohort {self.cohort_id}"


class CohortShare(models.Model):
    """A cohort made usable by another project's members (explicit, audited)."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="shares")
    project = models.ForeignKey("domains.Project", on_delete=models.CASCADE, related_name="shared_cohorts")
    shared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    shared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "project"], name="unique_cohort_share")]

    def __str__(self) -> str:
        return f"cohort {self.cohort_id} shared with project {self.project_id}"
