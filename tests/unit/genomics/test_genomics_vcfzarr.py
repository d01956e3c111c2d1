"""The one-pass VCF -> VCF Zarr converter against bio2zarr, the reference implementation of the layout.

Every array the converter writes is compared with bio2zarr's on the same VCF:
same names, shapes, chunking and values (floats bit for bit, so the missing
and fill NaN sentinels agree). bio2zarr picks the narrowest integer dtype per
field after a first pass; the converter writes in one pass, so its integer
dtypes may be wider: values are compared, not dtypes.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pysam
import pytest
import zarr

from genomics.store import import_vcf
from genomics.vcfzarr import VcfConversionError, convert, find_problems, iter_bgzf_blocks

HEADER = """\
##fileformat=VCFv4.2
##contig=<ID=chr1,length=1000000>
##contig=<ID=chr2,length=2000000>
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=q10,Description="Quality below 10">
##FILTER=<ID=s50,Description="Less than 50% of samples">
##INFO=<ID=GENE,Number=1,Type=String,Description="Gene symbol">
##INFO=<ID=NS,Number=1,Type=Integer,Description="Samples with data">
##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">
##INFO=<ID=DB,Number=0,Type=Flag,Description="dbSNP membership">
##INFO=<ID=POPAF,Number=1,Type=Float,Description="Population allele frequency">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">
##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">
##FORMAT=<ID=PL,Number=G,Type=Integer,Description="Phred-scaled likelihoods">
#CHROM	POS	ID	REF	ALT	QUAL	FILTER	INFO	FORMAT	S1	S2	S3	S4
"""

# Haploid, phased and missing calls; fields dropped after ./.; AD absent from
# a record's FORMAT; FORMAT keys in another order; a key that is not stored
# (PL); flags, Number=A and missing INFO values; filters; IDs and QUAL.
EDGE_RECORDS = """\
chr1 100 rs1 A G 50 PASS GENE=ABC;NS=3;AF=0.5;DB;POPAF=0.01 GT:AD:DP:GQ 0/1:10,12:22:99 1|1:0,30:40:60 ./. 0|0:.:.:.
chr1 200 . AT A . q10;s50 GENE=ABC GT:DP 0/1:5 1:7 . 0/0
chr1 300 . C T 3.5 . . GT 0|1 1/0 ./1 1
chr2 5 rs9 G GA 10 PASS NS=4;AF=. GT:GQ:DP:AD 0/0:20:10:10,0 0/1:30:12:6,6 1/1:10:9:0,9 0/0:.:5:5,.
chr2 900 . T C 99 PASS GENE=XYZ GT:PL:AD 0/1:10,0,20:3,4 0/0:0,10,90:8,0 1/1:90,10,0:0,7 ./.
""".replace(" ", "\t")


def write_vcf(path: Path, records: str, header: str = HEADER) -> Path:
    """bgzip and tabix-index a VCF written from text (htslib through pysam)."""
    plain = path.with_suffix("")
    plain.write_text(header + records)
    return Path(pysam.tabix_index(str(plain), preset="vcf", force=True))


def assert_same_arrays(ours: Path, reference: Path, not_stored: tuple[str, ...] = ()) -> None:
    a = zarr.open_group(str(ours), mode="r")
    b = zarr.open_group(str(reference), mode="r")
    assert sorted(a.array_keys()) == sorted(set(b.array_keys()) - set(not_stored))
    for name in a.array_keys():
        x, y = a[name], b[name]
        assert x.shape == y.shape, name
        assert x.chunks == y.chunks, name
        if name.startswith("call_"):  # both engines compress the calls alike (AD bit-shuffled)
            assert x.compressors == y.compressors, name
        assert x.attrs["_ARRAY_DIMENSIONS"] == y.attrs["_ARRAY_DIMENSIONS"], name
        xv, yv = np.asarray(x[:]), np.asarray(y[:])
        if yv.dtype.kind == "f":
            assert xv.dtype == yv.dtype, name
            assert np.array_equal(xv.view(np.int32), yv.view(np.int32)), name  # NaN sentinels too
        elif yv.dtype.kind in "iub":
            assert xv.dtype.kind == yv.dtype.kind, name
            assert np.array_equal(xv.astype(np.int64), yv.astype(np.int64)), name
        else:
            assert xv.astype(object).tolist() == yv.astype(object).tolist(), name
    assert a.attrs["vcf_zarr_version"] == b.attrs["vcf_zarr_version"]
    assert a.attrs["vcf_meta_information"] == b.attrs["vcf_meta_information"]


@pytest.fixture(scope="module")
def edge_vcf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_vcf(tmp_path_factory.mktemp("edge") / "edge.vcf.gz", EDGE_RECORDS)


@pytest.fixture(scope="module")
def bio2zarr_stores(tmp_path_factory: pytest.TempPathFactory, cohort_vcf: Path, edge_vcf: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bio2zarr")
    import_vcf(cohort_vcf, root / "cohort", engine="bio2zarr", variants_chunk_size=300, samples_chunk_size=16)
    import_vcf(edge_vcf, root / "edge", engine="bio2zarr", variants_chunk_size=2, samples_chunk_size=3)
    return {"cohort": root / "cohort", "edge": root / "edge"}


@pytest.mark.parametrize("threads", [1, 2])
def test_cohort_store_equals_bio2zarrs_array_for_array_and_row_for_row(store, bio2zarr_stores, threads, tmp_path):
    # the session store (conftest) was written by the native engine with 2 threads at most
    assert_same_arrays(store.path / "genotypes.vcz", bio2zarr_stores["cohort"] / "genotypes.vcz")
    for table in ("variants.parquet", "carriers.parquet"):
        assert pq.read_table(store.path / table).equals(pq.read_table(bio2zarr_stores["cohort"] / table)), table

    again = tmp_path / "again.store"
    import_vcf(store.manifest["source"]["path"], again, workers=threads, variants_chunk_size=300, samples_chunk_size=16)
    assert_same_arrays(again / "genotypes.vcz", bio2zarr_stores["cohort"] / "genotypes.vcz")


def test_edge_cases_match_bio2zarr(edge_vcf, bio2zarr_stores, tmp_path):
    target = tmp_path / "edge.store"
    import_vcf(edge_vcf, target, variants_chunk_size=2, samples_chunk_size=3)

    assert_same_arrays(target / "genotypes.vcz", bio2zarr_stores["edge"] / "genotypes.vcz", not_stored=("call_PL",))
    for table in ("variants.parquet", "carriers.parquet"):
        assert pq.read_table(target / table).equals(pq.read_table(bio2zarr_stores["edge"] / table)), table
    root = zarr.open_group(str(target / "genotypes.vcz"), mode="r")
    assert root["call_genotype"][1].tolist() == [[0, 1], [1, -2], [-1, -2], [0, 0]]  # haploid: fill -2
    assert root["call_AD"][0, 3].tolist() == [-1, -2]  # "." for a Number=R field
    assert "call_PL" not in root


@pytest.mark.parametrize(
    ("vcf", "variants_chunk_size", "samples_chunk_size"),
    [("edge", 2, 3), ("cohort", 300, 16), ("cohort", 300, 10_000)],
)
def test_call_chunks_are_the_files_zarr_writes(request, tmp_path, vcf, variants_chunk_size, samples_chunk_size):
    # the converter writes the call arrays' chunks itself (genomics.vcfzarr._ChunkFiles): the same files,
    # byte for byte, as zarr writing the same values (edge chunks padded, all-zero chunks left out)
    path = request.getfixturevalue(f"{vcf}_vcf")
    target = tmp_path / "ours.store"
    import_vcf(path, target, variants_chunk_size=variants_chunk_size, samples_chunk_size=samples_chunk_size)
    ours = target / "genotypes.vcz"
    root = zarr.open_group(str(ours), mode="r")
    calls = sorted(name for name in root.array_keys() if name.startswith("call_"))
    assert calls == ["call_AD", "call_DP", "call_GQ", "call_genotype", "call_genotype_mask", "call_genotype_phased"]
    left_out = 0
    for name in calls:
        twin = tmp_path / "zarr" / name
        twin.mkdir(parents=True)
        for meta in (".zarray", ".zattrs"):
            shutil.copy(ours / name / meta, twin / meta)
        zarr.open_array(str(twin), mode="r+")[:] = root[name][:]
        chunks = sorted(p.name for p in (ours / name).iterdir() if not p.name.startswith("."))
        assert chunks == sorted(p.name for p in twin.iterdir() if not p.name.startswith(".")), name
        for chunk in chunks:
            assert (ours / name / chunk).read_bytes() == (twin / chunk).read_bytes(), (name, chunk)
        left_out += int(np.prod(root[name].cdata_shape)) - len(chunks)
    assert left_out > 0  # some chunk is all zero (no phased or missing call in it) and is not written


def test_crlf_line_ends_give_the_same_store(tmp_path, edge_vcf):
    crlf = write_vcf(tmp_path / "crlf.vcf.gz", EDGE_RECORDS.replace("\n", "\r\n"), HEADER.replace("\n", "\r\n"))
    import_vcf(edge_vcf, tmp_path / "lf.store", variants_chunk_size=2, samples_chunk_size=3)

    import_vcf(crlf, tmp_path / "crlf.store", variants_chunk_size=2, samples_chunk_size=3)

    assert_same_arrays(tmp_path / "crlf.store" / "genotypes.vcz", tmp_path / "lf.store" / "genotypes.vcz")
    for table in ("variants.parquet", "carriers.parquet"):
        assert pq.read_table(tmp_path / "crlf.store" / table).equals(pq.read_table(tmp_path / "lf.store" / table))


def test_a_value_too_large_for_int16_widens_the_field(tmp_path):
    vcf = write_vcf(tmp_path / "deep.vcf.gz", EDGE_RECORDS.replace("1|1:0,30:40:60", "1|1:0,40000:40000:60"))

    result = convert(vcf, tmp_path / "deep.vcz", variants_chunk_size=2, samples_chunk_size=3)

    root = zarr.open_group(str(tmp_path / "deep.vcz"), mode="r")
    assert root["call_DP"].dtype == np.int32 and root["call_AD"].dtype == np.int32
    assert root["call_GQ"].dtype == np.int16
    assert root["call_DP"][0, 1] == 40000 and root["call_AD"][0, 1].tolist() == [0, 40000]
    assert result.skipped_fields == ["FORMAT/PL"]


def test_widening_during_import_restarts_the_variant_table_and_carrier_index(tmp_path, edge_vcf):
    # the deep value is in the last record: two chunks were already handed to the index
    deep = write_vcf(tmp_path / "deep.vcf.gz", EDGE_RECORDS.replace("0/1:10,0,20:3,4", "0/1:10,0,20:3,40000"))
    normal, widened = tmp_path / "normal.store", tmp_path / "widened.store"
    import_vcf(edge_vcf, normal, variants_chunk_size=2, samples_chunk_size=3)

    import_vcf(deep, widened, variants_chunk_size=2, samples_chunk_size=3)

    assert zarr.open_group(str(widened / "genotypes.vcz"), mode="r")["call_AD"][4, 0].tolist() == [3, 40000]
    for table in ("variants.parquet", "carriers.parquet"):
        assert pq.read_table(widened / table).equals(pq.read_table(normal / table)), table


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("chr2 5 rs9 G GA", "chr2 5 rs9 G GA,T", r"line 21, column ALT: multi-allelic record 'GA,T'"),
        (
            "1/1:10:9:0,9",
            "1/2:10:9:0,9",
            r"line 21, sample S3: allele index above 1 in a biallelic record in FORMAT/GT",
        ),
        ("0/1:5 1:7", "0/1/1:5 1:7", r"line 19, sample S1: ploidy above 2 is not supported in FORMAT/GT"),
        ("0/1:30:12:6,6", "0/1:30:twelve:6,6", r"line 21, sample S2: cannot read an integer in FORMAT/DP"),
        (
            "0/1:30:12:6,6",
            "0/1:30:12:6,6,1",
            r"line 21, sample S2: more than two values \(REF and ALT depths\) in FORMAT/AD",
        ),
        ("0|1 1/0 ./1 1", "0|1 1/0 ./1", r"line 20, sample S4: fewer sample columns than the header names"),
        ("0|1 1/0 ./1 1", "0|1 1/0 ./1 1 0/0", r"line 20, after the last sample: more sample columns"),
        ("0|1 1/0", "0|1:9 1/0", r"line 20, sample S1: more values than the FORMAT column declares"),
        ("chr2 900", "chr3 900", r"line 22: contig 'chr3' is not in the header"),
        ("q10;s50", "q10;lowqual", r"line 19, column FILTER: 'lowqual' is not declared in the header"),
        ("NS=4", "NS=four", r"line 21, INFO/NS: cannot read 'four' as int"),
        ("GT:DP 0/1:5", "DP:GT 5:0/1", r"line 19, column FORMAT: GT must come first"),
        ("chr1 300 . C T 3.5 . . GT 0|1 1/0 ./1 1", "chr1 300 . C T", r"line 20: fewer than 10 columns"),
    ],
)
def test_bad_records_are_named_by_line_and_sample_and_nothing_is_left(tmp_path, old, new, message):
    old, new = old.replace(" ", "\t"), new.replace(" ", "\t")
    assert old in EDGE_RECORDS
    vcf = write_vcf(tmp_path / "bad.vcf.gz", EDGE_RECORDS.replace(old, new, 1))
    target = tmp_path / "bad.store"

    with pytest.raises(VcfConversionError, match=message):
        import_vcf(vcf, target, variants_chunk_size=2, samples_chunk_size=3)

    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.vcf.gz", "bad.vcf.gz.tbi"]


def test_a_truncated_or_corrupt_file_is_refused(tmp_path, cohort_vcf):
    data = cohort_vcf.read_bytes()
    truncated = tmp_path / "truncated.vcf.gz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(VcfConversionError, match="truncated BGZF block at byte"):
        list(iter_bgzf_blocks(truncated))

    corrupt = bytearray(data)
    corrupt[len(data) // 2] ^= 0xFF
    (tmp_path / "corrupt.vcf.gz").write_bytes(bytes(corrupt))
    with pytest.raises(VcfConversionError, match="(CRC mismatch|corrupt BGZF block)"):
        list(iter_bgzf_blocks(tmp_path / "corrupt.vcf.gz"))

    plain_gzip = tmp_path / "plain.vcf.gz"
    with gzip.open(cohort_vcf, "rb") as src:
        plain_gzip.write_bytes(gzip.compress(src.read()))
    with pytest.raises(VcfConversionError, match="does not start a BGZF block"):
        list(iter_bgzf_blocks(plain_gzip))


def test_bgzf_blocks_inflate_to_the_same_text_as_gzip(cohort_vcf):
    with gzip.open(cohort_vcf, "rb") as fh:
        assert b"".join(iter_bgzf_blocks(cohort_vcf, read_size=4096)) == fh.read()


def test_a_record_count_that_disagrees_with_the_index_is_refused(tmp_path, edge_vcf):
    stale = write_vcf(tmp_path / "stale.vcf.gz", EDGE_RECORDS)
    # replace the data with one record fewer, keeping the old index
    shorter = write_vcf(tmp_path / "shorter.vcf.gz", EDGE_RECORDS.rsplit("\n", 2)[0] + "\n")
    stale.write_bytes(shorter.read_bytes())

    with pytest.raises(VcfConversionError, match="4 records read but its index counts 5; re-index it"):
        convert(stale, tmp_path / "stale.vcz")


def test_find_problems_lists_every_bad_record_and_nothing_for_a_good_file(tmp_path, edge_vcf, cohort_vcf):
    bad = EDGE_RECORDS
    for old, new in [
        ("1|1:0,30:40:60", "1|2:0,30:40:60"),  # line 18, S2: allele 2
        ("0/1:5 1:7".replace(" ", "\t"), "0/1:five\t1:x"),  # line 19, S1 DP and (after it) S2
        ("q10;s50", "q10;lowqual"),  # line 19, FILTER
        ("./1\t1", "./1"),  # line 20: a sample short
        ("NS=4", "NS=four"),  # line 21, INFO
    ]:
        assert old in bad
        bad = bad.replace(old, new, 1)
    vcf = write_vcf(tmp_path / "bad.vcf.gz", bad)

    problems = find_problems(vcf, threads=2)

    assert [(p.line, p.column, p.detail) for p in problems] == [
        (18, "sample S2", "allele index above 1 in a biallelic record in FORMAT/GT"),
        (19, "FILTER", "'lowqual' is not declared in the header"),
        (19, "sample S1", "cannot read an integer in FORMAT/DP"),
        (20, "sample S4", "fewer sample columns than the header names"),
        (21, "INFO/NS", "cannot read 'four' as int"),
    ]
    assert find_problems(edge_vcf) == []
    assert find_problems(cohort_vcf, threads=2) == []
