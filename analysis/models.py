"""Analysis jobs: the row is the source of truth for what was asked, what ran,
and what came out.

A job reads the exact saved cohort versions given as its inputs (``JobInput``,
with each cohort's role in the job and its usable member count at
submission), on the one release they are pinned to. Its results are
``Artifact`` rows (tables and plots) whose files live under
``DATA_ROOT/jobs/<id>/`` and are never served by the web tier: pages render
them, the API pages through table rows, and only the airlock may ever export
a file.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobStage(models.TextChoices):
    """Finer than the status: why a job waits, or what it is doing."""

    WAITING_FOR_WORKER = "waiting_for_worker", "Waiting for a worker"
    WAITING_FOR_SLOT = "waiting_for_slot", "Waiting for a slot (the project's limit of running jobs is reached)"
    PREPARING = "preparing", "Preparing the inputs"
    READING_GENOTYPES = "reading_genotypes", "Reading genotypes"
    COMPUTING = "computing", "Computing"
    COMBINING = "combining", "Combining the blocks"
    WRITING_RESULTS = "writing_results", "Writing results"
    STOPPING = "stopping", "Stopping at the next block (cancel asked for)"
    FINISHED = "finished", "Finished"


class AnalysisJob(models.Model):
    project = models.ForeignKey("domains.Project", on_delete=models.PROTECT, related_name="analysis_jobs")
    job_type = models.CharField(max_length=60, help_text="Slug of the job type (analysis.jobtypes).")
    queue = models.CharField(max_length=60, help_text="Celery queue of its tasks: its type's, when submitted.")
    release = models.ForeignKey("participants.DataRelease", on_delete=models.PROTECT, related_name="analysis_jobs")
    parameters = models.JSONField(default=dict, blank=True, help_text="Validated parameters of the job type.")
    estimate = models.JSONField(default=dict, blank=True, help_text="What the job would read, time and memory.")
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    stage = models.CharField(max_length=24, choices=JobStage.choices, default=JobStage.WAITING_FOR_WORKER)
    progress = models.PositiveSmallIntegerField(default=0)
    progress_message = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker started it.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    queued_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True, help_text="Last handed to the broker.")
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last progress from its worker.")
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="Host and process that ran it.")
    error = models.TextField(blank=True, help_text="What went wrong, in words a researcher can act on.")
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    blocks_total = models.PositiveIntegerField(default=0, help_text="Blocks of a block-split job (0: not split).")
    blocks_done = models.PositiveIntegerField(default=0)
    provenance = models.JSONField(default=dict, blank=True)
    withdrawals_flagged_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when participants whose data it used have since withdrawn."
    )
    withdrawn_participants = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-queued_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="job_progress_at_most_100"),
            models.CheckConstraint(
                condition=models.Q(withdrawals_flagged_at__isnull=True, withdrawn_participants=0)
                | models.Q(withdrawals_flagged_at__isnull=False, withdrawn_participants__gt=0),
                name="job_withdrawal_flag_with_count",
            ),
            models.CheckConstraint(
                condition=models.Q(cancel_requested_at__isnull=True, cancel_requested_by__isnull=True)
                | models.Q(cancel_requested_at__isnull=False, cancel_requested_by__isnull=False),
                name="job_cancel_requested_at_with_by",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["running", "succeeded"]) | models.Q(started_at__isnull=False),
                name="job_started_at_when_started",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running"], finished_at__isnull=True)
                | models.Q(status__in=["succeeded", "failed", "cancelled"], finished_at__isnull=False),
                name="job_finished_at_when_finished",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="failed") | ~models.Q(error=""), name="job_failure_has_an_error"
            ),
            models.CheckConstraint(
                condition=models.Q(blocks_done__lte=models.F("blocks_total")), name="job_blocks_done_within_total"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "status"]),
            models.Index(fields=["status", "heartbeat_at"]),
            models.Index(fields=["created_by", "-queued_at"]),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.job_type}, {self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def type_title(self) -> str:
        from analysis.registry import job_types

        jobtype = job_types().get(self.job_type)
        return jobtype.title if jobtype else self.job_type

    @property
    def provenance_json(self) -> str:
        import json

        return json.dumps(self.provenance, indent=2, sort_keys=True, ensure_ascii=False)

    @property
    def result_dir(self) -> str:
        """Where its results live, relative to DATA_ROOT."""
        return f"jobs/{self.pk}"


class CohortRole(models.TextChoices):
    """The part a cohort plays in a job; each job type says which roles it takes."""

    COHORT = "cohort", "Cohort"
    CASES = "cases", "Cases"
    CONTROLS = "controls", "Controls"


class JobInput(models.Model):
    """One input cohort of a job: the exact saved version, its role, and how
    many of its members the job may use (counted when it was submitted)."""

    job = models.ForeignKey(AnalysisJob, on_delete=models.CASCADE, related_name="inputs")
    cohort = models.ForeignKey("cohorts.Cohort", on_delete=models.PROTECT, related_name="job_inputs")
    role = models.CharField(max_length=16, choices=CohortRole.choices)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order among the job's inputs.")
    member_count = models.PositiveIntegerField(help_text="Usable members when submitted (raw; shown controlled).")
    genome_count = models.PositiveIntegerField(help_text="Of them, with a genome in the release (raw).")

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="unique_job_input_position"),
            models.UniqueConstraint(fields=["job", "cohort", "role"], name="unique_job_input_cohort_role"),
            models.CheckConstraint(
                condition=models.Q(genome_count__lte=models.F("member_count")), name="job_input_genomes_within_members"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} of job {self.job_id}: cohort {self.cohort_id}"


class JobLogEntry(models.Model):
    """One line of a job's log: steps, warnings, timings. Never data values."""

    class Level(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    job = models.ForeignKey(AnalysisJob, on_delete=models.CASCADE, related_name="log_entries")
    at = models.DateTimeField(default=timezone.now)
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.INFO)
    message = models.CharField(max_length=1000)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["job", "at"])]

    def __str__(self) -> str:
        return f"{self.level}: {self.message[:60]}"


