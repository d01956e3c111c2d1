"""Writes about analysis jobs. The row is the source of truth; every change of
status is a conditional UPDATE (so two workers, or a worker and a researcher,
cannot both take the same transition) recorded in the audit trail in the same
transaction; the broker is told after commit.

Researchers' actions: :func:`job_submit`, :func:`job_cancel`, :func:`job_retry`.
Workers' and the sweeper's: :func:`job_claim`, :func:`job_progress`,
:func:`job_log`, :func:`job_succeed`, :func:`job_fail`, :func:`job_stop`,
:func:`jobs_sweep`. The consent work calls :func:`jobs_flag_withdrawals`.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from analysis.artifacts import WrittenArtifact
from analysis.jobtype import JobError, JobType, PlannedInput
from analysis.models import (
    AnalysisJob,
    Artifact,
    ArtifactFile,
    JobInput,
    JobLogEntry,
    JobStage,
    JobStatus,
)
from analysis.permissions import check_user_can_act_on_job, check_user_can_submit_job
from analysis.policies import JOB, Action
from analysis.registry import job_type, job_types
from audit.models import AuditAction
from audit.services import record
from cohorts.models import Cohort, CohortMember
from cohorts.selectors import cohorts_for_project
from cohorts.services import cohort_members_for_job
from domains.models import Project
from participants.models import DataRelease

logger = logging.getLogger(__name__)


# --- researchers' actions -------------------------------------------------------------------


def jobtype_or_error(slug: str) -> JobType:
    try:
        return job_type(slug)
    except KeyError:
        names = ", ".join(job_types())
        raise JobError(f"There is no analysis called “{slug}”. Choose one of: {names}.") from None


def plan_inputs(*, project: Project, jobtype: JobType, inputs: Sequence[tuple[str, Cohort]]) -> list[PlannedInput]:
    """Check the cohorts given for each role and count the members each would
    give the job now (``cohort_members_for_job``: the one definition of who may
    be used). Raises JobError with a message for the researcher."""
    usable = set(cohorts_for_project(project=project).values_list("pk", flat=True))
    by_role: dict[str, list[Cohort]] = {}
    for role, cohort in inputs:
        by_role.setdefault(role, []).append(cohort)
    known = {r.role for r in jobtype.roles}
    unknown = sorted(set(by_role) - known)
    if unknown:
        raise JobError(f"{jobtype.title} takes no cohort as “{unknown[0]}”; it takes: {', '.join(sorted(known))}.")
    planned: list[PlannedInput] = []
    seen: set[tuple[str, int]] = set()
    for spec in jobtype.roles:
        cohorts = by_role.get(spec.role, [])
        what = spec.label.lower()
        if len(cohorts) < spec.minimum:
            raise JobError(f"Choose {'at least ' if spec.maximum > spec.minimum else ''}{spec.minimum} of {what}.")
        if len(cohorts) > spec.maximum:
            raise JobError(f"{jobtype.title} takes at most {spec.maximum} of {what}.")
        for cohort in cohorts:
            if cohort.pk not in usable:
                raise JobError(f"The cohort “{cohort.name}” is not one this project can use.")
            if (spec.role, cohort.pk) in seen:
                raise JobError(f"The cohort “{cohort.name}” is chosen twice as {what}.")
            seen.add((spec.role, cohort.pk))
            members = cohort_members_for_job(cohort=cohort)
            genomes = sum(1 for _, sample in members if sample is not None)
            planned.append(PlannedInput(role=spec.role, cohort=cohort, members=len(members), genomes=genomes))
    releases = {p.cohort.release_id for p in planned}
    if len(releases) > 1:
        raise JobError(
            "The cohorts are pinned to different data releases. Make versions of them on one release "
            "(“Re-run on release …” on each cohort's page) and choose those."
        )
    return planned


def job_estimate(
    *, by: Any, project: Project, job_type: str, inputs: Sequence[tuple[str, Cohort]], parameters: Mapping[str, Any]
) -> tuple[JobType, list[PlannedInput], dict[str, Any], Any]:
    """What the job would read and cost; raises JobError / ParameterError. Writes nothing."""
    check_user_can_submit_job(by, project)
    jobtype = jobtype_or_error(job_type)
    planned = plan_inputs(project=project, jobtype=jobtype, inputs=inputs)
    release = planned[0].cohort.release
    cleaned = jobtype.clean_parameters(parameters, release=release)
    estimate = jobtype.estimate(inputs=planned, parameters=cleaned, release=release)
    return jobtype, planned, cleaned, estimate


@transaction.atomic
def job_submit(
    *, by: Any, project: Project, job_type: str, inputs: Sequence[tuple[str, Cohort]], parameters: Mapping[str, Any]
) -> AnalysisJob:
    """Queue a job of ``job_type`` on the given (role, cohort) inputs. Refused,
    with nothing written, when the inputs or parameters are not usable or the
    job would read no participant."""
    jobtype, planned, cleaned, estimate = job_estimate(
        by=by, project=project, job_type=job_type, inputs=inputs, parameters=parameters
    )
    if estimate.reads_nobody:
        what = "participant with a genome" if jobtype.uses_genotypes else "participant"
        raise JobError(
            f"This job would read no {what}: the chosen cohorts have no usable members"
            f"{' with a genome in the release' if jobtype.uses_genotypes else ''}. It was not queued."
        )
    job = AnalysisJob.objects.create(
        project=project,
        job_type=jobtype.slug,
        queue=jobtype.queue,
        release=planned[0].cohort.release,
        parameters=cleaned,
        estimate=estimate.as_json(),
        created_by=by,
    )
    JobInput.objects.bulk_create(
        JobInput(job=job, cohort=p.cohort, role=p.role, position=i, member_count=p.members, genome_count=p.genomes)
        for i, p in enumerate(planned)
    )
    record(
        action=AuditAction.JOB_SUBMITTED,
        by=by,
        target=job,
        details={
            "project": project.pk,
            "job_type": jobtype.slug,
            "release": job.release.name,
            "cohorts": [{"cohort": p.cohort.pk, "version": p.cohort.version, "role": p.role} for p in planned],
            "parameters": cleaned,
        },
    )
    job_log(job_id=job.pk, message=f"Submitted by {by.display_name}: {jobtype.title} on release {job.release.name}.")
    publish_after_commit(job)
    return job


@transaction.atomic
def job_cancel(*, by: Any, job: AnalysisJob) -> AnalysisJob:
    """A queued job is cancelled at once and never starts; a running one is
    asked to stop, which its worker does at its next block."""
    job = AnalysisJob.objects.select_for_update().select_related("project__domain").get(pk=job.pk)
    check_user_can_act_on_job(by, job, Action.CANCEL)
    now = timezone.now()
    if job.status == JobStatus.QUEUED:
        JOB.transition(job.status, Action.CANCEL)
        AnalysisJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED, stage=JobStage.FINISHED, finished_at=now,
            cancel_requested_at=now, cancel_requested_by=by, progress_message="Cancelled before it started.",
        )  # fmt: skip
        record(action=AuditAction.JOB_CANCELLED, by=by, target=job, details={"was": "queued"})
        job_log(job_id=job.pk, message=f"Cancelled by {by.display_name} before it started.")
        _publish_waiting_after_commit(job.project_id)
    else:
        AnalysisJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            cancel_requested_at=now, cancel_requested_by=by, stage=JobStage.STOPPING
        )
        record(action=AuditAction.JOB_CANCEL_REQUESTED, by=by, target=job)
        job_log(job_id=job.pk, message=f"Cancel asked for by {by.display_name}: stopping at the next block.")
    job.refresh_from_db()
    return job


@transaction.atomic
def job_retry(*, by: Any, job: AnalysisJob) -> AnalysisJob:
    """Queue a failed job again, with the same inputs and parameters."""
    job = AnalysisJob.objects.select_for_update().select_related("project__domain").get(pk=job.pk)
    check_user_can_act_on_job(by, job, Action.RETRY)
    previous_error = job.error
    AnalysisJob.objects.filter(pk=job.pk, status=JobStatus.FAILED).update(
        status=JobStatus.QUEUED, stage=JobStage.WAITING_FOR_WORKER, progress=0, progress_message="",
        error="", queued_at=timezone.now(), published_at=None, started_at=None, heartbeat_at=None,
        finished_at=None, worker="", cancel_requested_at=None, cancel_requested_by=None,
        blocks_total=0, blocks_done=0, provenance={},
    )  # fmt: skip
    record(action=AuditAction.JOB_RETRIED, by=by, target=job, details={"attempts_so_far": job.attempts})
    job_log(job_id=job.pk, message=f"Retried by {by.display_name} after: {previous_error[:300]}")
    job.refresh_from_db()
    publish_after_commit(job)
    return job


# --- publishing ---------------------------------------------------------------------------


def publish(job_id: int) -> None:
    """Hand a queued job to the broker, on its queue (its type's), with the time limits."""
    from analysis.tasks import run_job

    job = AnalysisJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).first()
    if job is None:
        return
    run_job.apply_async(
        (job.pk,),
        queue=job.queue,
        soft_time_limit=settings.ANALYSIS_SOFT_TIME_LIMIT,
        time_limit=settings.ANALYSIS_TIME_LIMIT,
    )
    AnalysisJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(published_at=timezone.now())


