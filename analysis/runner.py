"""Running a job in a worker: the run context handed to runners, and the
three steps the Celery tasks call (:func:`execute_job`, :func:`execute_block`,
:func:`execute_combine`).

Layout under ``DATA_ROOT/jobs/``::

    .work-<id>-<attempt>/members.json   who the job reads, fixed when it starts
    .work-<id>-<attempt>/blocks/<n>.*   partial results of a block-split job
    .work-<id>-<attempt>/out/           artifacts and provenance.json being written
    <id>/                               the results: out/ renamed here on success

A worker killed half-way leaves nothing visible: results appear only by the
rename, and are recorded only after it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from analysis import genotypes, provenance, services
from analysis.artifacts import WrittenArtifact, disclose_rows, save_figure, write_table
from analysis.jobtype import JobCancelled, JobError, JobType, PlotSpec, TableSpec
from analysis.models import AnalysisJob, JobBlock, JobStage, JobStatus
from analysis.registry import job_type
from cohorts.services import cohort_members_for_job
from disclosure.policy import current_policy
from disclosure.rules import Policy

logger = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def jobs_dir() -> Path:
    return Path(settings.DATA_ROOT) / "jobs"


def work_dir(job_id: int, attempt: int) -> Path:
    return jobs_dir() / f".work-{job_id}-{attempt}"


@dataclass(frozen=True)
class InputCohort:
    """An input cohort as a runner sees it: its usable members, fixed when the job started."""

    role: str
    position: int
    cohort_id: int
    name: str
    version: int
    participant_ids: list[str]
    sample_indices: list[int]  # store columns of the members with a genome

    @property
    def label(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def members_sha256(self) -> str:
        return hashlib.sha256("\n".join(sorted(self.participant_ids)).encode()).hexdigest()


class RunContext:
    """What a runner gets: the job, its release, the genotype store, each input
    cohort's usable members, progress (also the heartbeat), a log, a
    cancellation check, and writers for its artifacts."""

    def __init__(self, job: AnalysisJob, jobtype: JobType, inputs: list[InputCohort]) -> None:
        self.job = job
        self.jobtype = jobtype
        self.attempt = job.attempts
        self.inputs = inputs
        self.policy: Policy = current_policy()
        self.written: list[WrittenArtifact] = []
        self._tables: dict[str, Any] = {}

    # Facts --------------------------------------------------------------------------------

    @property
    def release(self):
        return self.job.release

    @property
    def parameters(self) -> dict[str, Any]:
        return self.job.parameters

    @property
    def store(self):
        return genotypes.store_for(self.release)

    @property
    def work(self) -> Path:
        return work_dir(self.job.pk, self.attempt)

    @property
    def out(self) -> Path:
        path = self.work / "out"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def inputs_as(self, role: str) -> list[InputCohort]:
        return [i for i in self.inputs if i.role == role]

    # Reporting ---------------------------------------------------------------------------

    def progress(self, percent: float | None, message: str = "") -> None:
        """Progress 0-100 with a message; also the heartbeat the sweeper watches."""
        services.job_progress(job_id=self.job.pk, attempt=self.attempt, percent=percent, message=message)

    def stage(self, stage: JobStage, message: str = "") -> None:
        services.job_progress(job_id=self.job.pk, attempt=self.attempt, message=message, stage=stage)

    def log(self, message: str, level: str = "info") -> None:
        services.job_log(job_id=self.job.pk, message=message, level=level)

    def check_cancelled(self) -> None:
        """Between blocks: stop here if a cancel was asked for."""
        if services.job_cancel_requested(job_id=self.job.pk):
            raise JobCancelled

    # Writers -----------------------------------------------------------------------------

    def write_table(self, key: str, rows: Iterable[Mapping[str, Any]]) -> Any:
        """Apply disclosure control to the rows of table ``key`` and write it. Returns the written Arrow table."""
        spec = self.jobtype.artifact(key)
        if not isinstance(spec, TableSpec):
            raise TypeError(f"{key} is not a table of {self.jobtype.slug}")
        table = disclose_rows(spec, rows, self.policy)
        self.written.append(write_table(spec, table, self.out, self.policy))
        self._tables[key] = table
        return table

    def draw_plots(self) -> None:
        """Draw every declared plot from the rows of its table as written (read back from the file)."""
        for spec in self.jobtype.artifacts:
            if not isinstance(spec, PlotSpec):
                continue
            source = next(w for w in self.written if w.key == spec.source)
            table = pq.read_table(source.files[0].path)
            figure = spec.draw(table, self)
            files = save_figure(figure, self.out, spec.key)
            self.written.append(
                WrittenArtifact(key=spec.key, kind="plot", title=spec.title, description=spec.description,
                                files=files, source=spec.source,
                                disclosure={**source.disclosure, "drawn_from": spec.source})
            )  # fmt: skip


# --- preparing and loading a run ----------------------------------------------------------


def _prepare(job: AnalysisJob, jobtype: JobType) -> RunContext:
    """Fix who the job reads, once, from the one definition of usable members."""
    inputs = []
    for item in job.inputs.select_related("cohort").order_by("position"):
        members = cohort_members_for_job(cohort=item.cohort)
        inputs.append(
            InputCohort(
                role=item.role, position=item.position, cohort_id=item.cohort_id, name=item.cohort.name,
                version=item.cohort.version, participant_ids=[pid for pid, _ in members],
                sample_indices=[int(s) for _, s in members if s is not None],
            )
        )  # fmt: skip
    work = work_dir(job.pk, job.attempts)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    tmp = work / "members.json.part"
    tmp.write_text(json.dumps([asdict(i) for i in inputs]))
    os.replace(tmp, work / "members.json")
    return RunContext(job, jobtype, inputs)


def _load(job: AnalysisJob, jobtype: JobType) -> RunContext:
    data = json.loads((work_dir(job.pk, job.attempts) / "members.json").read_text())
    return RunContext(job, jobtype, [InputCohort(**item) for item in data])


def _reload(job_id: int, attempt: int) -> AnalysisJob | None:
    return (
        AnalysisJob.objects.select_related("release", "project")
        .filter(pk=job_id, status=JobStatus.RUNNING, attempts=attempt)
        .first()
    )


# --- the steps the tasks call ---------------------------------------------------------------


def execute_job(job_id: int) -> None:
    """The task of a job: claim it (or do nothing), then run it, or fan it out in blocks."""
    job = services.job_claim(job_id=job_id, worker=worker_name())
    if job is None:
        return
    jobtype = job_type(job.job_type)
    attempt = job.attempts
    with _failures(job.pk, attempt):
        ctx = _prepare(job, jobtype)
        ctx.log(
            "Inputs fixed: "
            + "; ".join(f"{i.role} {i.label}: members and genomes counted" for i in ctx.inputs)
            + f". Release {job.release.name}."
        )
        if jobtype.splittable:
            _fan_out(ctx)
            return
        ctx.check_cancelled()
        started = time.perf_counter()
        jobtype.run(ctx)
        ctx.log(f"Computed in {time.perf_counter() - started:.1f} s.")
        _finish(ctx)


def _fan_out(ctx: RunContext) -> None:
    from analysis.tasks import run_block

    blocks = ctx.jobtype.blocks(ctx)
    if not blocks:
        raise JobError("There is nothing to compute: the selection holds no variant.")
    job = ctx.job
    with transaction.atomic():
        JobBlock.objects.bulk_create(
            JobBlock(job=job, attempt=ctx.attempt, index=i, spec=spec) for i, spec in enumerate(blocks)
        )
        AnalysisJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=ctx.attempt).update(
            blocks_total=len(blocks), blocks_done=0
        )
    ctx.stage(JobStage.COMPUTING, f"0 of {len(blocks)} blocks done")
    queue = job.queue
    ctx.log(f"Split into {len(blocks)} block(s); any worker on the {queue} queue may run each.")
    for i in range(len(blocks)):
        run_block.apply_async(
            (job.pk, ctx.attempt, i),
            queue=queue,
            soft_time_limit=settings.ANALYSIS_SOFT_TIME_LIMIT,
            time_limit=settings.ANALYSIS_TIME_LIMIT,
        )


def partial_path(ctx: RunContext, index: int) -> Path:
    path = ctx.work / "blocks"
    path.mkdir(parents=True, exist_ok=True)
    return path / f"{index:06d}.parquet"


def execute_block(job_id: int, attempt: int, index: int) -> None:
    """One block of a block-split job; the last block to finish hands on the combining step."""
    job = _reload(job_id, attempt)
    if job is None:
        return
    block = JobBlock.objects.filter(job_id=job_id, attempt=attempt, index=index).first()
    if block is None or block.finished_at is not None:
        return  # a second delivery of a finished block
    jobtype = job_type(job.job_type)
    with _failures(job_id, attempt):
        ctx = _load(job, jobtype)
        ctx.check_cancelled()
        started = time.perf_counter()
        out = partial_path(ctx, index)
        tmp = out.with_suffix(f".part-{os.getpid()}")
        jobtype.run_block(ctx, block.spec, tmp)
        os.replace(tmp, out)
        seconds = time.perf_counter() - started
        with transaction.atomic():
            first = JobBlock.objects.filter(pk=block.pk, finished_at__isnull=True).update(
                finished_at=timezone.now(), worker=worker_name(), seconds=seconds
            )
            if not first:
                return
            AnalysisJob.objects.filter(pk=job_id, status=JobStatus.RUNNING, attempts=attempt).update(
                blocks_done=F("blocks_done") + 1, heartbeat_at=timezone.now()
            )
            job.refresh_from_db(fields=["blocks_done", "blocks_total"])
            done, total = job.blocks_done, job.blocks_total
            if done == total:
                from analysis.tasks import combine_blocks

                queue = job.queue
                transaction.on_commit(
                    lambda: combine_blocks.apply_async(
                        (job_id, attempt), queue=queue, soft_time_limit=settings.ANALYSIS_SOFT_TIME_LIMIT,
                        time_limit=settings.ANALYSIS_TIME_LIMIT,
                    )
                )  # fmt: skip
        ctx.progress(90 * done / total, f"{done} of {total} blocks done")
        ctx.log(f"Block {index + 1} of {total} done on {worker_name()} in {seconds:.2f} s.")


def execute_combine(job_id: int, attempt: int) -> None:
    """Combine a block-split job's partials (once: the first delivery takes the stage)."""
    job = _reload(job_id, attempt)
    if job is None or job.blocks_done != job.blocks_total:
        return
    took = (
        AnalysisJob.objects.filter(pk=job_id, status=JobStatus.RUNNING, attempts=attempt)
        .exclude(stage__in=[JobStage.COMBINING, JobStage.WRITING_RESULTS])
        .update(stage=JobStage.COMBINING, progress_message="Combining the blocks", heartbeat_at=timezone.now())
    )
    if not took:
        return
    jobtype = job_type(job.job_type)
    with _failures(job_id, attempt):
        ctx = _load(job, jobtype)
        ctx.check_cancelled()
        partials = [partial_path(ctx, i) for i in range(job.blocks_total)]
        started = time.perf_counter()
        jobtype.combine(ctx, partials)
        ctx.log(f"Combined {len(partials)} block(s) in {time.perf_counter() - started:.2f} s.")
        _finish(ctx)