class JobBlock(models.Model):
    """A block of a block-split job, per attempt: the join of the fan-out is
    counted here, exactly once per block, whatever the broker redelivers."""

    job = models.ForeignKey(AnalysisJob, on_delete=models.CASCADE, related_name="blocks")
    attempt = models.PositiveSmallIntegerField()
    index = models.PositiveIntegerField()
    spec = models.JSONField(help_text="What the block covers (job-type specific, e.g. a variant range).")
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["job", "attempt", "index"], name="unique_job_block")]

    def __str__(self) -> str:
        return f"block {self.index} of job {self.job_id} (attempt {self.attempt})"


class ArtifactKind(models.TextChoices):
    TABLE = "table", "Table"
    PLOT = "plot", "Plot"


class Artifact(models.Model):
    """A result of a job: a table (Parquet, typed columns) or a plot (SVG, PNG
    and PDF drawn from one of the job's tables). What its files hold is what
    may be shown: disclosure control was applied when they were written, and
    ``disclosure`` records the rules and their version."""

    job = models.ForeignKey(AnalysisJob, on_delete=models.CASCADE, related_name="artifacts")
    key = models.SlugField(max_length=60, help_text="Name of the artifact within its job type.")
    kind = models.CharField(max_length=8, choices=ArtifactKind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    columns = models.JSONField(default=list, blank=True, help_text="Tables: name, type, label, description, count.")
    n_rows = models.PositiveIntegerField(null=True, blank=True)
    source = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="plots", help_text="Plots: the table."
    )
    disclosure = models.JSONField(default=dict, help_text="Rules applied, their version and the policy.")
    participant_level = models.BooleanField(default=False, help_text="Rows describe single participants.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "key"], name="unique_artifact_key_per_job"),
            models.CheckConstraint(
                condition=models.Q(kind="table", source__isnull=True, n_rows__isnull=False)
                | models.Q(kind="plot", source__isnull=False, n_rows__isnull=True),
                name="artifact_table_rows_or_plot_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} of job {self.job_id}"


class ArtifactFile(models.Model):
    """One file of an artifact, checksummed and sized when written."""

    class Format(models.TextChoices):
        PARQUET = "parquet", "Parquet"
        SVG = "svg", "SVG"
        PNG = "png", "PNG"
        PDF = "pdf", "PDF"

    artifact = models.ForeignKey(Artifact, on_delete=models.CASCADE, related_name="files")
    format = models.CharField(max_length=8, choices=Format.choices)
    path = models.CharField(max_length=300, help_text="Relative to DATA_ROOT.")
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["format"]
        constraints = [
            models.UniqueConstraint(fields=["artifact", "format"], name="unique_artifact_file_format"),
            models.CheckConstraint(condition=Exact(Length("sha256"), 64), name="artifact_file_sha256_length"),
        ]

    def __str__(self) -> str:
        return f"{self.format} of artifact {self.artifact_id}"