def publish_after_commit(job: AnalysisJob) -> None:
    """After commit; if the broker cannot be reached the job stays queued, unpublished, and the sweeper hands it on."""
    transaction.on_commit(lambda: publish(job.pk), robust=True)


def _publish_waiting_after_commit(project_id: int) -> None:
    transaction.on_commit(lambda: publish_waiting(project_id), robust=True)


def publish_waiting(project_id: int) -> int:
    """Hand on the project's jobs waiting for a slot, as many as there are free slots."""
    running = AnalysisJob.objects.filter(project_id=project_id, status=JobStatus.RUNNING).count()
    free = settings.ANALYSIS_RUNNING_JOBS_PER_PROJECT - running
    if free <= 0:
        return 0
    waiting = list(
        AnalysisJob.objects.filter(project_id=project_id, status=JobStatus.QUEUED, stage=JobStage.WAITING_FOR_SLOT)
        .order_by("queued_at", "pk")
        .values_list("pk", flat=True)[:free]
    )
    for pk in waiting:
        AnalysisJob.objects.filter(pk=pk, status=JobStatus.QUEUED).update(stage=JobStage.WAITING_FOR_WORKER)
        publish(pk)
    return len(waiting)


# --- workers ----------------------------------------------------------------------------------


def job_claim(*, job_id: int, worker: str) -> AnalysisJob | None:
    """Start the job in this worker if it is queued and its project has a free
    slot: a conditional UPDATE, so a second delivery, or a job already running
    or finished, or cancelled meanwhile, gives None and nothing happens."""
    with transaction.atomic():
        job = AnalysisJob.objects.filter(pk=job_id).first()
        if job is None or not JOB.allows(job.status, Action.START):
            return None
        # One claim per project at a time, so the limit holds across workers.
        Project.objects.select_for_update().filter(pk=job.project_id).first()
        limit = settings.ANALYSIS_RUNNING_JOBS_PER_PROJECT
        running = AnalysisJob.objects.filter(project_id=job.project_id, status=JobStatus.RUNNING).count()
        if running >= limit:
            AnalysisJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
                stage=JobStage.WAITING_FOR_SLOT,
                progress_message=f"Waiting for a slot: {running} of this project's jobs are running "
                f"(at most {limit} at once). It starts when one finishes.",
            )
            return None
        now = timezone.now()
        claimed = AnalysisJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, stage=JobStage.PREPARING, started_at=now, heartbeat_at=now,
            attempts=F("attempts") + 1, worker=worker[:200], progress=0, progress_message="Starting",
        )  # fmt: skip
        if not claimed:
            return None
        job.refresh_from_db()
        record(action=AuditAction.JOB_STARTED, target=job, details={"worker": job.worker, "attempt": job.attempts})
    job_log(job_id=job.pk, message=f"Started on {job.worker} (attempt {job.attempts}).")
    return job


