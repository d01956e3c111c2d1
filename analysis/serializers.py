"""API shapes for jobs (input and output kept apart). A job type's own
parameter serializer is built from its declaration (``JobType.serializer_class``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from analysis.models import AnalysisJob, Artifact, ArtifactFile, CohortRole, JobStatus
from analysis.registry import job_types
from analysis.selectors import estimate_view, silent_seconds
from cohorts.serializers import SafeCountOut
from disclosure.policy import current_policy
from disclosure.rules import safe_count


class JobInputIn(serializers.Serializer):
    cohort = serializers.IntegerField(help_text="A saved cohort the project may use.")
    role = serializers.ChoiceField(choices=CohortRole.choices, default=CohortRole.COHORT,
                                   help_text="Its role in the job (see GET /api/v1/jobs/types/).")  # fmt: skip


class JobIn(serializers.Serializer):
    project = serializers.IntegerField(help_text="The project the job runs for.")
    job_type = serializers.ChoiceField(choices=[], help_text="Slug of the analysis (GET /api/v1/jobs/types/).")
    cohorts = JobInputIn(many=True, help_text="The input cohorts with their roles.")
    parameters = serializers.DictField(
        required=False, default=dict, help_text="The job type's parameters, as GET /api/v1/jobs/types/ lists them."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["job_type"].choices = [(slug, t.title) for slug, t in job_types().items()]


class JobInputOut(serializers.Serializer):
    cohort = serializers.IntegerField(source="cohort_id")
    name = serializers.CharField(source="cohort.name")
    version = serializers.IntegerField(source="cohort.version")
    role = serializers.CharField()
    members = serializers.SerializerMethodField(help_text="Usable members when submitted, controlled.")
    genomes = serializers.SerializerMethodField(help_text="Of them, with a genome, controlled.")

    @extend_schema_field(SafeCountOut)
    def get_members(self, item) -> dict[str, object]:
        return safe_count(item.member_count, current_policy()).as_json()

    @extend_schema_field(SafeCountOut)
    def get_genomes(self, item) -> dict[str, object]:
        return safe_count(item.genome_count, current_policy()).as_json()


class EstimateParticipantOut(serializers.Serializer):
    role = serializers.CharField()
    cohort = serializers.CharField()
    count = SafeCountOut()


class EstimateOut(serializers.Serializer):
    participants = EstimateParticipantOut(many=True)
    variants = serializers.IntegerField(allow_null=True)
    seconds = serializers.FloatField()
    memory_mb = serializers.FloatField()
    notes = serializers.ListField(child=serializers.CharField())


def estimate_json(estimate: dict[str, Any]) -> dict[str, Any] | None:
    view = estimate_view(estimate)
    if view is None:
        return None
    return {
        "participants": [{"role": r, "cohort": c, "count": n.as_json()} for r, c, n in view.participants],
        "variants": view.variants,
        "seconds": view.seconds,
        "memory_mb": view.memory_mb,
        "notes": view.notes,
    }


class JobOut(serializers.ModelSerializer):
    release = serializers.CharField(source="release.name")
    inputs = JobInputOut(many=True)
    estimate = serializers.SerializerMethodField()
    silent_seconds = serializers.SerializerMethodField(
        help_text="Running jobs only: seconds without progress, when past the warning threshold; else null."
    )
    withdrawals_flagged = serializers.SerializerMethodField(
        help_text="Computed with participants who have since withdrawn."
    )
    created_by = serializers.CharField(source="created_by.display_name")

    class Meta:
        model = AnalysisJob
        fields = ["id", "project", "job_type", "release", "inputs", "parameters", "status", "stage", "progress",
                  "progress_message", "attempts", "error", "queued_at", "started_at", "finished_at", "heartbeat_at",
                  "worker", "estimate", "blocks_total", "blocks_done", "provenance", "silent_seconds",
                  "withdrawals_flagged", "created_by"]  # fmt: skip

    @extend_schema_field(EstimateOut(allow_null=True))
    def get_estimate(self, job: AnalysisJob) -> dict[str, Any] | None:
        return estimate_json(job.estimate)

    def get_silent_seconds(self, job: AnalysisJob) -> float | None:
        return silent_seconds(job)

    def get_withdrawals_flagged(self, job: AnalysisJob) -> bool:
        return job.withdrawals_flagged_at is not None


class FileOut(serializers.ModelSerializer):
    class Meta:
        model = ArtifactFile
        fields = ["format", "sha256", "size_bytes"]


class ColumnOut(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    count = serializers.BooleanField(help_text="A count: disclosure-controlled (null when hidden).")


class ArtifactOut(serializers.ModelSerializer):
    files = FileOut(many=True, help_text="Checksums and sizes; the files themselves are never served.")
    columns = ColumnOut(many=True)
    source = serializers.SlugRelatedField(slug_field="key", read_only=True, allow_null=True)

    class Meta:
        model = Artifact
        fields = ["key", "kind", "title", "description", "columns", "n_rows", "source", "disclosure",
                  "participant_level", "files"]  # fmt: skip


class RowsOut(serializers.Serializer):
    count = serializers.IntegerField(help_text="Rows matching the filters.")
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    page_size = serializers.IntegerField()
    columns = ColumnOut(many=True)
    results = serializers.ListField(child=serializers.DictField(), help_text="Rows as objects, by column name.")


class RoleOut(serializers.Serializer):
    role = serializers.CharField()
    label = serializers.CharField()
    help = serializers.CharField()
    minimum = serializers.IntegerField()
    maximum = serializers.IntegerField()


class ParameterOut(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    help = serializers.CharField()
    kind = serializers.CharField()
    required = serializers.BooleanField()
    default = serializers.JSONField(allow_null=True)
    choices = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))


class JobTypeOut(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    queue = serializers.CharField()
    roles = RoleOut(many=True)
    parameters = ParameterOut(many=True, source="params")
    disclosure = serializers.ListField(child=serializers.CharField())


class JobListQuery(serializers.Serializer):
    project = serializers.IntegerField(required=False, help_text="Only this project's jobs.")
    status = serializers.ChoiceField(
        choices=JobStatus.choices,
        required=False,
        allow_blank=True,
        help_text="Only this status; empty for every status.",
    )


class RowsQuery(serializers.Serializer):
    page = serializers.IntegerField(required=False, default=1, min_value=1)
    page_size = serializers.IntegerField(required=False, default=100, min_value=1, max_value=1000)
    sort = serializers.CharField(required=False, default="", allow_blank=True, help_text="A column name.")
    order = serializers.ChoiceField(choices=["asc", "desc"], required=False, default="asc")
