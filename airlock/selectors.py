"""Reads about output requests: fetch-and-authorise (404 for anyone who may not
see a request), the checkers' queue, what the request and review pages show
(blind votes, rendered files, provenance, earlier releases), the ledger."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from airlock import files as storage
from airlock.models import (
    UNDER_REVIEW_STATUSES,
    CommentVisibility,
    OutputRequest,
    Release,
    RequestFile,
    RequestStatus,
    Review,
    Vote,
)
from airlock.permissions import is_checker, is_on_project, user_can_check_request, user_can_see_request
from analysis.models import AnalysisJob, Artifact, ArtifactKind, JobStatus
from analysis.selectors import projects_with_data_access
from disclosure.checks import STATUS_LABELS
from domains.models import Project, ProjectMember

MAX_ROWS_SHOWN = 200


def _requests() -> QuerySet[OutputRequest]:
    return OutputRequest.objects.select_related("project__domain", "author", "decided_by").annotate(
        n_files=Count("files", distinct=True)
    )


def request_get_for_user(*, user: Any, pk: int) -> OutputRequest:
    request = _requests().filter(pk=pk).first()
    if request is None or not user_can_see_request(user, request):
        raise Http404
    return request


def file_get(*, request: OutputRequest, pk: int) -> RequestFile:
    file = request.files.select_related("artifact__job").filter(pk=pk).first()
    if file is None:
        raise Http404
    file.request = request
    return file


def requests_for_project(*, project: Project) -> QuerySet[OutputRequest]:
    return _requests().filter(project=project)


def requests_of_user(*, user: Any) -> QuerySet[OutputRequest]:
    projects = [p.pk for p in projects_with_data_access(user=user)]
    return _requests().filter(Q(author=user) | Q(project__in=projects))


# --- the checkers' queue ----------------------------------------------------------------------


QUEUE_FILTERS: dict[str, tuple[str, list[str]]] = {
    "waiting": ("Waiting for review", list(UNDER_REVIEW_STATUSES)),
    "submitted": ("Submitted", [RequestStatus.SUBMITTED]),
    "partially_reviewed": ("Reviewed once", [RequestStatus.PARTIALLY_REVIEWED]),
    "reviewed": ("Reviewed twice", [RequestStatus.REVIEWED]),
    "returned": ("Returned", [RequestStatus.RETURNED]),
    "decided": ("Approved, released or rejected",
                [RequestStatus.APPROVED, RequestStatus.RELEASED, RequestStatus.REJECTED]),
    "all": ("All", [s for s in RequestStatus.values if s != RequestStatus.PENDING]),
}  # fmt: skip


@dataclass
class QueueRow:
    request: OutputRequest
    age: timedelta
    waiting: timedelta
    reviews: int
    mine: bool  # the checker has submitted their review of this round


def review_queue(*, user: Any, show: str = "waiting", mine: str = "") -> list[QueueRow]:
    """Requests a checker may review: never their own, never of a project they are on."""
    if not is_checker(user):
        return []
    statuses = QUEUE_FILTERS.get(show, QUEUE_FILTERS["waiting"])[1]
    on_projects = ProjectMember.objects.filter(user=user).values("project_id")
    requests = (
        _requests()
        .filter(status__in=statuses)
        .exclude(author=user)
        .exclude(project__owner=user)
        .exclude(project__in=on_projects)
        .annotate(
            mine=Exists(Review.objects.filter(request=OuterRef("pk"), reviewer=user, round=OuterRef("round"))),
            reviews_this_round=Count("reviews", filter=Q(reviews__round=F("round")), distinct=True),
        )
        .order_by("status_changed_at", "pk")
    )
    if mine == "todo":
        requests = requests.filter(mine=False)
    elif mine == "done":
        requests = requests.filter(mine=True)
    now = timezone.now()
    return [QueueRow(r, now - r.created_at, now - r.status_changed_at, r.reviews_this_round, r.mine) for r in requests]


# --- one request ------------------------------------------------------------------------------


@dataclass
class VoteView:
    reviewer: Any
    choice: str
    label: str
    comment: str
    public: bool
    at: Any
    own: bool


@dataclass
class FileView:
    file: RequestFile
    checks: list[dict[str, Any]]
    status_label: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    more_rows: int = 0
    svg: str = ""
    png_data_uri: str = ""
    intact: bool = True
    votes: list[VoteView] = field(default_factory=list)
    my_vote: Vote | None = None
    decision_visible: bool = False


def blind(request: OutputRequest) -> bool:
    """Checkers see only their own votes until two reviews of the round are submitted."""
    return Review.objects.filter(request=request, round=request.round).count() < 2


def _render(view: FileView) -> None:
    file = view.file
    view.intact = storage.intact(file.path, file.sha256)
    if not view.intact:
        return
    data = storage.read(file.path)
    if file.format == RequestFile.Format.CSV:
        rows = storage.csv_rows(data)
        view.columns = list(rows[0].keys()) if rows else []
        view.rows = rows[:MAX_ROWS_SHOWN]
        view.more_rows = max(0, len(rows) - MAX_ROWS_SHOWN)
    elif file.format == RequestFile.Format.PNG:
        view.png_data_uri = "data:image/png;base64," + base64.b64encode(data).decode()
    else:  # SVG, and a PDF shown by the SVG drawn beside it
        text = data.decode("utf-8") if file.format == RequestFile.Format.SVG else storage.svg_source(file.artifact)
        start = text.find("<svg")
        view.svg = text[start:].strip() if start >= 0 else ""


def file_views(*, user: Any, request: OutputRequest, render: bool = True) -> list[FileView]:
    """The request's files as ``user`` may see them. Checkers: their own votes,
    others' once the blinding lifts (private comments to checkers only). The
    author and project members: public comments once the request is decided."""
    checker = user_can_check_request(user, request)
    is_blind = blind(request)
    decided = request.status in (RequestStatus.RETURNED, RequestStatus.REJECTED, RequestStatus.APPROVED,
                                 RequestStatus.RELEASED)  # fmt: skip
    files = request.files.select_related("artifact__job", "artifact__source").prefetch_related(
        Prefetch("votes", queryset=Vote.objects.select_related("reviewer")), "artifact__files"
    )
    views = []
    for f in files:
        view = FileView(f, f.checks, STATUS_LABELS.get(f.check_status, f.check_status))
        for v in f.votes.all():
            own = v.reviewer_id == user.pk
            if own:
                view.my_vote = v
            if checker and (own or not is_blind):
                view.votes.append(VoteView(v.reviewer, v.choice, v.get_choice_display(), v.comment,
                                           v.visibility == CommentVisibility.PUBLIC, v.at, own))  # fmt: skip
            elif not checker and decided and v.visibility == CommentVisibility.PUBLIC and v.comment:
                view.votes.append(VoteView(None, v.choice, v.get_choice_display(), v.comment, True, v.at, False))
        view.decision_visible = (checker and not is_blind) or (not checker and decided)
        if render:
            _render(view)
        views.append(view)
    return views


def reviews_of(request: OutputRequest) -> list[Review]:
    return list(request.reviews.filter(round=request.round).select_related("reviewer"))


@dataclass
class Provenance:
    job: AnalysisJob
    release: str
    cohorts: list[dict[str, Any]]
    parameters: dict[str, Any]
    withdrawn_since: bool


def provenance_of(request: OutputRequest) -> list[Provenance]:
    """Release, cohorts, job and parameters behind each job of the request (counts as controlled in provenance)."""
    jobs = AnalysisJob.objects.filter(artifacts__output_files__request=request).distinct().select_related("release")
    return [
        Provenance(
            j, j.release.name, j.provenance.get("cohorts", []), j.parameters, j.withdrawals_flagged_at is not None
        )
        for j in jobs.order_by("pk")
    ]


def releases_for_project(*, project: Project) -> QuerySet[Release]:
    return (
        Release.objects.filter(project=project)
        .select_related("request__author")
        .prefetch_related(Prefetch("request__files", queryset=RequestFile.objects.order_by("pk")))
    )


def exportable_artifacts(*, job: AnalysisJob) -> list[Artifact]:
    """Results of a finished job that may be asked to leave (never participant-level ones)."""
    if job.status != JobStatus.SUCCEEDED:
        return []
    return list(job.artifacts.filter(participant_level=False, kind__in=[ArtifactKind.TABLE, ArtifactKind.PLOT]))


def exportable_artifacts_for_project(*, project: Project) -> list[Artifact]:
    return list(
        Artifact.objects.filter(job__project=project, job__status=JobStatus.SUCCEEDED, participant_level=False)
        .select_related("job")
        .order_by("-job__queued_at", "position")
    )


def artifact_for_request(*, request: OutputRequest, pk: int | None) -> Artifact:
    artifact = (
        Artifact.objects.filter(pk=pk, job__project=request.project).select_related("job").prefetch_related("files")
        .first() if pk else None
    )  # fmt: skip
    if artifact is None:
        raise Http404
    return artifact


def on_project(user: Any, request: OutputRequest) -> bool:
    return is_on_project(user, request.project)
