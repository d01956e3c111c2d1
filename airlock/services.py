"""Writes about output requests. Each service takes the acting user as ``by``,
checks who may act and what the state allows (``airlock.permissions``,
``airlock.policies``), runs in one transaction and records its audit event in
it; e-mails go after commit. Status changes lock the request row
(``select_for_update``), so two checkers submitting at the same moment
cannot skip or double a transition.

Authors: :func:`request_create`, :func:`request_file_add`,
:func:`request_file_update`, :func:`request_file_replace`,
:func:`request_file_remove`, :func:`request_submit`, :func:`request_withdraw`,
:func:`file_download`, :func:`record_download`. Checkers: :func:`vote_cast`,
:func:`review_submit`, :func:`request_decide`. The system:
:func:`request_release` (a Celery task after approval; the sweep releases
any approval whose task was lost), :func:`requests_flag_withdrawals`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import KombuError

from accounts.models import Role, RoleAssignment
from airlock import files as storage
from airlock.models import (
    UNDER_REVIEW_STATUSES,
    CheckStatus,
    CommentVisibility,
    FileDecision,
    OutputRequest,
    Release,
    RequestFile,
    RequestStatus,
    Review,
    Vote,
    VoteChoice,
)
from airlock.permissions import (
    check_user_can_act,
    check_user_can_create_request,
    check_user_can_download,
    is_on_project,
    user_can_check_request,
)
from airlock.policies import REQUEST, Action, TransitionNotAllowed
from analysis.models import AnalysisJob, Artifact, ArtifactKind, JobStatus
from audit.models import AuditAction, AuditOutcome
from audit.services import record
from cohorts.models import CohortMember
from disclosure import checks
from disclosure.policy import current_policy
from domains.models import Project
from domains.notifications import notify_after_commit
from domains.permissions import NotAllowed
from participants.models import DataRelease, Participant, Tumour
from participants.selectors import release_current

logger = logging.getLogger(__name__)


class AirlockError(Exception):
    """What was asked cannot be done; the message says why, in words a researcher understands."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class TamperedFile(AirlockError):
    """The stored bytes no longer match the checksum frozen at approval."""


def limits() -> checks.Limits:
    return checks.Limits(
        allowed_formats=tuple(settings.AIRLOCK_ALLOWED_FORMATS),
        max_bytes=settings.AIRLOCK_MAX_FILE_BYTES,
        max_rows=settings.AIRLOCK_MAX_ROWS,
        min_residual_df=settings.AIRLOCK_MIN_RESIDUAL_DF,
        variant_min_af=settings.AIRLOCK_VARIANT_MIN_AF,
        variant_min_ac=settings.AIRLOCK_VARIANT_MIN_AC,
        selected_variants_max=settings.AIRLOCK_SELECTED_VARIANTS_MAX,
    )


def _locked(request: OutputRequest) -> OutputRequest:
    return OutputRequest.objects.select_for_update().select_related("project__domain", "author").get(pk=request.pk)


def _move(request: OutputRequest, action: Action, *, now: datetime | None = None) -> str:
    """The status ``action`` leads to from the request's current status (raises if not allowed)."""
    target = REQUEST.transition(request.status, action).target
    if target != request.status:
        request.status = target
        request.status_changed_at = now or timezone.now()
    return target


def _checkers_for(request: OutputRequest) -> list[Any]:
    users = [a.user for a in RoleAssignment.objects.filter(role=Role.OUTPUT_CHECKER).select_related("user")]
    return [u for u in users if u.is_active and user_can_check_request(u, request)]


def _link(request: OutputRequest) -> str:
    return f"/outputs/{request.pk}/ in the portal"


# --- building a request -----------------------------------------------------------------------


@transaction.atomic
def request_create(*, by: Any, project: Project, title: str = "") -> OutputRequest:
    """A new pending request of ``by`` for ``project`` (one open request per author and project)."""
    check_user_can_create_request(by, project)
    Project.objects.select_for_update().filter(pk=project.pk).first()  # serialise creations per project
    existing = OutputRequest.objects.filter(project=project, author=by, status__in=_open()).first()
    if existing is not None:
        raise AirlockError(f"You already have an open output request for this project (request {existing.pk}).")
    request = OutputRequest.objects.create(
        project=project, author=by, title=title.strip() or f"Outputs of {project.title}"
    )
    record(action=AuditAction.OUTPUT_REQUEST_CREATED, by=by, target=request, details={"project": project.pk})
    return request


