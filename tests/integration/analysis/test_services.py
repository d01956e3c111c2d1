"""Submitting, refusing, retrying, flagging withdrawals and sweeping, in this process."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from analysis.jobtype import JobError, ParameterError
from analysis.models import AnalysisJob, JobLogEntry, JobStage, JobStatus
from analysis.services import job_log, job_retry, job_submit, jobs_flag_withdrawals, jobs_sweep
from audit.models import AuditAction, AuditEvent
from cohorts.models import CohortMember
from cohorts.services import cohort_create
from tests.integration.analysis.conftest import NOBODY


def _submit(world, job_type, cohorts, by=None, **parameters):
    return job_submit(by=by or world.approved_project.owner, project=world.approved_project, job_type=job_type,
                      inputs=[("cohort", c) for c in cohorts], parameters=parameters)  # fmt: skip


def test_a_job_that_would_read_nobody_is_refused_and_nothing_is_written(world, cohorts):
    empty = cohort_create(by=world.approved_project.owner, project=world.approved_project, name="Nobody",
                          criteria_json=NOBODY)  # fmt: skip
    with pytest.raises(JobError, match="would read no participant"):
        _submit(world, "cohort-summary", [empty])
    assert not AnalysisJob.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.JOB_SUBMITTED).exists()


def test_an_unknown_gene_is_refused_with_close_matches(world, cohorts):
    from participants.models import Gene

    symbol = Gene.objects.filter(release=cohorts[0].release).order_by("symbol").first().symbol
    with pytest.raises(ParameterError) as refused:
        _submit(world, "allele-frequencies", cohorts[:1], gene=symbol[:-1] + "X")
    assert "is not in the gene table of release" in refused.value.errors["gene"][0]
    assert not AnalysisJob.objects.exists()


def test_a_gene_or_region_is_required_and_a_reversed_region_is_explained(world, cohorts):
    with pytest.raises(ParameterError, match="Give a gene or a region"):
        _submit(world, "allele-frequencies", cohorts[:1])
    with pytest.raises(ParameterError) as refused:
        _submit(world, "allele-frequencies", cohorts[:1], region="chr1:500-100")
    assert "ends before it starts" in refused.value.errors["region"][0]


def test_too_many_cohorts_and_a_cohort_of_another_project_are_refused(world, cohorts, release):
    from tests.factories.domains import ProjectFactory

    with pytest.raises(JobError, match="at most 2"):
        _submit(world, "cohort-summary", [*cohorts, cohorts[0]])
    other = ProjectFactory(domain=world.domain, owner=world.teammate, status="approved")
    elsewhere = cohort_create(by=world.teammate, project=other, name="Elsewhere",
                              criteria_json={"include_all": [{"type": "sex", "values": ["male"]}]})  # fmt: skip
    with pytest.raises(JobError, match="not one this project can use"):
        _submit(world, "cohort-summary", [elsewhere])


def test_submit_records_inputs_with_member_counts_and_an_estimate(world, cohorts):
    job = _submit(world, "cohort-summary", cohorts)
    inputs = list(job.inputs.order_by("position"))
    assert [i.cohort_id for i in inputs] == [c.pk for c in cohorts]
    assert [i.member_count for i in inputs] == [c.member_count for c in cohorts]
    assert job.estimate["seconds"] > 0 and job.status == JobStatus.QUEUED and job.queue == "interactive"
    event = AuditEvent.objects.get(action=AuditAction.JOB_SUBMITTED)
    assert event.target_id == str(job.pk) and event.details["job_type"] == "cohort-summary"


def test_a_failed_job_can_be_retried_and_then_succeeds(world, cohorts, eager, monkeypatch):
    from analysis.jobtypes import cohort_summary

    def broken(*args, **kwargs):
        raise RuntimeError("disk went away")

    monkeypatch.setattr(cohort_summary, "cohort_summary", broken)
    with eager():
        job = _submit(world, "cohort-summary", cohorts[:1])
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "internal error (RuntimeError: disk went away)" in job.error
    monkeypatch.undo()
    with eager():
        job = job_retry(by=world.approved_project.owner, job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 2 and job.error == ""


def test_the_sweeper_fails_a_job_whose_worker_went_silent(world, cohorts, settings):
    job = _submit(world, "cohort-summary", cohorts[:1])
    old = timezone.now() - timedelta(seconds=settings.ANALYSIS_HEARTBEAT_TIMEOUT_SECONDS + 60)
    running = {"status": JobStatus.RUNNING, "stage": JobStage.COMPUTING, "attempts": 1}
    AnalysisJob.objects.filter(pk=job.pk).update(started_at=old, heartbeat_at=old, **running)
    assert jobs_sweep()["failed"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "stopped sending progress" in job.error and "Retry" in job.error


def test_withdrawals_flag_the_jobs_that_read_them_and_only_those(world, cohorts, eager):
    with eager():
        done = _submit(world, "cohort-summary", cohorts[:1])
    waiting = _submit(world, "cohort-summary", cohorts[:1])
    member = CohortMember.objects.filter(cohort=cohorts[0]).select_related("participant").first().participant
    assert jobs_flag_withdrawals(release=cohorts[0].release, participant_ids=[member.participant_id]) == 1
    done.refresh_from_db()
    waiting.refresh_from_db()
    assert done.withdrawals_flagged_at is not None and done.withdrawn_participants == 1
    assert waiting.withdrawals_flagged_at is None, "a queued job reads its members when it starts"
    assert AuditEvent.objects.filter(action=AuditAction.JOBS_FLAGGED).count() == 1


def test_the_log_keeps_at_most_its_limit_and_says_so(world, cohorts, settings):
    settings.ANALYSIS_LOG_LIMIT = 3
    job = _submit(world, "cohort-summary", cohorts[:1])  # one line already: "Submitted by ..."
    for i in range(5):
        job_log(job_id=job.pk, message=f"step {i}")
    lines = list(JobLogEntry.objects.filter(job=job).values_list("message", flat=True))
    assert len(lines) == 4 and lines[-1].startswith("The log is truncated here")
