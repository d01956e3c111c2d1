"""The analysis pages as a researcher uses them: the form keeps its input and
explains errors, the estimate is controlled, lists do not grow queries per job."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analysis.models import AnalysisJob, JobStatus
from analysis.services import job_submit
from audit.models import AuditAction, AuditEvent
from disclosure.policy import current_policy
from disclosure.rules import safe_count


def _new(client, project, data):
    return client.post(reverse("analysis:new", args=[project.pk]), data)


def test_an_unknown_gene_is_explained_beside_its_field_and_the_choices_stay(world, cohorts, client_for):
    client = client_for(world.approved_project.owner)
    data = {"type": "allele-frequencies", "role_cohort": [cohorts[0].pk, cohorts[1].pk], "p-gene": "NOTAGENE",
            "p-consequences": ["missense"]}  # fmt: skip
    response = _new(client, world.approved_project, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "NOTAGENE is not in the gene table of release" in html
    assert 'value="NOTAGENE"' in html and html.count("checked") >= 3
    assert not AnalysisJob.objects.exists()


def test_submitting_from_the_page_queues_the_job_and_opens_its_page(world, cohorts, client_for):
    client = client_for(world.approved_project.owner)
    response = _new(client, world.approved_project, {"type": "cohort-summary", "role_cohort": [cohorts[0].pk]})
    job = AnalysisJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("analysis:job", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Queued" in page and 'role="progressbar"' not in page or "<progress" in page


def test_the_estimate_shows_controlled_counts_and_the_cost(world, cohorts, client_for):
    client = client_for(world.approved_project.owner)
    response = client.post(reverse("analysis:estimate", args=[world.approved_project.pk]),
                           {"type": "cohort-summary", "role_cohort": [cohorts[0].pk]})  # fmt: skip
    html = response.content.decode()
    shown = safe_count(cohorts[0].member_count, current_policy()).label
    assert response.status_code == 200 and f"{shown} participant" in html and "about" in html
    assert not AuditEvent.objects.filter(action=AuditAction.JOB_SUBMITTED).exists()


def test_a_finished_job_page_shows_inline_plots_a_table_and_provenance_and_is_audited(world, cohorts, eager,
                                                                                     client_for):  # fmt: skip
    with eager():
        job = job_submit(by=world.approved_project.owner, project=world.approved_project, job_type="cohort-summary",
                         inputs=[("cohort", c) for c in cohorts], parameters={})  # fmt: skip
    client = client_for(world.approved_project.owner)
    html = client.get(reverse("analysis:job", args=[job.pk])).content.decode()
    assert html.count("<svg") >= 3 and "<?xml" not in html
    assert 'data-testid="table-summary"' in html and "provenance.json" in html and "sdc-1" in html
    assert AuditEvent.objects.filter(action=AuditAction.JOB_RESULT_VIEWED, target_id=str(job.pk)).count() == 1
    client.get(reverse("analysis:job-progress", args=[job.pk]))
    client.get(reverse("analysis:job-row", args=[job.pk]))
    assert AuditEvent.objects.filter(action=AuditAction.JOB_RESULT_VIEWED).count() == 1, "polls are not audited"


def test_a_table_is_sorted_and_filtered_on_the_server(world, cohorts, eager, client_for):
    with eager():
        job = job_submit(by=world.approved_project.owner, project=world.approved_project,
                         job_type="allele-frequencies", inputs=[("cohort", cohorts[0])],
                         parameters={"region": "chr1", "only_observed": False})  # fmt: skip
    client = client_for(world.approved_project.owner)
    url = reverse("jobs-api:rows", args=[job.pk, "allele_frequencies"])
    everything = client.get(url, {"page_size": 1000}).json()
    assert everything["count"] == job.artifacts.get(key="allele_frequencies").n_rows > 0
    ordered = client.get(url, {"sort": "position", "order": "desc", "page_size": 5}).json()["results"]
    positions = [r["position"] for r in ordered]
    assert positions == sorted(positions, reverse=True)
    missense = client.get(url, {"f_consequence": "missense", "page_size": 1000}).json()
    assert all("missense" in r["consequence"] for r in missense["results"])
    page = client.get(reverse("analysis:job-table", args=[job.pk, "allele_frequencies"]), {"page": 2},
                      headers={"HX-Request": "true"})  # fmt: skip
    assert page.status_code == 200 and "<html" not in page.content.decode()


def test_the_withdrawal_flag_shows_on_the_job_page(world, cohorts, client_for):
    job = job_submit(by=world.approved_project.owner, project=world.approved_project, job_type="cohort-summary",
                     inputs=[("cohort", cohorts[0])], parameters={})  # fmt: skip
    AnalysisJob.objects.filter(pk=job.pk).update(withdrawals_flagged_at=timezone.now(), withdrawn_participants=2)
    html = client_for(world.approved_project.owner).get(reverse("analysis:job", args=[job.pk])).content.decode()
    assert "have since withdrawn consent" in html and 'data-testid="withdrawal-flag"' in html


def test_the_jobs_list_takes_the_same_queries_for_one_job_or_many(world, cohorts, client_for):
    client = client_for(world.approved_project.owner)
    url = reverse("analysis:project-jobs", args=[world.approved_project.pk])

    def submit():
        job_submit(by=world.approved_project.owner, project=world.approved_project, job_type="cohort-summary",
                   inputs=[("cohort", c) for c in cohorts], parameters={})  # fmt: skip

    submit()
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for _ in range(4):
        submit()
    with CaptureQueriesContext(connection) as five:
        assert client.get(url).status_code == 200
    assert len(five) == len(one)
    assert AnalysisJob.objects.filter(status=JobStatus.QUEUED).count() == 5


def test_the_dashboard_shows_the_users_recent_jobs_and_cohorts(world, cohorts, client_for):
    job_submit(by=world.approved_project.owner, project=world.approved_project, job_type="cohort-summary",
               inputs=[("cohort", cohorts[0])], parameters={})  # fmt: skip
    html = client_for(world.approved_project.owner).get(reverse("dashboard")).content.decode()
    assert "Recent jobs" in html and "Cohort summary" in html and cohorts[0].name in html