def _open() -> list[str]:
    from airlock.models import OPEN_STATUSES

    return [s.value for s in OPEN_STATUSES]


def open_request_for(*, user: Any, project: Project) -> OutputRequest | None:
    return OutputRequest.objects.filter(project=project, author=user, status__in=_open()).first()


def _exportable(artifact: Artifact, fmt: str) -> str:
    """The file format for ``artifact``, or AirlockError saying why it cannot leave."""
    if artifact.job.status != JobStatus.SUCCEEDED:
        raise AirlockError("Only results of finished jobs can be exported.")
    if artifact.participant_level:
        raise AirlockError("Participant-level results can never leave the environment.")
    if artifact.kind == ArtifactKind.TABLE:
        if fmt not in ("", "csv"):
            raise AirlockError("Tables leave as CSV.", field="format")
        return "csv"
    if artifact.kind == ArtifactKind.PLOT:
        fmt = fmt or "png"
        if fmt not in ("png", "svg", "pdf"):
            raise AirlockError("Plots leave as PNG, SVG or PDF.", field="format")
        return fmt
    raise AirlockError("Only tables and plots can be exported.")


def _copy(request: OutputRequest, artifact: Artifact, fmt: str) -> tuple[str, str, bytes, int | None]:
    try:
        data = storage.export_bytes(artifact, fmt)
    except storage.FileProblem as error:
        raise AirlockError(str(error)) from None
    name = f"job{artifact.job_id}-{artifact.key}.{fmt}"
    path = f"{request.directory}/{storage.sha256_of(data)[:12]}-{name}"
    storage.store(path, data)
    rows = len(storage.csv_rows(data)) if fmt == "csv" else None
    return name, path, data, rows


def _check_artifact_project(request: OutputRequest, artifact: Artifact) -> None:
    if artifact.job.project_id != request.project_id:
        raise AirlockError("Only results of this project's jobs can be added.")


@transaction.atomic
def request_file_add(
    *, by: Any, request: OutputRequest, artifact: Artifact, format: str = "", context: str = "", controls: str = ""
) -> RequestFile:
    request = _locked(request)
    check_user_can_act(by, request, Action.EDIT)
    _check_artifact_project(request, artifact)
    fmt = _exportable(artifact, format)
    if request.files.filter(artifact=artifact, format=fmt).exists():
        raise AirlockError(f"“{artifact.title}” ({fmt.upper()}) is already in this request.")
    name, path, data, rows = _copy(request, artifact, fmt)
    file = RequestFile.objects.create(
        request=request, artifact=artifact, format=fmt, name=name, path=path, sha256=storage.sha256_of(data),
        size_bytes=len(data), n_rows=rows, context=context.strip(), controls=controls.strip(),
        changed_in_round=request.round,
    )  # fmt: skip
    record(
        action=AuditAction.OUTPUT_FILE_ADDED, by=by, target=request,
        details={"file": file.pk, "name": name, "artifact": artifact.pk, "sha256": file.sha256},
    )  # fmt: skip
    request_checks_run(request=request)
    file.refresh_from_db()
    return file


@transaction.atomic
def request_file_update(
    *, by: Any, file: RequestFile, context: str | None = None, controls: str | None = None,
    justification: str | None = None,
) -> RequestFile:  # fmt: skip
    """The author's words about a file; its content (and its votes) stay."""
    request = _locked(file.request)
    check_user_can_act(by, request, Action.EDIT)
    changed = []
    for name, value in (("context", context), ("controls", controls), ("justification", justification)):
        if value is not None and value.strip() != getattr(file, name):
            setattr(file, name, value.strip())
            changed.append(name)
    if changed:
        file.save(update_fields=changed)
        record(action=AuditAction.OUTPUT_FILE_DESCRIBED, by=by, target=request,
               details={"file": file.pk, "fields": changed})  # fmt: skip
    return file


