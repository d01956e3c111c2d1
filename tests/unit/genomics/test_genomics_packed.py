"""The packed hard calls written beside the store in the converter's pass, against plink2.

References: ``plink2_ref.bed`` is ``plink2 --vcf cohort.vcf.gz --make-bed --out
plink2_ref`` (tests/fixtures/genomics/README.md); the other references are made
here by running plink2 (v2.00a3.5) with the command written beside each.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from genomics.mask import SampleMask
from genomics.store import GenotypeStore, import_vcf
from tests.unit.genomics.test_genomics_vcfzarr import EDGE_RECORDS, HEADER, write_vcf

PLINK2 = shutil.which("plink2")


def _plink2(*args: str, cwd: Path) -> None:
    assert PLINK2, "plink2 is installed (Debian: apt-get install plink2)"
    subprocess.run([PLINK2, *args, "--threads", "1"], cwd=cwd, check=True, capture_output=True)


def test_the_packed_bed_is_the_bed_plink2_make_bed_writes_for_the_same_vcf(store, fixtures_dir):
    prefix = store.packed_prefix

    assert prefix == store.path / "packed" / "genotypes"
    assert Path(f"{prefix}.bed").read_bytes() == (fixtures_dir / "plink2_ref.bed").read_bytes()
    bim = [line.split("\t") for line in Path(f"{prefix}.bim").read_text().splitlines()]
    theirs = [line.split("\t") for line in (fixtures_dir / "plink2_ref.bim").read_text().splitlines()]
    variants = store.variants()
    assert [(b[0], b[3], b[4], b[5]) for b in bim] == [
        (c, str(p), a, r)
        for c, p, a, r in zip(
            variants.column("contig").to_pylist(),
            variants.column("position").to_pylist(),
            variants.column("alt").to_pylist(),
            variants.column("ref").to_pylist(),
            strict=True,
        )
    ]
    assert [(b[2], b[3], b[4], b[5]) for b in bim] == [(t[2], t[3], t[4], t[5]) for t in theirs]
    assert all(b[1] == f"{b[0]}:{b[3]}:{b[5]}:{b[4]}" for b in bim)  # the fixture has no IDs
    fam = [line.split("\t") for line in Path(f"{prefix}.fam").read_text().splitlines()]
    assert fam == [[s, s, "0", "0", "0", "-9"] for s in store.sample_ids]


def test_plink2_freq_counts_over_the_packed_fileset_equal_the_stores_allele_counts(store, tmp_path):
    # plink2 --bfile <store>/packed/genotypes --freq counts --out freq
    _plink2("--bfile", str(store.packed_prefix), "--freq", "counts", "--out", "freq", cwd=tmp_path)
    with open(tmp_path / "freq.acount") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    counts = store.allele_counts(mask=store.every_sample()).for_group("all")

    assert len(rows) == store.n_variants
    assert [int(r["ALT_CTS"]) for r in rows] == counts.ac[:, 0].tolist()
    assert [int(r["OBS_CT"]) for r in rows] == counts.an[:, 0].tolist()


@pytest.fixture(scope="module")
def edge_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenotypeStore]:
    """Haploid, phased, missing and half calls, IDs, two contigs, chunks of two variants."""
    folder = tmp_path_factory.mktemp("packed-edge")
    vcf = write_vcf(folder / "edge.vcf.gz", EDGE_RECORDS)
    import_vcf(vcf, folder / "edge.store", variants_chunk_size=2, samples_chunk_size=3)
    return vcf, GenotypeStore(folder / "edge.store")


def test_haploid_missing_and_half_calls_are_packed_as_plink2_reads_them(edge_store, tmp_path):
    vcf, store = edge_store
    # plink2 --vcf edge.vcf.gz --vcf-half-call missing --make-bed --out ref
    _plink2("--vcf", str(vcf), "--vcf-half-call", "missing", "--make-bed", "--out", "ref", cwd=tmp_path)

    assert Path(f"{store.packed_prefix}.bed").read_bytes() == (tmp_path / "ref.bed").read_bytes()
    ids = [line.split("\t")[1] for line in Path(f"{store.packed_prefix}.bim").read_text().splitlines()]
    assert ids == ["rs1", "chr1:200:AT:A", "chr1:300:C:T", "rs9", "chr2:900:T:C"]


def test_the_bio2zarr_engine_writes_the_same_packed_fileset(edge_store, tmp_path):
    vcf, store = edge_store
    import_vcf(vcf, tmp_path / "b2z.store", engine="bio2zarr", variants_chunk_size=2, samples_chunk_size=3)
    other = GenotypeStore(tmp_path / "b2z.store")

    for ext in ("bed", "bim", "fam"):
        assert Path(f"{other.packed_prefix}.{ext}").read_bytes() == Path(f"{store.packed_prefix}.{ext}").read_bytes()


def test_a_restart_to_widen_a_field_rewrites_the_packed_fileset(tmp_path):
    records = EDGE_RECORDS.replace("0/1:10,12:22:99", "0/1:10,12:40000:99", 1)  # DP above int16
    vcf = write_vcf(tmp_path / "wide.vcf.gz", records, HEADER)
    import_vcf(vcf, tmp_path / "wide.store", variants_chunk_size=2, samples_chunk_size=3)
    # plink2 --vcf wide.vcf.gz --vcf-half-call missing --make-bed --out ref
    _plink2("--vcf", str(vcf), "--vcf-half-call", "missing", "--make-bed", "--out", "ref", cwd=tmp_path)
    store = GenotypeStore(tmp_path / "wide.store")

    assert np.asarray(store.root["call_DP"]).dtype == np.int32
    assert Path(f"{store.packed_prefix}.bed").read_bytes() == (tmp_path / "ref.bed").read_bytes()
    assert len(Path(f"{store.packed_prefix}.bim").read_text().splitlines()) == store.n_variants


def _afreq(path: Path) -> np.ndarray:
    with open(path) as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return np.array([np.nan if r["ALT_FREQS"] == "NA" else float(r["ALT_FREQS"]) for r in rows])


def test_the_cohort_af_under_a_mask_is_plink2_freq_of_the_masked_samples_only(store, tmp_path):
    mask = SampleMask(np.arange(store.n_samples) % 3 != 1)
    keep = tmp_path / "keep.txt"
    keep.write_text("".join(f"{s}\t{s}\n" for i, s in enumerate(store.sample_ids) if mask.keep[i]))  # FID IID
    # plink2 --bfile <store>/packed/genotypes --keep keep.txt --freq --out freq
    _plink2("--bfile", str(store.packed_prefix), "--keep", str(keep), "--freq", "--out", "freq", cwd=tmp_path)
    theirs = _afreq(tmp_path / "freq.afreq")

    ours = store.cohort_af(mask=mask)

    assert ours.column("variant_index").to_pylist() == list(range(store.n_variants))
    af = ours.column("cohort_af").to_numpy(zero_copy_only=False)
    np.testing.assert_allclose(af, theirs, rtol=1e-5, atol=1e-6)
    assert not np.allclose(af, store.cohort_af(mask=store.every_sample()).column("cohort_af").to_numpy())


def test_the_cohort_af_of_haploid_missing_and_half_calls_is_plink2s(edge_store, tmp_path):
    vcf, store = edge_store
    mask = SampleMask(np.arange(store.n_samples) != 0)
    keep = tmp_path / "keep.txt"
    keep.write_text("".join(f"{s}\n" for i, s in enumerate(store.sample_ids) if mask.keep[i]))  # IID (FID 0)
    # plink2 --vcf edge.vcf.gz --vcf-half-call missing --keep keep.txt --freq --out freq
    _plink2(
        "--vcf", str(vcf), "--vcf-half-call", "missing", "--keep", str(keep), "--freq", "--out", "freq", cwd=tmp_path
    )

    af = store.cohort_af(mask=mask).column("cohort_af").to_numpy(zero_copy_only=False)

    np.testing.assert_allclose(af, _afreq(tmp_path / "freq.afreq"), rtol=1e-5, atol=1e-6)