def job_progress(
    *, job_id: int, attempt: int, percent: float | None = None, message: str = "", stage: str | None = None
) -> bool:
    """Record progress (also the heartbeat). Returns False when the job is no
    longer running this attempt (cancelled, failed by the sweeper, retried)."""
    fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
    if percent is not None:
        fields["progress"] = max(0, min(99, int(percent)))
    if message:
        fields["progress_message"] = message[:300]
    if stage is not None:
        fields["stage"] = stage
    running = AnalysisJob.objects.filter(pk=job_id, status=JobStatus.RUNNING, attempts=attempt)
    if stage is not None:
        running = running.exclude(stage=JobStage.STOPPING)
        if not running.update(**fields):
            fields.pop("stage")
            running = AnalysisJob.objects.filter(pk=job_id, status=JobStatus.RUNNING, attempts=attempt)
            return bool(running.update(**fields))
        return True
    return bool(running.update(**fields))


def job_cancel_requested(*, job_id: int) -> bool:
    return AnalysisJob.objects.filter(pk=job_id, cancel_requested_at__isnull=False).exists()


def job_log(*, job_id: int, message: str, level: str = JobLogEntry.Level.INFO) -> None:
    """Append a line to the job's log, up to ANALYSIS_LOG_LIMIT lines (then one line saying so)."""
    limit = settings.ANALYSIS_LOG_LIMIT
    n = JobLogEntry.objects.filter(job_id=job_id).count()
    if n > limit:
        return
    if n == limit:
        message, level = f"The log is truncated here: at most {limit} lines are kept.", JobLogEntry.Level.WARNING
    JobLogEntry.objects.create(job_id=job_id, message=message[:1000], level=level)