@transaction.atomic
def request_file_replace(*, by: Any, file: RequestFile, artifact: Artifact, format: str = "") -> RequestFile:
    """New content for a file (another result, or another format): its votes are reset."""
    request = _locked(file.request)
    check_user_can_act(by, request, Action.EDIT)
    _check_artifact_project(request, artifact)
    fmt = _exportable(artifact, format)
    if request.files.filter(artifact=artifact, format=fmt).exclude(pk=file.pk).exists():
        raise AirlockError(f"“{artifact.title}” ({fmt.upper()}) is already in this request.")
    old_path = file.path
    name, path, data, rows = _copy(request, artifact, fmt)
    file.artifact, file.format, file.name, file.path = artifact, fmt, name, path
    file.sha256, file.size_bytes, file.n_rows = storage.sha256_of(data), len(data), rows
    file.changed_at, file.changed_in_round, file.decision = timezone.now(), request.round, FileDecision.UNDECIDED
    file.justification = ""
    file.save()
    reset = file.votes.count()
    file.votes.all().delete()
    if old_path != path:
        transaction.on_commit(lambda: storage.remove(old_path))
    record(
        action=AuditAction.OUTPUT_FILE_CHANGED, by=by, target=request,
        details={"file": file.pk, "name": name, "artifact": artifact.pk, "sha256": file.sha256, "votes_reset": reset},
    )  # fmt: skip
    request_checks_run(request=request)
    file.refresh_from_db()
    return file


@transaction.atomic
def request_file_remove(*, by: Any, file: RequestFile) -> None:
    request = _locked(file.request)
    check_user_can_act(by, request, Action.EDIT)
    path, pk, name = file.path, file.pk, file.name
    file.delete()
    transaction.on_commit(lambda: storage.remove(path))
    record(action=AuditAction.OUTPUT_FILE_REMOVED, by=by, target=request, details={"file": pk, "name": name})
    request_checks_run(request=request)


# --- automated checks -------------------------------------------------------------------------


class _Facts:
    """What the checks of one request need from the database, read once per run."""

    def __init__(self, request: OutputRequest) -> None:
        self.request = request
        self._members: dict[int, frozenset[int]] = {}
        self._patterns: dict[int, list[str]] = {}

    def members(self, cohort_id: int) -> frozenset[int]:
        if cohort_id not in self._members:
            self._members[cohort_id] = frozenset(
                CohortMember.objects.filter(cohort_id=cohort_id).values_list("participant_id", flat=True)
            )
        return self._members[cohort_id]

    def cohorts_of(self, job: AnalysisJob) -> list[checks.CohortUsed]:
        return [
            checks.CohortUsed(f"“{i.cohort.name}” (v{i.cohort.version}, job {job.pk})", self.members(i.cohort_id))
            for i in job.inputs.all()
        ]

    def patterns(self, release: DataRelease) -> list[str]:
        if release.pk not in self._patterns:
            ids: set[str] = set()
            for pid, family in Participant.objects.filter(release=release).values_list("participant_id", "family_id"):
                ids.update((pid, family))
            ids.update(Tumour.objects.filter(participant__release=release).values_list("tumour_sample_id", flat=True))
            self._patterns[release.pk] = checks.identifier_patterns(ids)
        return self._patterns[release.pk]

    def identifier_patterns(self, job: AnalysisJob) -> list[str]:
        releases = {job.release_id: job.release}
        current = release_current()
        if current is not None:
            releases[current.pk] = current
        return sorted({p for r in releases.values() for p in self.patterns(r)})

    def released_cohorts(self) -> list[checks.CohortUsed]:
        jobs = (
            AnalysisJob.objects.filter(
                artifacts__output_files__request__project=self.request.project,
                artifacts__output_files__request__status=RequestStatus.RELEASED,
            )
            .distinct()
            .prefetch_related("inputs__cohort")
        )
        return [c for job in jobs for c in self.cohorts_of(job)]


