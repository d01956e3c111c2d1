"""The case-control association job: computed in this process (what it writes),
and through real Celery workers (one, and two over variant blocks)."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from django.db import transaction

from analysis.models import AnalysisJob, JobBlock, JobStatus
from analysis.services import job_submit
from cohorts.services import cohort_create
from genomics.store import GenotypeStore, import_vcf
from participants import bundle as fmt
from participants.loader import store_path_for
from participants.models import HpoTerm
from participants.ontology import ontology_write_tables
from participants.synthetic import SIGNAL_DISEASE, SIGNAL_GENE, generate_release
from tests.integration.analysis.conftest import wait_for
from tests.integration.cohorts.conftest import RELEASE, Prepared, load_prepared

CASES = {"include_all": [{"type": "disease", "field": "specific_disease", "values": [SIGNAL_DISEASE]}]}
CONTROLS = {"include_all": [{"type": "programme", "values": ["rare_disease"]}]}
PARAMETERS = {"min_maf": 0.0, "min_mac": 5, "n_pcs": 2}


@pytest.fixture
def packed(prepared_release, data_root):
    """The prepared store's packed matrix, written by its import (ADR 12)."""
    return GenotypeStore(prepared_release.data_root / store_path_for(RELEASE)).packed_prefix


def _cohorts(world):
    project = world.approved_project
    cases = cohort_create(by=project.owner, project=project, name="Cardiomyopathy", criteria_json=CASES)
    controls = cohort_create(by=project.owner, project=project, name="Rare disease", criteria_json=CONTROLS)
    return cases, controls


def _submit(world, cases, controls, **parameters):
    return job_submit(
        by=world.approved_project.owner, project=world.approved_project, job_type="association",
        inputs=[("cases", cases), ("controls", controls)], parameters={**PARAMETERS, **parameters},
    )  # fmt: skip


def _table(job, data_root):
    return pq.read_table(data_root / job.artifacts.get(key="association").files.get().path)


def _check_table(rows):
    ps = [r["p"] for r in rows if r["p"] is not None]
    assert ps == sorted(ps)
    for r in rows:
        for g in ("case", "control"):
            for c in ("hom_ref", "het", "hom_alt", "missing"):
                v = r[f"{g}_{c}"]
                assert v is None or v == 0 or (v >= 5 and v % 5 == 0)  # hidden below 5, rounded to 5
        assert r["p_test"] in {"Wald", "Firth", "score"}
        assert (r["logistic_or"] is None) == (r["p_test"] == "score")


def test_association_in_process_writes_its_table_and_plots(world, release, data_root, packed, eager):
    cases, controls = _cohorts(world)
    with eager():
        job = _submit(world, cases, controls)
    job = AnalysisJob.objects.get(pk=job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert {a.key for a in job.artifacts.all()} == {"association", "manhattan", "qq"}
    rows = _table(job, data_root).to_pylist()
    assert rows
    _check_table(rows)
    qq = (data_root / job.artifacts.get(key="qq").files.get(format="svg").path).read_text()
    assert "λ" in qq


@pytest.fixture
def committed_release(transactional_db, prepared_release, settings):
    with transaction.atomic():
        if not HpoTerm.objects.exists():
            ontology_write_tables()
        return load_prepared(prepared_release, name=RELEASE).release


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_association_over_two_workers_in_blocks_matches_one_block(
    committed_release, world, data_root, packed, workers, eager
):
    cases, controls = _cohorts(world)
    workers.start(2, ANALYSIS_BLOCK_VARIANTS="400")
    job = _submit(world, cases, controls)

    def finished():
        current = AnalysisJob.objects.get(pk=job.pk)
        return current if current.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) else None

    done = wait_for(finished, timeout=240, what="the association job", logs=workers.logs)
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.blocks_total > 1
    blocks = JobBlock.objects.filter(job=done, attempt=done.attempts)
    assert blocks.count() == done.blocks_total and all(b.finished_at for b in blocks)
    split = _table(done, data_root)
    _check_table(split.to_pylist())
    with eager():
        whole = _submit(world, cases, controls)
    whole = AnalysisJob.objects.get(pk=whole.pk)
    assert whole.status == JobStatus.SUCCEEDED, whole.error
    one = _table(whole, data_root)
    assert split.column("variant").to_pylist() == one.column("variant").to_pylist()
    for name in ("p", "p_fisher", "p_score", "odds_ratio"):
        a = np.array(split.column(name).to_pylist(), dtype=float)
        b = np.array(one.column(name).to_pylist(), dtype=float)
        assert np.allclose(a, b, rtol=1e-9, equal_nan=True)


@pytest.fixture(scope="module")
def demo_sized(tmp_path_factory) -> Prepared:
    """A release of the demo's size and seed (``seed_demo_release``: 2,000 participants, 10,000 variants)."""
    root = tmp_path_factory.mktemp("demo-sized")
    bundle = root / "bundle"
    generate_release(bundle, participants=2000, variants=10000, seed=1, name="demo-v1")
    data_root = root / "data"
    store = data_root / store_path_for("demo-v1")
    import_vcf(bundle / fmt.GERMLINE, store)
    sample_index = {sid: i for i, sid in enumerate(GenotypeStore(store).sample_ids)}
    return Prepared(bundle, data_root, fmt.read_bundle(bundle, check_vcfs=False), sample_index)


def test_the_planted_signal_is_the_top_hit_on_the_demo_release(world, demo_sized, settings, eager):
    import json

    settings.DATA_ROOT = demo_sized.data_root
    load_prepared(demo_sized, name="demo-v1")
    cases, controls = _cohorts(world)
    with eager():
        job = job_submit(
            by=world.approved_project.owner,
            project=world.approved_project,
            job_type="association",
            inputs=[("cases", cases), ("controls", controls)],
            parameters={},
        )  # the defaults
    job = AnalysisJob.objects.get(pk=job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.error
    truth = json.loads((demo_sized.bundle_path / "truth.json").read_text())
    signal = next(v for v in truth["injected"] if v["kind"] == "signal")
    rows = _table(job, demo_sized.data_root).to_pylist()
    top = rows[0]
    assert (top["gene"], top["contig"], top["position"]) == (SIGNAL_GENE, signal["chrom"], signal["pos"])
    assert top["p"] < 1e-10 and top["p_fisher"] < 1e-10 and top["p_test"] in {"Wald", "Firth"}
    assert top["logistic_or"] > 3 and top["odds_ratio"] > 3
    assert rows[1]["p"] > 1e3 * top["p"]
