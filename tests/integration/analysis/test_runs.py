"""What jobs compute, run in this process: results, provenance, disclosure."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from analysis.models import AnalysisJob, JobStatus
from analysis.services import job_submit


def _submit(world, job_type, cohorts, **parameters):
    return job_submit(
        by=world.approved_project.owner,
        project=world.approved_project,
        job_type=job_type,
        inputs=[("cohort", c) for c in cohorts],
        parameters=parameters,
    )


def test_cohort_summary_of_two_cohorts_succeeds_with_a_table_and_three_plots(world, cohorts, eager, data_root):
    with eager():
        job = _submit(world, "cohort-summary", cohorts)
    job = AnalysisJob.objects.get(pk=job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.error
    keys = {a.key: a for a in job.artifacts.all()}
    assert set(keys) == {"summary", "age_sex", "phenotypes", "diagnoses"}
    table = pq.read_table(data_root / keys["summary"].files.get().path)
    assert {r["cohort"] for r in table.to_pylist()} == {"Cancer (v1)", "Female (v1)"}
    assert {f.format for f in keys["age_sex"].files.all()} == {"svg", "png", "pdf"}
    provenance = json.loads((data_root / "jobs" / str(job.pk) / "provenance.json").read_text())
    assert provenance["release"]["name"] == job.release.name


def test_allele_frequencies_in_a_gene_succeeds(world, cohorts, eager, data_root):
    from participants.models import Gene

    gene = Gene.objects.filter(release=cohorts[0].release).order_by("symbol").first().symbol
    with eager():
        job = _submit(world, "allele-frequencies", cohorts, gene=gene)
    job = AnalysisJob.objects.get(pk=job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.error
    table = job.artifacts.get(key="allele_frequencies")
    assert table.n_rows >= 0
