"""Allele counts, frequencies and missingness against bcftools and plink2 outputs."""

from __future__ import annotations

import numpy as np
import pytest

from genomics.kernels import (
    AlleleCounts,
    allele_counts_by_group,
    allele_frequency,
    alt_allele_count,
    chunk_summary,
    group_index,
    nonref_calls,
    pack_hard_calls,
    sample_missingness,
    variant_missingness,
)


def _read_tsv(path, skip_comments=True):
    rows = []
    for line in path.read_text().splitlines():
        if skip_comments and line.startswith("#"):
            continue
        rows.append(line.split("\t"))
    return rows


def test_allele_counts_whole_cohort_match_bcftools_fill_tags(store, fixtures_dir):
    ref = _read_tsv(fixtures_dir / "bcftools_fill_tags_all.tsv")

    counts = store.allele_counts(mask=store.every_sample()).for_group("all")

    assert len(ref) == store.n_variants
    np.testing.assert_array_equal(counts.ac[:, 0], [int(r[4]) for r in ref])
    np.testing.assert_array_equal(counts.an[:, 0], [int(r[5]) for r in ref])
    np.testing.assert_array_equal(counts.n_het[:, 0], [int(r[6]) for r in ref])
    # bcftools AC_Hom counts alt alleles in hom-alt genotypes: two per sample.
    np.testing.assert_array_equal(2 * counts.n_hom_alt[:, 0], [int(r[7]) for r in ref])


def test_allele_counts_by_ancestry_group_match_bcftools_fill_tags(store, fixtures_dir, cohort_groups):
    lines = (fixtures_dir / "bcftools_fill_tags_groups.tsv").read_text().splitlines()
    header = [h.split("]", 1)[1] for h in lines[0].lstrip("# ").split("\t")]
    ref = np.array([line.split("\t")[2:] for line in lines[1:]], dtype=np.int64)
    columns = {name: ref[:, i] for i, name in enumerate(header[2:])}

    result = store.allele_counts(cohort_groups, mask=store.every_sample())

    for group in ("AFR", "EAS", "EUR", "SAS"):
        c = result.for_group(group)
        np.testing.assert_array_equal(c.ac[:, 0], columns[f"AC_{group}"], err_msg=group)
        np.testing.assert_array_equal(c.an[:, 0], columns[f"AN_{group}"], err_msg=group)
        np.testing.assert_array_equal(c.n_het[:, 0], columns[f"AC_Het_{group}"], err_msg=group)
        np.testing.assert_array_equal(2 * c.n_hom_alt[:, 0], columns[f"AC_Hom_{group}"], err_msg=group)


def test_allele_counts_match_plink2_freq_counts(store, fixtures_dir):
    ref = _read_tsv(fixtures_dir / "plink2.acount")

    counts = store.allele_counts(mask=store.every_sample()).counts

    np.testing.assert_array_equal(counts.ac[:, 0], [int(r[4]) for r in ref])
    np.testing.assert_array_equal(counts.an[:, 0], [int(r[5]) for r in ref])


def test_variant_and_sample_missingness_match_plink2_missing(store, fixtures_dir):
    vmiss = _read_tsv(fixtures_dir / "plink2.vmiss")
    smiss = {r[0]: int(r[1]) for r in _read_tsv(fixtures_dir / "plink2.smiss")}

    per_variant, per_sample = [], np.zeros(store.n_samples, dtype=np.int64)
    for chunk in store.iter_chunks(mask=store.every_sample()):
        per_variant.append(variant_missingness(chunk.gt))
        per_sample += sample_missingness(chunk.gt)

    np.testing.assert_array_equal(np.concatenate(per_variant), [int(r[2]) for r in vmiss])
    assert dict(zip(store.sample_ids, per_sample.tolist(), strict=True)) == smiss


def test_region_counts_equal_the_matching_rows_of_whole_cohort_counts(store):
    everything = store.allele_counts(mask=store.every_sample()).counts
    idx = store.variant_indices(region="chr17")

    regional = store.allele_counts(region="chr17", mask=store.every_sample()).counts

    np.testing.assert_array_equal(regional.ac, everything.ac[idx])
    np.testing.assert_array_equal(regional.an, everything.an[idx])