def _output_for(file_or_artifact: RequestFile | Artifact, facts: _Facts, siblings: list[checks.CohortUsed],
                released: list[checks.CohortUsed], table_status: dict[int, str]) -> checks.Output:  # fmt: skip
    if isinstance(file_or_artifact, RequestFile):
        artifact, fmt = file_or_artifact.artifact, file_or_artifact.format
        data = storage.read(file_or_artifact.path)
        rows: list[Any] = storage.csv_rows(data) if fmt == "csv" else []
        size, name = len(data), file_or_artifact.name
    else:  # a plot's source table, checked as written
        artifact, fmt, data = file_or_artifact, "csv", b""
        rows, size, name = storage.table_rows(artifact), 0, artifact.key
    job = artifact.job
    text = ""
    if fmt == "svg":  # the very file that would leave
        text = storage.visible_text(data.decode("utf-8"))
    elif artifact.kind == ArtifactKind.PLOT:  # PNG and PDF: the words of the SVG drawn beside them
        text = storage.plot_text(artifact)
    return checks.Output(
        name=name, format=fmt, size_bytes=size, kind=str(artifact.kind), columns=artifact.columns, rows=rows,
        text=text, identifier_patterns=facts.identifier_patterns(job), cohorts=facts.cohorts_of(job),
        released_cohorts=released, sibling_cohorts=siblings, withdrawn_since=job.withdrawals_flagged_at is not None,
        source_status=table_status.get(artifact.source_id) if artifact.source_id else None,
    )  # fmt: skip


def request_checks_run(*, request: OutputRequest) -> list[RequestFile]:
    """Run every rule on every file of the request and store the results (inside the caller's transaction)."""
    policy, lim = current_policy(), limits()
    facts = _Facts(request)
    released = facts.released_cohorts()
    files = list(
        request.files.select_related("artifact__job__release", "artifact__source").prefetch_related(
            "artifact__files", "artifact__job__inputs__cohort", "artifact__source__files"
        )
    )
    by_job: dict[int, list[checks.CohortUsed]] = {}
    for f in files:
        by_job.setdefault(f.artifact.job_id, facts.cohorts_of(f.artifact.job))
    now = timezone.now()
    table_status: dict[int, str] = {}
    for f in files:
        siblings = [c for job_id, cs in by_job.items() if job_id != f.artifact.job_id for c in cs]
        source = f.artifact.source
        if source is not None and source.pk not in table_status:
            try:
                source_output = _output_for(source, facts, siblings, released, {})
            except storage.FileProblem:  # the table no longer matches its checksum: the plot cannot pass
                table_status[source.pk] = checks.FAIL
            else:
                table_status[source.pk] = checks.overall(checks.run_checks(source_output, policy, lim))
        try:
            results = checks.run_checks(_output_for(f, facts, siblings, released, table_status), policy, lim)
        except storage.FileProblem as error:
            results = [checks.Result("file-limits", "1", "File type, size and rows", checks.FAIL, (str(error),))]
        f.checks = [r.as_json() for r in results]
        f.check_status = checks.overall(results)
        f.checked_at = now
        f.save(update_fields=["checks", "check_status", "checked_at"])
    return files


# --- submitting -------------------------------------------------------------------------------


def _submission_problems(request: OutputRequest) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    files = list(request.files.all())
    if not files:
        problems.setdefault("request", []).append("Add at least one file before submitting.")
    for f in files:
        missing = []
        if not f.context:
            missing.append("its context (what it shows and why it is needed)")
        if not f.controls:
            missing.append("the disclosure controls applied")
        if f.check_status == CheckStatus.FAIL and not f.justification:
            missing.append("a justification, since it fails an automated check")
        if missing:
            problems.setdefault(f.name, []).append("Give " + " and ".join(missing) + ".")
    return problems


class SubmissionIncomplete(AirlockError):
    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__("The request cannot be submitted yet: " + " ".join(m for ms in problems.values() for m in ms))
        self.problems = problems


