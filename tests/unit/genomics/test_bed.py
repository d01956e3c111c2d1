"""The packed genotype matrix and its kernels against plink2 on the same .bed
(fixtures and commands: tests/fixtures/association/regenerate.sh)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from genomics.bed import BedError, PackedGenotypes, group_masks, sample_index

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "association"


@pytest.fixture(scope="module")
def bed() -> PackedGenotypes:
    return PackedGenotypes(FIXTURES / "fx")


def _ids(name: str) -> list[str]:
    return [line.split()[1] for line in (FIXTURES / name).read_text().splitlines()]


def _gcount(name: str) -> np.ndarray:
    with gzip.open(FIXTURES / name, "rt") as fh:
        rows = [line.split("\t") for line in fh.read().splitlines()[1:]]
    return np.array([[int(r[4]), int(r[5]), int(r[6]), int(r[9])] for r in rows])


def test_group_counts_match_plink2_geno_counts_for_cases_and_controls_at_once(bed):
    ids = bed.sample_ids()
    column = {s: i for i, s in enumerate(ids)}
    cases = np.array([column[s] for s in _ids("cases.txt")])
    controls = np.zeros(bed.n_samples, dtype=bool)  # a bool mask works as well as an index
    controls[[column[s] for s in _ids("controls.txt")]] = True
    counts = bed.group_counts([cases, controls])
    assert counts.shape == (bed.n_variants, 2, 4)
    assert np.array_equal(counts[:, 0], _gcount("cases.gcount.gz"))
    assert np.array_equal(counts[:, 1], _gcount("controls.gcount.gz"))


def test_group_counts_of_a_block_and_of_overlapping_groups(bed):
    everyone = np.arange(bed.n_samples)
    firsts, odd = everyone[:37], everyone[1::2]
    whole = bed.group_counts([everyone, firsts, odd])
    block = bed.group_counts([everyone, firsts, odd], 1500, 1800)
    assert np.array_equal(block, whole[1500:1800])
    dosage = bed.dosages(everyone)
    for g, members in enumerate([everyone, firsts, odd]):
        sub = dosage[:, members]
        expected = np.stack([(sub == 0).sum(1), (sub == 1).sum(1), (sub == 2).sum(1), np.isnan(sub).sum(1)], axis=1)
        assert np.array_equal(whole[:, g], expected)


def test_a_sample_left_out_of_the_mask_is_never_counted(bed):
    """A withdrawn participant's column is simply not in the mask: its calls change nothing."""
    everyone = np.arange(bed.n_samples)
    withdrawn = 5
    kept = everyone[everyone != withdrawn]
    counts = bed.group_counts([kept])[:, 0]
    dosage = bed.dosages(everyone)
    own = dosage[:, withdrawn]
    full = bed.group_counts([everyone])[:, 0]
    for code, value in ((0, 0.0), (1, 1.0), (2, 2.0)):
        assert np.array_equal(full[:, code] - counts[:, code], (own == value).astype(int))
    assert counts.sum(axis=1).tolist() == [bed.n_samples - 1] * bed.n_variants
    assert bed.dosages(kept).shape == (bed.n_variants, bed.n_samples - 1)


def test_dosages_are_alt_counts_with_missing_as_nan_or_minus_one(bed):
    samples = np.array([0, 3, 4, 7, 319])
    floats = bed.dosages(samples, 10, 20)
    small = bed.dosages(samples, 10, 20, dtype=np.int8)
    assert floats.shape == small.shape == (10, 5)
    assert np.array_equal(np.isnan(floats), small == -1)
    assert np.array_equal(np.nan_to_num(floats, nan=-1).astype(np.int8), small)
    # against the bytes themselves, decoded in Python: 00 hom ALT, 10 het, 11 hom REF, 01 missing
    raw = (FIXTURES / "fx.bed").read_bytes()
    per = (bed.n_samples + 3) // 4
    decode = {0b00: 2, 0b10: 1, 0b11: 0, 0b01: -1}
    for i, v in enumerate(range(10, 20)):
        for j, s in enumerate(samples):
            code = (raw[3 + v * per + s // 4] >> (2 * (s % 4))) & 3
            assert small[i, j] == decode[code]


def test_dosages_at_scattered_variants_are_the_rows_of_the_full_read(bed):
    samples = np.array([1, 2, 30, 31, 200, 319])
    variants = np.array([0, 1, 2, 17, 500, 501, 999, 3, bed.n_variants - 1])  # runs, gaps, out of order
    full = bed.dosages(samples)
    assert np.array_equal(bed.dosages_at(samples, variants), full[variants], equal_nan=True)
    assert bed.dosages_at(samples, np.array([], dtype=np.int64)).shape == (0, samples.size)
    with pytest.raises(ValueError, match="variant index out of range"):
        bed.dosages_at(samples, np.array([bed.n_variants]))


def test_dosage_blocks_cover_the_range_in_order(bed, monkeypatch):
    import genomics.bed as module

    monkeypatch.setattr(module, "BLOCK_BYTES", 8 * 320 * 300)  # 300 variants a block
    samples = np.arange(bed.n_samples)
    blocks = list(bed.dosage_blocks(samples, 100, 1000))
    assert [a for a, _ in blocks] == [100, 400, 700]
    assert np.array_equal(np.concatenate([d for _, d in blocks]), bed.dosages(samples, 100, 1000), equal_nan=True)


def test_masks_and_index_checks():
    masks, sizes = group_masks([np.array([0, 33]), np.ones(40, dtype=bool)], 40)
    assert sizes.tolist() == [2, 40]
    assert int(masks[0, 0]) == 1 and int(masks[0, 1]) == 1 << 2
    with pytest.raises(ValueError):
        sample_index(np.ones(3, dtype=bool), 40)
    with pytest.raises(ValueError):
        sample_index([40], 40)


def test_a_truncated_bed_is_refused(tmp_path):
    for ext in ("bim", "fam"):
        (tmp_path / f"x.{ext}").write_bytes((FIXTURES / f"fx.{ext}").read_bytes())
    (tmp_path / "x.bed").write_bytes((FIXTURES / "fx.bed").read_bytes()[:-1])
    with pytest.raises(BedError, match="bytes"):
        PackedGenotypes(tmp_path / "x")
