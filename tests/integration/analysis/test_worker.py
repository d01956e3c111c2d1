"""Jobs through real Celery worker processes over the Redis broker: success
and its page, failure, cancel (queued and running), a second delivery, the
per-project limit, the sweeper, the time limit, and one job over two workers."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from analysis import registry
from analysis.models import AnalysisJob, JobBlock, JobStage, JobStatus
from analysis.services import job_cancel, job_submit, jobs_sweep
from analysis.tasks import combine_blocks, run_block, run_job
from audit.models import AuditAction, AuditEvent
from participants.models import Gene, HpoTerm
from participants.ontology import ontology_write_tables
from tests.integration.analysis.conftest import Workers, wait_for
from tests.integration.analysis.jobtypes_for_tests import gate
from tests.integration.cohorts.conftest import load_prepared

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
TEST_TYPES = "tests.integration.analysis.jobtypes_for_tests"


@pytest.fixture
def release(transactional_db, prepared_release, settings):
    """The release rows, committed (workers read them from their own connections)."""
    with transaction.atomic():
        if not HpoTerm.objects.exists():  # transactional tests start from an empty database
            ontology_write_tables()
        return load_prepared(prepared_release, name="test-r1").release


@pytest.fixture
def test_types(settings):
    settings.ANALYSIS_EXTRA_JOB_TYPES = [TEST_TYPES]
    registry.job_types.cache_clear()
    yield
    registry.job_types.cache_clear()


@pytest.fixture
def pool(test_types, workers) -> Workers:
    return workers


def _start(pool: Workers, n: int = 1, **env: str) -> None:
    pool.start(n, ANALYSIS_EXTRA_JOB_TYPES=TEST_TYPES, **env)


def _submit(world, job_type, cohorts, **parameters) -> AnalysisJob:
    return job_submit(by=world.approved_project.owner, project=world.approved_project, job_type=job_type,
                      inputs=[("cohort", c) for c in cohorts], parameters=parameters)  # fmt: skip


def _wait_status(pool, job, *statuses, timeout=90) -> AnalysisJob:
    def done():
        current = AnalysisJob.objects.get(pk=job.pk)
        return current if current.status in statuses else None

    return wait_for(done, timeout=timeout, what=f"job {job.pk} to be {statuses}", logs=pool.logs)


def _checksums(job: AnalysisJob) -> dict[tuple[str, str], str]:
    return {(a.key, f.format): f.sha256 for a in job.artifacts.all() for f in a.files.all()}


def test_job_runs_in_a_worker_reports_progress_and_its_result_page_shows_it(
    pool, world, cohorts, data_root, client_for
):
    _start(pool)
    gene = Gene.objects.filter(release=cohorts[0].release).order_by("symbol").first().symbol
    job = _submit(world, "allele-frequencies", cohorts, gene=gene, only_observed=False)
    job = _wait_status(pool, job, JobStatus.SUCCEEDED, JobStatus.FAILED)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.progress == 100 and job.attempts == 1 and job.worker
    assert job.started_at <= job.finished_at
    assert job.log_entries.filter(message__contains="Block 1 of").exists()
    assert (data_root / "jobs" / str(job.pk) / "provenance.json").exists()
    assert not list((data_root / "jobs").glob(f".work-{job.pk}-*")), "the working directory is removed"
    page = client_for(world.approved_project.owner).get(reverse("analysis:job", args=[job.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "Succeeded" in html and "<svg" in html and "Allele frequencies" in html
    assert AuditEvent.objects.filter(action=AuditAction.JOB_RESULT_VIEWED, target_id=str(job.pk)).count() == 1


def test_a_failing_block_fails_the_job_with_a_readable_error(pool, world, cohorts):
    _start(pool)
    job = _submit(world, "test-gated", cohorts[:1], blocks=3, fail_at=2)
    job = _wait_status(pool, job, JobStatus.FAILED, JobStatus.SUCCEEDED)
    assert job.status == JobStatus.FAILED
    assert job.error == "Block 2 could not be read: a planted failure."
    assert not job.artifacts.exists()
    assert AuditEvent.objects.filter(action=AuditAction.JOB_FAILED, target_id=str(job.pk)).exists()


def test_a_cancelled_queued_job_never_starts(pool, world, cohorts):
    job = _submit(world, "test-gated", cohorts[:1], blocks=1)
    job_cancel(by=world.approved_project.owner, job=job)
    _start(pool)
    probe = _submit(world, "test-gated", cohorts[:1], blocks=1)  # published after: done means the first was seen
    _wait_status(pool, probe, JobStatus.SUCCEEDED)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.attempts == 0 and job.started_at is None
    assert not job.blocks.exists()


def test_a_cancelled_running_job_stops_at_its_next_block(pool, world, cohorts, data_root):
    _start(pool)
    job = _submit(world, "test-gated", cohorts[:1], blocks=3, gated=True)
    wait_for(lambda: JobBlock.objects.filter(job=job).count() == 3, what="the blocks", logs=pool.logs)
    job_cancel(by=world.approved_project.owner, job=AnalysisJob.objects.get(pk=job.pk))
    assert AnalysisJob.objects.get(pk=job.pk).stage == JobStage.STOPPING
    gate(job.pk, 0).parent.mkdir(parents=True, exist_ok=True)
    gate(job.pk, 0).touch()
    job = _wait_status(pool, job, JobStatus.CANCELLED, JobStatus.SUCCEEDED)
    assert job.status == JobStatus.CANCELLED
    assert list(job.blocks.filter(finished_at__isnull=False).values_list("index", flat=True)) == [0]
    assert not job.artifacts.exists() and not (data_root / "jobs" / str(job.pk)).exists()


def test_a_second_delivery_neither_runs_the_job_twice_nor_writes_two_result_sets(pool, world, cohorts, data_root):
    job = _submit(world, "test-gated", cohorts[:1], blocks=2)
    run_job.apply_async((job.pk,), queue=pool.queue)  # the same message, delivered twice
    _start(pool)
    job = _wait_status(pool, job, JobStatus.SUCCEEDED)
    before = _checksums(job)
    for index in (0, 1):  # and every block and the combining step again, after the end
        run_block.apply_async((job.pk, 1, index), queue=pool.queue)
    combine_blocks.apply_async((job.pk, 1), queue=pool.queue)
    run_job.apply_async((job.pk,), queue=pool.queue)
    probe = _submit(world, "test-gated", cohorts[:1], blocks=1)
    _wait_status(pool, probe, JobStatus.SUCCEEDED)
    job.refresh_from_db()
    assert job.attempts == 1 and job.blocks_done == 2
    assert AuditEvent.objects.filter(action=AuditAction.JOB_STARTED, target_id=str(job.pk)).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.JOB_SUCCEEDED, target_id=str(job.pk)).count() == 1
    assert job.artifacts.count() == 1 and _checksums(job) == before
    assert sorted(p.name for p in (data_root / "jobs").iterdir() if p.name.startswith(str(job.pk))) == [str(job.pk)]


def test_the_per_project_limit_keeps_a_job_waiting_until_a_slot_frees(pool, world, cohorts, settings):
    settings.ANALYSIS_RUNNING_JOBS_PER_PROJECT = 1
    _start(pool, 2, ANALYSIS_RUNNING_JOBS_PER_PROJECT="1")
    first = _submit(world, "test-gated", cohorts[:1], blocks=1, gated=True)
    _wait_status(pool, first, JobStatus.RUNNING)
    second = _submit(world, "test-gated", cohorts[:1], blocks=1)
    waiting = wait_for(
        lambda: AnalysisJob.objects.filter(pk=second.pk, stage=JobStage.WAITING_FOR_SLOT).first(),
        what="the second job to wait for a slot", logs=pool.logs,
    )  # fmt: skip
    assert waiting.status == JobStatus.QUEUED and "Waiting for a slot" in waiting.progress_message
    gate(first.pk, 0).parent.mkdir(parents=True, exist_ok=True)
    gate(first.pk, 0).touch()
    assert _wait_status(pool, first, JobStatus.SUCCEEDED).status == JobStatus.SUCCEEDED
    second = _wait_status(pool, second, JobStatus.SUCCEEDED)
    assert second.started_at >= AnalysisJob.objects.get(pk=first.pk).finished_at


def test_the_sweeper_republishes_a_job_whose_publish_was_lost(pool, world, cohorts, monkeypatch):
    import analysis.services as services

    def lost(job_id):
        raise ConnectionError("the broker is down")

    monkeypatch.setattr(services, "publish", lost)
    job = _submit(world, "test-gated", cohorts[:1], blocks=1)  # committed; its publish fails after commit
    monkeypatch.undo()
    assert AnalysisJob.objects.get(pk=job.pk).published_at is None
    _start(pool)
    result = jobs_sweep()
    assert result["republished"] == 1
    job = _wait_status(pool, job, JobStatus.SUCCEEDED)
    assert job.log_entries.filter(message__contains="handed to the workers again").exists()


def test_the_soft_time_limit_fails_the_job_with_a_message(pool, world, cohorts, settings):
    settings.ANALYSIS_SOFT_TIME_LIMIT = 2
    pool.start(1, pool="prefork", ANALYSIS_EXTRA_JOB_TYPES=TEST_TYPES, ANALYSIS_SOFT_TIME_LIMIT="2",
               ANALYSIS_TIME_LIMIT="30")  # fmt: skip
    job = _submit(world, "test-gated", cohorts[:1], blocks=1, sleep=6)
    job = _wait_status(pool, job, JobStatus.FAILED, JobStatus.SUCCEEDED)
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("The job ran longer than the time limit of 2 seconds and was stopped.")


def _af_job(world, cohorts):
    return _submit(world, "allele-frequencies", cohorts, region="chr1", only_observed=False)


def test_one_job_over_two_workers_gives_the_same_result_as_over_one(pool, world, cohorts, data_root):
    blocks = {"ANALYSIS_BLOCK_VARIANTS": "40"}
    _start(pool, 1, **blocks)
    alone = _wait_status(pool, _af_job(world, cohorts), JobStatus.SUCCEEDED, JobStatus.FAILED)
    assert alone.status == JobStatus.SUCCEEDED, alone.error
    assert alone.blocks_total >= 4
    pool.stop()
    _start(pool, 2, **blocks)
    shared = _wait_status(pool, _af_job(world, cohorts), JobStatus.SUCCEEDED, JobStatus.FAILED)
    assert shared.status == JobStatus.SUCCEEDED, shared.error
    assert shared.blocks_total == alone.blocks_total
    assert len(set(shared.blocks.values_list("worker", flat=True))) == 2, "both workers ran blocks"

    def rows(job):
        path = data_root / job.artifacts.get(key="allele_frequencies").files.get().path
        return pq.read_table(path).to_pylist()

    assert rows(shared) == rows(alone) and len(rows(alone)) > 0
    assert _checksums(shared) == _checksums(alone), "the same bytes, plots included"


def test_the_sweeper_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-analysis-jobs"]
    assert entry["task"] == "analysis.sweep_jobs"
    assert entry["schedule"].minute == set(range(0, 60, settings.ANALYSIS_SWEEP_MINUTES))