def _finish(ctx: RunContext) -> None:
    """Draw the plots, write provenance.json, rename the results into place, record them."""
    job = ctx.job
    missing = [a.key for a in ctx.jobtype.artifacts if isinstance(a, TableSpec) and a.key not in ctx._tables]
    if missing:
        raise RuntimeError(f"{ctx.jobtype.slug} did not write its table(s) {missing}")
    ctx.stage(JobStage.WRITING_RESULTS, "Drawing plots and writing results")
    ctx.check_cancelled()
    ctx.draw_plots()
    finished_at = timezone.now()
    final = jobs_dir() / str(job.pk)
    record = provenance.build(ctx, finished_at=finished_at, final=final)
    (ctx.out / provenance.FILENAME).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    if final.exists():  # left by an earlier attempt that never recorded it
        shutil.rmtree(final)
    os.rename(ctx.out, final)
    written = [provenance.moved(w, ctx.out, final) for w in ctx.written]
    try:
        recorded = services.job_succeed(
            job_id=job.pk, attempt=ctx.attempt, written=written, provenance=record, finished_at=finished_at
        )
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        raise
    if not recorded:
        shutil.rmtree(final, ignore_errors=True)
        return
    shutil.rmtree(ctx.work, ignore_errors=True)


class _failures:
    """Turn what a runner raises into the job's end: stopped, or failed with words a researcher can act on."""

    def __init__(self, job_id: int, attempt: int) -> None:
        self.job_id = job_id
        self.attempt = attempt

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> bool:
        if error is None:
            return False
        if isinstance(error, JobCancelled):
            if services.job_stop(job_id=self.job_id, attempt=self.attempt):
                shutil.rmtree(work_dir(self.job_id, self.attempt), ignore_errors=True)
            return True
        if isinstance(error, SoftTimeLimitExceeded):
            hours = settings.ANALYSIS_SOFT_TIME_LIMIT / 3600
            limit = f"{hours:g} hours" if hours >= 1 else f"{settings.ANALYSIS_SOFT_TIME_LIMIT} seconds"
            message = (
                f"The job ran longer than the time limit of {limit} and was stopped. Choose a smaller "
                "gene or region, or fewer cohorts, or ask the service desk about the limit."
            )
        elif isinstance(error, JobError):
            message = str(error)
        else:
            logger.exception("analysis job %s failed", self.job_id)
            message = (
                f"The analysis stopped because of an internal error ({type(error).__name__}: {str(error)[:200]}). "
                "The portal's team can see it in the worker's log. Retry the job; if it fails again, "
                "tell the service desk its number."
            )
        if services.job_fail(job_id=self.job_id, error=message, attempt=self.attempt):
            shutil.rmtree(work_dir(self.job_id, self.attempt), ignore_errors=True)
        return not isinstance(error, (KeyboardInterrupt, SystemExit))
