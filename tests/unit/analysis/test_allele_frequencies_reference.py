"""The allele-frequency job's computation, before disclosure control, matches
``bcftools +fill-tags`` on the same samples (fixtures and commands in fixtures/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.jobtypes.allele_frequencies import block_bounds, raw_counts
from genomics.store import GenotypeStore, import_vcf

HERE = Path(__file__).resolve().parent / "fixtures"
VCF = Path(__file__).resolve().parents[2] / "fixtures" / "genomics" / "cohort.vcf.gz"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> GenotypeStore:
    target = tmp_path_factory.mktemp("af-store") / "store"
    import_vcf(VCF, target, variants_chunk_size=300, samples_chunk_size=16)
    return GenotypeStore(target)


@pytest.fixture(scope="module")
def cohorts(store) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {"A": [], "B": []}
    for line in (HERE / "cohorts.tsv").read_text().splitlines():
        sample, groups = line.split("\t")
        for g in groups.split(","):
            out[g].append(int(store.sample_indices([sample])[0]))
    return out


def _reference(name: str) -> list[list[str]]:
    return [line.split("\t") for line in (HERE / name).read_text().splitlines()]


@pytest.mark.parametrize(
    ("reference", "selection"),
    [
        ("bcftools_fill_tags_prkn.tsv", {"gene": "PRKN", "region": None}),
        ("bcftools_fill_tags_chr1.tsv", {"gene": None, "region": ("chr1", 1, 120_000_000)}),
    ],
)
def test_counts_match_bcftools_fill_tags_for_overlapping_cohorts(store, cohorts, reference, selection):
    rows = _reference(reference)
    annotation, counts = raw_counts(store, cohorts, mask=store.every_sample(), **selection)
    assert annotation.column("position").to_pylist() == [int(r[1]) for r in rows]
    assert annotation.column("alt").to_pylist() == [r[3] for r in rows]
    for name, offset in (("A", 4), ("B", 9)):
        c, size = counts[name], len(cohorts[name])
        expected = np.array([[int(v) for v in r[offset : offset + 5]] for r in rows])
        assert c.ac[:, 0].tolist() == expected[:, 0].tolist()
        assert c.an[:, 0].tolist() == expected[:, 1].tolist()
        assert c.n_het[:, 0].tolist() == expected[:, 2].tolist()
        assert (2 * c.n_hom_alt[:, 0]).tolist() == expected[:, 3].tolist()
        assert (size - c.n_missing[:, 0]).tolist() == expected[:, 4].tolist()
        assert (c.n_hom_ref + c.n_het + c.n_hom_alt + c.n_missing)[:, 0].tolist() == [size] * len(rows)


def test_overlapping_cohorts_are_each_counted_in_full(store, cohorts):
    _, together = raw_counts(store, cohorts, mask=store.every_sample(), gene="PRKN", region=None)
    _, alone = raw_counts(store, {"B": cohorts["B"]}, mask=store.every_sample(), gene="PRKN", region=None)
    assert together["B"].ac.tolist() == alone["B"].ac.tolist()


def test_a_consequence_filter_keeps_only_those_variants(store, cohorts):
    annotation, counts = raw_counts(
        store, cohorts, mask=store.every_sample(), gene="PRKN", region=None, consequences=["missense"]
    )
    assert set(annotation.column("csq").to_pylist()) <= {"missense_variant"}
    assert len(counts["A"].ac) == annotation.num_rows


def test_blocks_never_split_two_variants_at_one_position():
    positions = np.array([1, 2, 2, 2, 3, 4, 5, 5, 6])
    bounds = block_bounds(positions, 2)
    assert bounds[0] == (0, 4) and bounds[-1][1] == len(positions)
    assert all(positions[b - 1] != positions[b] for _, b in bounds[:-1])
    assert [i for a, b in bounds for i in range(a, b)] == list(range(len(positions)))