@transaction.atomic
def request_submit(*, by: Any, request: OutputRequest) -> OutputRequest:
    """Submit a pending request, or resubmit a returned one (a new review round)."""
    request = _locked(request)
    action = Action.RESUBMIT if request.status == RequestStatus.RETURNED else Action.SUBMIT
    check_user_can_act(by, request, action)
    request_checks_run(request=request)
    problems = _submission_problems(request)
    if problems:
        raise SubmissionIncomplete(problems)
    now = timezone.now()
    reset = 0
    if action is Action.RESUBMIT:
        # Unchanged files keep their votes, but "request changes" asked the author
        # to do something: it becomes undecided until the checker looks again.
        reset = Vote.objects.filter(file__request=request, choice=VoteChoice.REQUEST_CHANGES).update(
            choice=VoteChoice.UNDECIDED, at=now
        )
        for f in request.files.all():
            _decide_file(f)
    _move(request, action, now=now)
    request.round += 1
    request.submitted_at = now
    request.decided_at = request.decided_by = None
    request.decision_comment = ""
    request.save(update_fields=["status", "status_changed_at", "round", "submitted_at", "decided_at", "decided_by",
                                "decision_comment"])  # fmt: skip
    record(
        action=AuditAction.OUTPUT_REQUEST_RESUBMITTED
        if action is Action.RESUBMIT
        else AuditAction.OUTPUT_REQUEST_SUBMITTED,
        by=by, target=request,
        details={"round": request.round, "files": [[f.name, f.sha256, f.check_status] for f in request.files.all()],
                 "votes_undecided": reset},
    )  # fmt: skip
    notify_after_commit(
        to=_checkers_for(request),
        subject=f"Output request {request.pk} waits for review",
        body=f"{request.author.display_name} {'re' if action is Action.RESUBMIT else ''}submitted output request "
        f"{request.pk} of the project “{request.project.title}” ({request.files.count()} file(s)).\n\n"
        f"Review it at /outputs/{request.pk}/review/ in the portal.",
    )
    return request


@transaction.atomic
def request_withdraw(*, by: Any, request: OutputRequest) -> OutputRequest:
    request = _locked(request)
    check_user_can_act(by, request, Action.WITHDRAW)
    _move(request, Action.WITHDRAW)
    request.save(update_fields=["status", "status_changed_at"])
    record(action=AuditAction.OUTPUT_REQUEST_WITHDRAWN, by=by, target=request)
    return request


# --- review -----------------------------------------------------------------------------------


def _decide_file(file: RequestFile) -> str:
    """Two agreeing votes decide a file; decided votes that disagree leave it conflicted."""
    votes = [v.choice for v in file.votes.all() if v.choice != VoteChoice.UNDECIDED]
    tally = {c: votes.count(c) for c in (VoteChoice.APPROVE, VoteChoice.REQUEST_CHANGES, VoteChoice.REJECT)}
    decision = FileDecision.UNDECIDED
    for choice, outcome in ((VoteChoice.APPROVE, FileDecision.APPROVED),
                            (VoteChoice.REJECT, FileDecision.REJECTED),
                            (VoteChoice.REQUEST_CHANGES, FileDecision.CHANGES_REQUESTED)):  # fmt: skip
        if tally[choice] >= 2 and tally[choice] > len(votes) - tally[choice]:
            decision = outcome
            break
    else:
        if len(votes) >= 2:
            decision = FileDecision.CONFLICTED
    if decision != file.decision:
        file.decision = decision
        file.save(update_fields=["decision"])
    return decision


def _check_reviewer(by: Any, request: OutputRequest) -> None:
    if request.author_id == getattr(by, "pk", None):
        raise NotAllowed("You cannot review your own request.")
    if not user_can_check_request(by, request):
        if is_on_project(by, request.project):
            raise NotAllowed("You are on this request's project, so another output checker must review it.")
        raise NotAllowed("Only output checkers review requests.")