@transaction.atomic
def job_succeed(
    *, job_id: int, attempt: int, written: Sequence[WrittenArtifact], provenance: dict[str, Any], finished_at: datetime
) -> bool:
    """Record the results of a job whose files are in place. False (and nothing
    recorded) if the job stopped running meanwhile."""
    done = AnalysisJob.objects.filter(pk=job_id, status=JobStatus.RUNNING, attempts=attempt).update(
        status=JobStatus.SUCCEEDED, stage=JobStage.FINISHED, progress=100, progress_message="Finished",
        finished_at=finished_at, heartbeat_at=finished_at, provenance=provenance,
    )  # fmt: skip
    if not done:
        return False
    job = AnalysisJob.objects.get(pk=job_id)
    data_root = Path(settings.DATA_ROOT)
    rows: dict[str, Artifact] = {}
    for position, item in enumerate(sorted(written, key=lambda w: w.kind != "table")):
        artifact = Artifact.objects.create(
            job=job, key=item.key, kind=item.kind, title=item.title, description=item.description,
            position=position, columns=item.columns, n_rows=item.n_rows,
            source=rows[item.source] if item.source else None, disclosure=item.disclosure,
            participant_level=item.participant_level,
        )  # fmt: skip
        rows[item.key] = artifact
        ArtifactFile.objects.bulk_create(
            ArtifactFile(artifact=artifact, format=f.format, path=str(f.path.relative_to(data_root)),
                         sha256=f.sha256, size_bytes=f.size_bytes)
            for f in item.files
        )  # fmt: skip
    record(
        action=AuditAction.JOB_SUCCEEDED,
        target=job,
        details={"artifacts": [w.key for w in written], "attempt": attempt},
    )
    _publish_waiting_after_commit(job.project_id)
    return True


