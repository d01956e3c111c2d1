"""Reads about analysis jobs: fetch-and-authorise, lists, what a job page
shows (every count through disclosure control), pages of result tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from analysis.artifacts import Filter, Page, file_digest, read_page, svg_element
from analysis.jobtype import Column, JobType
from analysis.models import AnalysisJob, Artifact, ArtifactFile, ArtifactKind, JobInput, JobStatus
from analysis.permissions import check_user_can_see_job
from analysis.registry import job_types
from cohorts.selectors import cohorts_for_user
from disclosure.policy import current_policy
from disclosure.rules import SafeCount, safe_count
from domains.models import Project
from domains.permissions import DataAccessDenied, DataAccessReason, user_can_access_project_data
from domains.selectors import applications_for_review, projects_for_review, projects_of_user


def _jobs() -> QuerySet[AnalysisJob]:
    return AnalysisJob.objects.select_related("project", "release", "created_by").prefetch_related(
        Prefetch("inputs", queryset=JobInput.objects.select_related("cohort").order_by("position"))
    )


def job_get_for_user(*, user: Any, pk: int) -> AnalysisJob:
    """The job, if ``user`` may reach its project's data; Http404 for anyone
    else (its existence does not leak); ``DataAccessDenied`` (with the project)
    for a member whose access lapsed."""
    job = _jobs().select_related("project__domain").filter(pk=pk).first()
    if job is None:
        raise Http404
    try:
        check_user_can_see_job(user, job)
    except DataAccessDenied as error:
        if error.reason == DataAccessReason.NOT_MEMBER:
            raise Http404 from None
        error.project = job.project
        raise
    return job


def jobs_for_project(*, project: Project, status: str = "") -> QuerySet[AnalysisJob]:
    jobs = _jobs().filter(project=project)
    return jobs.filter(status=status) if status else jobs


def projects_with_data_access(*, user: Any) -> list[Project]:
    return [p for p in projects_of_user(user=user) if user_can_access_project_data(user, p)]


def jobs_for_user(*, user: Any, status: str = "") -> QuerySet[AnalysisJob]:
    """Jobs of every project whose data the user may reach now."""
    jobs = _jobs().filter(project__in=[p.pk for p in projects_with_data_access(user=user)])
    return jobs.filter(status=status) if status else jobs


def silent_seconds(job: AnalysisJob) -> float | None:
    """How long a running job's worker has sent nothing, when that is longer than the warning threshold."""
    if job.status != JobStatus.RUNNING or job.heartbeat_at is None:
        return None
    silent = (timezone.now() - job.heartbeat_at).total_seconds()
    return silent if silent >= settings.ANALYSIS_HEARTBEAT_WARN_SECONDS else None


def heartbeat_deadline(job: AnalysisJob):
    return (
        job.heartbeat_at + timedelta(seconds=settings.ANALYSIS_HEARTBEAT_TIMEOUT_SECONDS) if job.heartbeat_at else None
    )


@dataclass(frozen=True)
class InputRow:
    role: str
    cohort: Any
    members: SafeCount
    genomes: SafeCount


def job_inputs(job: AnalysisJob) -> list[InputRow]:
    policy = current_policy()
    return [
        InputRow(i.get_role_display(), i.cohort, safe_count(i.member_count, policy), safe_count(i.genome_count, policy))
        for i in job.inputs.all()
    ]


@dataclass(frozen=True)
class EstimateView:
    participants: list[tuple[str, str, SafeCount]]
    variants: int | None
    seconds: float
    memory_mb: float
    notes: list[str]


def estimate_view(estimate: dict[str, Any]) -> EstimateView | None:
    """A job's stored estimate with its participant counts controlled."""
    if not estimate:
        return None
    policy = current_policy()
    return EstimateView(
        participants=[(p["role"], p["cohort"], safe_count(p["count"], policy)) for p in estimate["participants"]],
        variants=estimate.get("variants"),
        seconds=estimate["seconds"],
        memory_mb=estimate["memory_mb"],
        notes=estimate.get("notes", []),
    )


@dataclass
class ArtifactView:
    artifact: Artifact
    files: list[ArtifactFile]
    svg: str = ""
    intact: bool = True
    columns: list[Column] = field(default_factory=list)


def columns_of(artifact: Artifact) -> list[Column]:
    return [Column(c["name"], c["type"], c["label"], c["description"]) for c in artifact.columns]


def job_artifacts(job: AnalysisJob) -> list[ArtifactView]:
    """The job's results for its page: tables with their columns, plots as inline SVG
    (only if the file still matches its checksum)."""
    if job.status != JobStatus.SUCCEEDED:
        return []
    views = []
    data_root = Path(settings.DATA_ROOT)
    for artifact in job.artifacts.select_related("source").prefetch_related("files"):
        files = list(artifact.files.all())
        view = ArtifactView(artifact, files, columns=columns_of(artifact))
        if artifact.kind == ArtifactKind.PLOT:
            svg = next((f for f in files if f.format == ArtifactFile.Format.SVG), None)
            if svg is not None:
                path = data_root / svg.path
                view.intact = path.exists() and file_digest(path) == (svg.sha256, svg.size_bytes)
                view.svg = svg_element(path) if view.intact else ""
        views.append(view)
    return views


def artifact_get(*, job: AnalysisJob, key: str, kind: str = "") -> Artifact:
    artifact = job.artifacts.filter(key=key).prefetch_related("files").first() if job.status == "succeeded" else None
    if artifact is None or (kind and artifact.kind != kind):
        raise Http404
    return artifact


def table_page(
    artifact: Artifact, *, page: int = 1, page_size: int = 50, sort: str = "", descending: bool = False,
    filters: list[Filter] | None = None,
) -> Page:  # fmt: skip
    """One page of a table artifact's rows, from its file (never the file itself)."""
    file = artifact.files.get(format=ArtifactFile.Format.PARQUET)
    return read_page(
        Path(settings.DATA_ROOT) / file.path, columns_of(artifact), page=page, page_size=page_size,
        sort=sort, descending=descending, filters=filters or [],
    )  # fmt: skip


def usable_job_types() -> list[JobType]:
    return list(job_types().values())


# --- the dashboard -----------------------------------------------------------------------------


@dataclass
class Work:
    """What the dashboard shows each user of their own work and of what waits for them."""

    projects: list[Project]
    cohorts: list[Any]
    jobs: list[AnalysisJob]
    applications_to_decide: int
    projects_to_decide: int


def work_for_user(*, user: Any, limit: int = 5) -> Work:
    return Work(
        projects=list(projects_of_user(user=user)[:limit]),
        cohorts=list(cohorts_for_user(user=user)[:limit]),
        jobs=list(jobs_for_user(user=user)[:limit]),
        applications_to_decide=applications_for_review(user=user).count(),
        projects_to_decide=projects_for_review(user=user).count(),
    )