@transaction.atomic
def vote_cast(
    *, by: Any, file: RequestFile, choice: str, comment: str = "", visibility: str = CommentVisibility.PRIVATE
) -> Vote:
    request = _locked(file.request)
    _check_reviewer(by, request)
    if request.status not in UNDER_REVIEW_STATUSES:
        raise TransitionNotAllowed(
            f"This request is {request.get_status_display().lower()}, so votes cannot be cast now."
        )
    if Review.objects.filter(request=request, reviewer=by, round=request.round).exists():
        raise TransitionNotAllowed("You have submitted your review of this round; your votes stand as submitted.")
    if choice not in VoteChoice.values:
        raise AirlockError("Choose approve, request changes, reject or undecided.", field="choice")
    if visibility not in CommentVisibility.values:
        raise AirlockError("A comment is private to output checkers or public to the author.", field="visibility")
    comment = comment.strip()
    if choice == VoteChoice.REQUEST_CHANGES and not comment:
        raise AirlockError("Say what should change: a “request changes” vote needs a comment.", field="comment")
    vote, _ = Vote.objects.update_or_create(
        file=file, reviewer=by,
        defaults={"choice": choice, "comment": comment, "visibility": visibility, "round": request.round,
                  "at": timezone.now()},
    )  # fmt: skip
    _decide_file(file)
    record(
        action=AuditAction.OUTPUT_VOTED, by=by, target=request,
        details={"file": file.pk, "choice": choice, "visibility": visibility, "round": request.round},
    )  # fmt: skip
    return vote


@transaction.atomic
def review_submit(*, by: Any, request: OutputRequest) -> OutputRequest:
    """A checker's review of the round: every file voted on. The request row is
    locked, so the count of reviews and the status move together."""
    request = _locked(request)
    _check_reviewer(by, request)
    check_user_can_act(by, request, Action.REVIEW)
    if Review.objects.filter(request=request, reviewer=by, round=request.round).exists():
        raise TransitionNotAllowed("You have already submitted your review of this round.")
    files = list(request.files.all())
    voted = set(
        Vote.objects.filter(file__request=request, reviewer=by).exclude(choice=VoteChoice.UNDECIDED)
        .values_list("file_id", flat=True)
    )  # fmt: skip
    missing = [f.name for f in files if f.pk not in voted]
    if missing:
        raise AirlockError(f"Vote on every file before submitting your review (not yet: {', '.join(missing)}).")
    Review.objects.create(request=request, reviewer=by, round=request.round)
    before = request.status
    _move(request, Action.REVIEW)
    request.save(update_fields=["status", "status_changed_at"])
    record(
        action=AuditAction.OUTPUT_REVIEW_SUBMITTED, by=by, target=request,
        details={"round": request.round, "from": before, "to": request.status,
                 "reviews": Review.objects.filter(request=request, round=request.round).count()},
    )  # fmt: skip
    if before != request.status == RequestStatus.REVIEWED:
        record(action=AuditAction.OUTPUT_REQUEST_REVIEWED, by=by, target=request, details={"round": request.round})
    return request


DECISIONS = {"approve": Action.APPROVE, "return": Action.RETURN, "reject": Action.REJECT}


@transaction.atomic
def request_decide(*, by: Any, request: OutputRequest, decision: str, comment: str = "") -> OutputRequest:
    """A checker who reviewed this round approves (every file approved), returns or rejects the request."""
    if decision not in DECISIONS:
        raise AirlockError("Choose approve, return or reject.", field="decision")
    action = DECISIONS[decision]
    request = _locked(request)
    _check_reviewer(by, request)
    check_user_can_act(by, request, action)
    if not Review.objects.filter(request=request, reviewer=by, round=request.round).exists():
        raise NotAllowed("Submit your own review of this round before deciding.")
    files = list(request.files.prefetch_related("votes"))
    now = timezone.now()
    if action is Action.APPROVE:
        undecided = [f.name for f in files if _decide_file(f) != FileDecision.APPROVED]
        if undecided:
            raise AirlockError(f"A request is approved only when every file is: not yet {', '.join(undecided)}.")
        for f in files:
            if not storage.intact(f.path, f.sha256):
                raise TamperedFile(
                    f"The stored bytes of {f.name} no longer match their checksum; it cannot be approved."
                )
            f.frozen_sha256, f.frozen_at = f.sha256, now
            f.save(update_fields=["frozen_sha256", "frozen_at"])
    elif not comment.strip():
        raise AirlockError("Tell the author why, in a comment.", field="comment")
    _move(request, action, now=now)
    request.decided_at, request.decided_by, request.decision_comment = now, by, comment.strip()
    request.save(update_fields=["status", "status_changed_at", "decided_at", "decided_by", "decision_comment"])
    audit_action = {Action.APPROVE: AuditAction.OUTPUT_REQUEST_APPROVED,
                    Action.RETURN: AuditAction.OUTPUT_REQUEST_RETURNED,
                    Action.REJECT: AuditAction.OUTPUT_REQUEST_REJECTED}[action]  # fmt: skip
    record(action=audit_action, by=by, target=request,
           details={"round": request.round, "files": {f.name: f.decision for f in files}})  # fmt: skip
    words = {Action.APPROVE: "approved: its files are being released", Action.RETURN: "returned to you for changes",
             Action.REJECT: "rejected"}[action]  # fmt: skip
    notify_after_commit(
        to=[request.author], subject=f"Output request {request.pk} {words.split(':')[0]}",
        body=f"Your output request {request.pk} of “{request.project.title}” was {words}."
        + (f"\n\nThe output checkers said: {comment.strip()}" if comment.strip() else "") + f"\n\n{_link(request)}",
    )  # fmt: skip
    if action is Action.APPROVE:
        transaction.on_commit(lambda: _publish_release(request.pk))
    return request