@transaction.atomic
def job_fail(*, job_id: int, error: str, attempt: int | None = None) -> bool:
    """Fail a queued or running job with a message a researcher can act on."""
    candidates = AnalysisJob.objects.filter(pk=job_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
    if attempt is not None:
        candidates = candidates.filter(attempts=attempt)
    job = candidates.first()
    if job is None:
        return False
    JOB.transition(job.status, Action.FAIL)
    done = candidates.filter(status=job.status).update(
        status=JobStatus.FAILED, stage=JobStage.FINISHED, finished_at=timezone.now(), error=error[:5000]
    )
    if not done:
        return False
    record(action=AuditAction.JOB_FAILED, target=job, details={"error": error[:500], "attempt": job.attempts})
    job_log(job_id=job_id, message=f"Failed: {error}", level=JobLogEntry.Level.ERROR)
    _publish_waiting_after_commit(job.project_id)
    return True


@transaction.atomic
def job_stop(*, job_id: int, attempt: int) -> bool:
    """The worker honours a cancel: running -> cancelled."""
    job = AnalysisJob.objects.filter(pk=job_id, status=JobStatus.RUNNING, attempts=attempt).first()
    if job is None:
        return False
    JOB.transition(job.status, Action.STOP)
    done = AnalysisJob.objects.filter(pk=job_id, status=JobStatus.RUNNING, attempts=attempt).update(
        status=JobStatus.CANCELLED, stage=JobStage.FINISHED, finished_at=timezone.now(),
        progress_message="Cancelled while running.",
    )  # fmt: skip
    if not done:
        return False
    record(action=AuditAction.JOB_CANCELLED, target=job, details={"was": "running", "attempt": attempt})
    job_log(job_id=job_id, message="Stopped after the cancel: no results were kept.")
    _publish_waiting_after_commit(job.project_id)
    return True


def remove_work(job: AnalysisJob) -> None:
    """Delete a job's working directories (every attempt's)."""
    jobs_dir = Path(settings.DATA_ROOT) / "jobs"
    for path in jobs_dir.glob(f".work-{job.pk}-*"):
        shutil.rmtree(path, ignore_errors=True)


# --- the sweeper ------------------------------------------------------------------------------


def jobs_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Run by beat: fail running jobs whose worker went silent, hand on queued
    jobs whose publish was lost (or that wait for a slot that is free)."""
    now = now or timezone.now()
    failed = 0
    silent_since = now - timedelta(seconds=settings.ANALYSIS_HEARTBEAT_TIMEOUT_SECONDS)
    for job in AnalysisJob.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=silent_since):
        minutes = int((now - job.heartbeat_at).total_seconds() // 60) if job.heartbeat_at else 0
        last = timezone.localtime(job.heartbeat_at).strftime("%H:%M UTC") if job.heartbeat_at else "its start"
        if job_fail(
            job_id=job.pk,
            attempt=job.attempts,
            error=f"The worker running this job stopped sending progress at {last} (nothing for {minutes} "
            "minutes), so the job was stopped. Its worker may have been restarted. Retry it to run it again.",
        ):
            failed += 1
    republished = 0
    lost_before = now - timedelta(seconds=settings.ANALYSIS_REPUBLISH_AFTER_SECONDS)
    lost = AnalysisJob.objects.filter(status=JobStatus.QUEUED).exclude(stage=JobStage.WAITING_FOR_SLOT)
    for pk in lost.filter(Q(published_at__isnull=True) | Q(published_at__lt=lost_before)).values_list("pk", flat=True):
        job_log(job_id=pk, message="Not started yet: handed to the workers again.")
        publish(pk)
        republished += 1
    waiting_projects = (
        AnalysisJob.objects.filter(status=JobStatus.QUEUED, stage=JobStage.WAITING_FOR_SLOT)
        .values_list("project_id", flat=True)
        .distinct()
    )
    for project_id in list(waiting_projects):
        republished += publish_waiting(project_id)
    return {"failed": failed, "republished": republished}


# --- consent ---------------------------------------------------------------------------------


def jobs_flag_withdrawals(*, release: DataRelease, participant_ids: Sequence[str]) -> int:
    """Participants ``participant_ids`` may no longer be used in ``release``
    (they withdrew through the register, or a newer release says so): flag
    every job on ``release`` that already read them, i.e. that started before
    now and whose input cohorts contain them. Returns the number of jobs
    flagged. Registered with ``participants.withdrawals.on_participants_withdrawn``,
    which calls it once for each release in which they became unusable, so a
    participant is counted once per job."""
    ids = sorted(set(participant_ids))
    if not ids:
        return 0
    now = timezone.now()
    jobs = AnalysisJob.objects.filter(
        status__in=[JobStatus.RUNNING, JobStatus.SUCCEEDED], started_at__lte=now, release=release
    )
    members = (
        CohortMember.objects.filter(participant__participant_id__in=ids, cohort__job_inputs__job__in=jobs)
        .values("cohort__job_inputs__job")
        .annotate(n=Count("participant__participant_id", distinct=True))
    )
    flagged = 0
    with transaction.atomic():
        for row in members:
            job_id, n = row["cohort__job_inputs__job"], row["n"]
            AnalysisJob.objects.filter(pk=job_id).update(
                withdrawals_flagged_at=now, withdrawn_participants=F("withdrawn_participants") + n
            )
            flagged += 1
        if flagged:
            record(
                action=AuditAction.JOBS_FLAGGED,
                target=release,
                details={"jobs": sorted(r["cohort__job_inputs__job"] for r in members), "participants": len(ids)},
            )
    return flagged