def test_count_kernel_handles_missing_and_excluded_samples():
    gt = np.array(
        [
            [[0, 0], [0, 1], [1, 1], [-1, -1], [0, 1]],
            [[1, 1], [-1, -1], [0, 0], [0, 1], [1, 1]],
        ],
        dtype=np.int8,
    )
    group = np.array([0, 0, 1, 1, -1])

    c = allele_counts_by_group(gt, group, 2)

    np.testing.assert_array_equal(c.ac, [[1, 2], [2, 1]])
    np.testing.assert_array_equal(c.an, [[4, 2], [2, 4]])
    np.testing.assert_array_equal(c.n_het, [[1, 0], [0, 1]])
    np.testing.assert_array_equal(c.n_hom_alt, [[0, 1], [1, 0]])
    np.testing.assert_array_equal(c.n_hom_ref, [[1, 0], [0, 1]])
    np.testing.assert_array_equal(c.n_missing, [[0, 1], [1, 0]])
    np.testing.assert_allclose(c.af, [[0.25, 1.0], [1.0, 0.25]])


def test_counts_of_sample_blocks_add_up_to_counts_of_the_whole():
    rng = np.random.default_rng(1)
    gt = rng.integers(-1, 2, size=(50, 40, 2)).astype(np.int8)
    group = rng.integers(-1, 3, size=40)

    whole = allele_counts_by_group(gt, group, 3)
    halves = allele_counts_by_group(gt[:, :17], group[:17], 3) + allele_counts_by_group(gt[:, 17:], group[17:], 3)

    for name in AlleleCounts.__slots__:
        np.testing.assert_array_equal(getattr(whole, name), getattr(halves, name))


def test_allele_frequency_is_nan_where_nothing_called():
    np.testing.assert_array_equal(allele_frequency(np.array([1, 0]), np.array([4, 0])), [0.25, np.nan])


def test_alt_allele_count_marks_missing_calls():
    gt = np.array([[[0, 1], [1, 1], [-1, -1], [0, 0]]], dtype=np.int8)
    np.testing.assert_array_equal(alt_allele_count(gt), [[1, 2, -1, 0]])


def test_group_index_rejects_unknown_and_overlapping_samples():
    with pytest.raises(KeyError, match="S9"):
        group_index(["S1", "S2"], {"a": ["S9"]})
    with pytest.raises(ValueError, match="more than one group"):
        group_index(["S1", "S2"], {"a": ["S1"], "b": ["S1"]})


@pytest.mark.parametrize("n_samples", [1, 3, 4, 5, 13, 1001])
def test_chunk_summary_equals_the_counts_carriers_and_packing_it_replaces(n_samples):
    rng = np.random.default_rng(n_samples)
    alleles = np.array([0, 1, -1, -2], dtype=np.int8)  # -2: a haploid call's fill
    gt = rng.choice(alleles, p=[0.75, 0.15, 0.07, 0.03], size=(60, n_samples, 2))
    gt[0] = 0  # a variant nobody carries
    gt[1] = 1  # one everybody carries, hom ALT

    counts, carriers, packed = chunk_summary(gt)

    want = allele_counts_by_group(gt)
    for name in ("ac", "an", "n_het", "n_hom_alt", "n_hom_ref", "n_missing"):
        assert np.array_equal(getattr(counts, name), getattr(want, name)), name
    for got, expected in zip(carriers, nonref_calls(gt), strict=True):
        assert got.dtype == expected.dtype
        assert np.array_equal(got, expected)
    assert np.array_equal(packed, pack_hard_calls(gt))


def test_chunk_summary_of_an_allele_beyond_alt_falls_back_to_the_general_kernels():
    gt = np.zeros((3, 5, 2), dtype=np.int8)
    gt[1, 2] = (1, 2)

    counts, (vi, si, g), packed = chunk_summary(gt)

    assert counts.ac[:, 0].tolist() == [0, 2, 0]
    assert (vi.tolist(), si.tolist(), g.tolist()) == ([1], [2], [2])
    assert np.array_equal(packed, pack_hard_calls(gt))