def _publish_release(request_id: int) -> None:
    from airlock.tasks import release_request

    try:
        release_request.delay(request_id)
    except (KombuError, OSError):
        logger.exception("Release of output request %s could not be queued; the sweep releases it", request_id)


# --- release ----------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def disclosure_record(request: OutputRequest, released_at: datetime) -> dict[str, Any]:
    """The machine-readable record of a release (SATRE): rules and versions, thresholds and
    limits, each file's checks and results, justifications, reviewers, votes and times."""
    from analysis.provenance import code_version

    reviews = list(request.reviews.select_related("reviewer"))
    files = list(request.files.select_related("artifact__job__release").prefetch_related("votes__reviewer"))
    return {
        "record_version": 1,
        "request": {"id": request.pk, "title": request.title, "project": {"id": request.project_id,
                    "title": request.project.title}, "author": request.author.email,
                    "created_at": _iso(request.created_at), "submitted_at": _iso(request.submitted_at),
                    "approved_at": _iso(request.decided_at), "approved_by": request.decided_by.email
                    if request.decided_by else None, "released_at": _iso(released_at), "rounds": request.round},
        "policy": current_policy().describe(),
        "limits": limits().describe(),
        "rules": [{"id": r.id, "version": r.version, "title": r.title, "description": r.description}
                  for r in checks.RULES],
        "code_version": code_version(),
        "files": [
            {
                "name": f.name, "format": f.format, "sha256": f.frozen_sha256, "size_bytes": f.size_bytes,
                "rows": f.n_rows, "context": f.context, "controls": f.controls, "justification": f.justification,
                "check_status": f.check_status, "checked_at": _iso(f.checked_at), "checks": f.checks,
                "decision": f.decision, "frozen_at": _iso(f.frozen_at),
                "source": {"job": f.artifact.job_id, "job_type": f.artifact.job.job_type,
                           "artifact": f.artifact.key, "release": f.artifact.job.release.name,
                           "parameters": f.artifact.job.parameters,
                           "cohorts": f.artifact.job.provenance.get("cohorts", []),
                           "artifact_disclosure": f.artifact.disclosure},
                "votes": [{"reviewer": v.reviewer.email, "choice": v.choice, "round": v.round, "at": _iso(v.at),
                           **({"comment": v.comment} if v.visibility == CommentVisibility.PUBLIC else {})}
                          for v in f.votes.all()],
            }
            for f in files
        ],
        "reviews": [{"reviewer": r.reviewer.email, "round": r.round, "submitted_at": _iso(r.submitted_at)}
                    for r in reviews],
    }  # fmt: skip


