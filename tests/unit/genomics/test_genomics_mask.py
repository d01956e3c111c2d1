"""Every genotype read takes a sample mask, and a sample outside it changes nothing.

Stores are made from VCFs that differ only in the columns of the masked
samples (given arbitrary genotypes by Hypothesis); every read through the
mask (carrier lookups, allele counts by group, genotype chunks with a FORMAT
field, the genotype matrix, a PLINK export) answers the same on all of them.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from genomics.mask import SampleMask
from genomics.store import GenotypeStore, export_plink, import_vcf
from genomics.vcf import tabix_index

MASKED = (3, 11, 40)  # sample columns left out of the mask


def test_a_mask_is_one_bool_per_store_column_and_names_its_contents(store):
    every = store.every_sample()
    some = SampleMask.of_indices(store.n_samples, [5, 1, 9])

    assert every.is_everything and every.n_kept == store.n_samples
    assert some.indices.tolist() == [1, 5, 9] and 5 in some and 2 not in some
    assert some.key != every.key and some == SampleMask.of_indices(store.n_samples, [9, 5, 1])
    with pytest.raises(IndexError):
        SampleMask.of_indices(store.n_samples, [store.n_samples])


def test_a_read_without_a_mask_or_with_a_mask_of_another_store_is_refused(store):
    with pytest.raises(TypeError):
        store.allele_counts()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="SampleMask"):
        store.carriers(mask=np.ones(store.n_samples, dtype=bool), gene="BRCA1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="the mask is for 3 samples"):
        next(store.iter_chunks(mask=SampleMask.every_sample(3)))


def test_a_sample_outside_the_mask_cannot_be_read_by_name(store):
    mask = SampleMask.of_indices(store.n_samples, [i for i in range(store.n_samples) if i not in MASKED])

    with pytest.raises(KeyError, match="outside the sample mask"):
        next(store.iter_chunks(mask=mask, samples=[store.sample_ids[MASKED[0]]]))


def test_masked_reads_count_and_return_only_the_kept_samples(store):
    kept = [i for i in range(store.n_samples) if i not in MASKED]
    mask = SampleMask.of_indices(store.n_samples, kept)
    full = store.genotype_matrix(mask=store.every_sample())

    assert np.array_equal(store.genotype_matrix(mask=mask), full[:, kept])
    counts = store.allele_counts(mask=mask).for_group("all")
    kept_gt = full[:, kept]
    assert counts.ac[:, 0].tolist() == (kept_gt > 0).sum(axis=(1, 2)).tolist()
    assert counts.an[:, 0].tolist() == (kept_gt >= 0).sum(axis=(1, 2)).tolist()
    everyone = store.carriers(mask=store.every_sample(), gene="TTN")
    assert store.carriers(mask=mask, gene="TTN") == everyone - set(MASKED)


def _vcf_with(path: Path, lines: list[str], masked_calls: list[list[str]]) -> Path:
    header_end = next(i for i, line in enumerate(lines) if line.startswith("#CHROM"))
    out = lines[: header_end + 1]
    for k, line in enumerate(lines[header_end + 1 :]):
        cols = line.split("\t")
        for j, s in enumerate(MASKED):
            cols[9 + s] = masked_calls[j][k]
        out.append("\t".join(cols))
    plain = path.with_suffix("")
    plain.write_text("\n".join(out) + "\n")
    import pysam

    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()
    tabix_index(path)
    return path


def _reads(store: GenotypeStore, mask: SampleMask, out: Path) -> dict:
    found: dict = {}
    found["carriers"] = [
        sorted(store.carriers(mask=mask, **lookup))
        for lookup in (
            {"gene": "TTN"},
            {"gene": "BRCA1", "genotype": "het"},
            {"region": "chr17", "genotype": "hom"},
            {"max_popaf": 0.01},
        )
    ]
    groups = {"a": store.sample_ids[0::2], "b": store.sample_ids[1::2]}
    counts = store.allele_counts(groups, mask=mask).counts
    found["allele counts"] = [getattr(counts, f).tolist() for f in ("ac", "an", "n_het", "n_hom_alt", "n_missing")]
    found["chunks"] = [
        (c.variant_index.tolist(), c.sample_index.tolist(), c.gt.tolist(), c.dp.tolist())
        for c in store.iter_chunks(mask=mask, region="chr17", fields=("GT", "DP"))
    ]
    found["matrix"] = store.genotype_matrix(mask=mask, gene="BRCA1").tolist()
    prefix = export_plink(store, out, mask=mask)
    found["plink"] = [Path(f"{prefix}.{ext}").read_bytes() for ext in ("bed", "bim", "fam")]
    return found


CALLS = st.sampled_from(["0/0:10,0:10:30", "0/1:5,5:10:40", "1/1:0,9:9:50", "./.", "0|1:3,4:7:20", "1"])


def test_a_masked_samples_genotypes_change_no_read(tmp_path, cohort_vcf):
    with gzip.open(cohort_vcf, "rt") as fh:
        lines = fh.read().splitlines()
    n_records = sum(1 for line in lines if not line.startswith("#"))
    baseline_vcf = _vcf_with(tmp_path / "base.vcf.gz", lines, [["./."] * n_records for _ in MASKED])
    import_vcf(baseline_vcf, tmp_path / "base.store", variants_chunk_size=300, samples_chunk_size=16)
    base = GenotypeStore(tmp_path / "base.store")
    mask = SampleMask.of_indices(base.n_samples, [i for i in range(base.n_samples) if i not in MASKED])
    expected = _reads(base, mask, tmp_path / "base-export")
    runs = iter(range(1_000))

    @hypothesis_settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(draw=st.lists(st.lists(CALLS, min_size=n_records, max_size=n_records), min_size=3, max_size=3))
    def check(draw):
        run = next(runs)
        vcf = _vcf_with(tmp_path / f"draw{run}.vcf.gz", lines, draw)
        import_vcf(vcf, tmp_path / f"draw{run}.store", variants_chunk_size=300, samples_chunk_size=16)
        store = GenotypeStore(tmp_path / f"draw{run}.store")
        assert _reads(store, mask, tmp_path / f"draw{run}-export") == expected
        # ... while the unmasked store does see them
        everything = store.allele_counts(mask=store.every_sample()).counts
        assert everything.an.sum() != base.allele_counts(mask=base.every_sample()).counts.an.sum()

    check()