@transaction.atomic
def request_release(*, request_id: int) -> OutputRequest | None:
    """The system's release of an approved request: frozen bytes verified, the disclosure
    record written beside the files, the ledger entry made. A second run does nothing."""
    request = OutputRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None or request.status != RequestStatus.APPROVED:
        return None
    files = list(request.files.all())
    bad = [f.name for f in files if not storage.intact(f.path, f.frozen_sha256)]
    if bad:
        record(action=AuditAction.OUTPUT_RELEASE_REFUSED, target=request, outcome=AuditOutcome.FAILURE,
               details={"files": bad, "reason": "stored bytes no longer match the frozen checksum"})  # fmt: skip
        logger.error("Output request %s not released: %s changed since approval", request.pk, ", ".join(bad))
        return None
    now = timezone.now()
    body = disclosure_record(request, now)
    data = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False).encode()
    path = f"{request.directory}/disclosure-record-{request.pk}.json"
    storage.store(path, data)
    Release.objects.create(request=request, project=request.project, released_at=now, record=body,
                           record_path=path, record_sha256=storage.sha256_of(data))  # fmt: skip
    _move(request, Action.RELEASE, now=now)
    request.save(update_fields=["status", "status_changed_at"])
    record(action=AuditAction.OUTPUT_REQUEST_RELEASED, target=request,
           details={"files": {f.name: f.frozen_sha256 for f in files},
                    "record_sha256": storage.sha256_of(data)})  # fmt: skip
    notify_after_commit(
        to=[request.author], subject=f"Output request {request.pk} released",
        body=f"The files of your output request {request.pk} of “{request.project.title}” are released. "
        f"You can download them, with their disclosure record, from {_link(request)}",
    )  # fmt: skip
    return request


def requests_release_approved() -> int:
    """Release every approved request whose release task was lost (the beat's sweep)."""
    released = 0
    for pk in OutputRequest.objects.filter(status=RequestStatus.APPROVED).values_list("pk", flat=True):
        released += request_release(request_id=pk) is not None
    return released


# --- download ---------------------------------------------------------------------------------


def _verified(*, by: Any, request: OutputRequest, what: str, path: str, sha256: str) -> bytes:
    check_user_can_download(by, request)
    try:
        data = storage.read(path)
    except storage.FileProblem:
        data = b""
    if not sha256 or storage.sha256_of(data) != sha256:
        with transaction.atomic():
            record(action=AuditAction.OUTPUT_DOWNLOAD_REFUSED, by=by, target=request, outcome=AuditOutcome.FAILURE,
                   details={"file": what,
                            "reason": "stored bytes no longer match the checksum frozen at approval"})  # fmt: skip
        raise TamperedFile(
            f"{what} cannot be downloaded: its stored bytes no longer match the checksum frozen at approval. "
            "The output checkers and the environment's administrators have been told (audit trail)."
        )
    with transaction.atomic():
        record(action=AuditAction.OUTPUT_DOWNLOADED, by=by, target=request, details={"file": what, "sha256": sha256})
    return data


def file_download(*, by: Any, file: RequestFile) -> bytes:
    """A released file's bytes, to its author only, if they still match the frozen SHA-256. Audited."""
    return _verified(by=by, request=file.request, what=file.name, path=file.path, sha256=file.frozen_sha256)


def record_download(*, by: Any, request: OutputRequest) -> bytes:
    release = Release.objects.filter(request=request).first()
    if release is None:
        check_user_can_download(by, request)
        raise TransitionNotAllowed("The request has no release yet.")
    return _verified(by=by, request=request, what=release.record_path.rsplit("/", 1)[1], path=release.record_path,
                     sha256=release.record_sha256)  # fmt: skip


# --- consent ----------------------------------------------------------------------------------


def requests_flag_withdrawals(*, release: DataRelease, participant_ids: Sequence[str]) -> int:
    """After ``analysis.services.jobs_flag_withdrawals`` flags the jobs that read
    the withdrawn participants, the open requests holding their results have their
    checks run again (the consent rule then fails those files). Returns how many."""
    requests = OutputRequest.objects.filter(
        status__in=_open(), files__artifact__job__release=release,
        files__artifact__job__withdrawals_flagged_at__isnull=False,
    ).distinct()  # fmt: skip
    flagged = 0
    for request in requests:
        files = request_checks_run(request=request)
        failing = [f.name for f in files if any(c["rule"] == "consent" and c["status"] == "fail" for c in f.checks)]
        if failing:
            flagged += 1
            record(action=AuditAction.OUTPUT_FILES_FLAGGED, target=request, details={"files": failing})
    return flagged
