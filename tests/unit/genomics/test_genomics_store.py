"""The genotype store against bcftools/plink2 reference outputs and direct scans."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest

from genomics.kernels import alt_allele_count
from genomics.mask import SampleMask
from genomics.store import GenotypeStore, StoreError, export_plink, import_vcf, parse_region
from genomics.vcfzarr import VcfConversionError

LOF = ["stop_gained", "frameshift_variant", "splice_donor_variant", "splice_acceptor_variant", "start_lost"]


def _reference_variants(fixtures_dir):
    rows = []
    for line in (fixtures_dir / "bcftools_variants.tsv").read_text().splitlines():
        chrom, pos, ref, alt, gene, csq, popaf = line.split("\t")
        rows.append(
            {
                "contig": chrom,
                "position": int(pos),
                "ref": ref,
                "alt": alt,
                "gene": "" if gene == "." else gene,
                "csq": csq,
                "popaf": math.nan if popaf == "." else float(popaf),
            }
        )
    return rows


def test_store_sample_ids_are_the_vcf_sample_columns_in_order(store, fixtures_dir):
    vcf_samples = [line.split("\t")[0] for line in (fixtures_dir / "groups.tsv").read_text().splitlines()]
    plink_samples = [line.split()[1] for line in (fixtures_dir / "plink2_ref.fam").read_text().splitlines()]

    assert store.sample_ids == vcf_samples == plink_samples


def test_store_variant_table_matches_bcftools_query(store, fixtures_dir):
    ref = _reference_variants(fixtures_dir)

    table = store.variants().to_pylist()

    assert len(table) == len(ref) == store.n_variants
    for got, want in zip(table, ref, strict=True):
        for key in ("contig", "position", "ref", "alt", "gene", "csq"):
            assert got[key] == want[key], (key, got, want)
        if math.isnan(want["popaf"]):
            assert got["popaf"] is None
        else:
            assert got["popaf"] == pytest.approx(want["popaf"], rel=1e-6)


def test_annotation_of_chosen_variants_is_their_rows_of_the_bcftools_table_in_the_order_asked(store, fixtures_dir):
    ref = _reference_variants(fixtures_dir)
    chosen = np.array([store.n_variants - 1, 0, 7, 3, 7])

    rows = store.annotation_of(chosen).to_pylist()

    assert [r["variant_index"] for r in rows] == chosen.tolist()
    for got, i in zip(rows, chosen, strict=True):
        for key in ("contig", "position", "ref", "alt", "gene", "csq"):
            assert got[key] == ref[i][key], (key, got, ref[i])
    assert store.annotation_of(np.array([], dtype=np.int64)).num_rows == 0
    with pytest.raises(IndexError):
        store.annotation_of(np.array([store.n_variants]))


def test_variant_contigs_number_each_variants_contig_of_the_bcftools_table(store, fixtures_dir):
    ref = _reference_variants(fixtures_dir)

    codes = store.variant_contigs()

    assert [store.contigs[c] for c in codes] == [r["contig"] for r in ref]


def test_store_genotypes_match_bcftools_query(store, reference_genotypes):
    sites, ref_alt_counts = reference_genotypes

    matrix = store.genotype_matrix(mask=store.every_sample())

    np.testing.assert_array_equal(alt_allele_count(matrix), ref_alt_counts)


def test_store_keeps_ad_dp_gq_of_every_call(store, cohort_vcf):
    import pysam

    chunk = next(store.iter_chunks(mask=store.every_sample(), fields=("GT", "AD", "DP", "GQ")))
    with pysam.VariantFile(str(cohort_vcf)) as vf:
        records = [r for _, r in zip(range(len(chunk.variant_index)), vf.fetch(), strict=False)]

    for i, rec in enumerate(records):
        for j, sample in enumerate(store.sample_ids):
            call = rec.samples[sample]
            if call["GT"] == (None, None):
                assert chunk.dp[i, j] < 0
                continue
            assert tuple(chunk.ad[i, j]) == call["AD"]
            assert chunk.dp[i, j] == call["DP"]
            assert chunk.gq[i, j] == call["GQ"]


@pytest.mark.parametrize("region", ["chr17", "chr13:32315474-32400266", ("chr2", 1, 170_000_000), "chr5:1-1"])
def test_reading_a_region_and_sample_subset_equals_slicing_the_full_matrix(store, region):
    full = store.genotype_matrix(mask=store.every_sample())
    variants = store.variants().to_pylist()
    contig, start, end = parse_region(region)
    expected_rows = [i for i, v in enumerate(variants) if v["contig"] == contig and start <= v["position"] <= end]
    subset = [store.sample_ids[i] for i in (41, 3, 17, 16, 59, 0)]  # unsorted, across sample chunks

    got = store.genotype_matrix(mask=store.every_sample(), region=region, samples=subset)

    np.testing.assert_array_equal(store.variant_indices(region=region), expected_rows)
    np.testing.assert_array_equal(got, full[expected_rows][:, [41, 3, 17, 16, 59, 0]])


def test_gene_selection_returns_variants_annotated_with_the_gene(store):
    variants = store.variants().to_pylist()
    expected = [i for i, v in enumerate(variants) if v["gene"] == "BRCA1"]

    table = store.variants(gene="BRCA1")

    assert expected
    assert table.column("variant_index").to_pylist() == expected
    assert set(table.column("gene").to_pylist()) == {"BRCA1"}


def test_chunks_never_exceed_the_zarr_variant_chunk(store):
    chunks = list(store.iter_chunks(mask=store.every_sample(), samples=store.sample_ids[:5]))

    assert len(chunks) == math.ceil(store.n_variants / store.variants_chunk_size)
    assert max(len(c.variant_index) for c in chunks) <= store.variants_chunk_size
    assert all(c.gt.shape[1] == 5 for c in chunks)


def test_carrier_index_rows_match_bcftools_non_reference_calls(store, fixtures_dir):
    position_to_index = {(v["contig"], v["position"]): i for i, v in enumerate(store.variants().to_pylist())}
    sample_to_index = {s: i for i, s in enumerate(store.sample_ids)}
    expected = set()
    with gzip.open(fixtures_dir / "bcftools_carriers.tsv.gz", "rt") as fh:
        for line in fh:
            chrom, pos, sample, gt = line.rstrip("\n").split("\t")
            expected.add((position_to_index[(chrom, int(pos))], sample_to_index[sample], 2 if gt == "1/1" else 1))

    table = pq.read_table(store.path / "carriers.parquet")
    got = set(
        zip(
            table.column("variant_index").to_pylist(),
            table.column("sample_index").to_pylist(),
            table.column("genotype").to_pylist(),
            strict=True,
        )
    )

    assert got == expected
    assert len(got) == table.num_rows


def _direct_scan(store, *, gene=None, consequences=None, max_popaf=None, max_cohort_af=None, genotype="any", mask=None):
    """Carriers by reading every genotype; with ``mask``, the AF and the carriers are over its samples only."""
    variants = store.variants().to_pylist()
    alt = alt_allele_count(store.genotype_matrix(mask=store.every_sample()))
    keep = np.ones(store.n_samples, dtype=bool) if mask is None else mask.keep
    called = alt[:, keep] >= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        af = np.where(called, alt[:, keep], 0).sum(axis=1) / (2 * called.sum(axis=1))
    alt = np.where(keep[None, :], alt, 0)
    found = set()
    for i, v in enumerate(variants):
        if gene is not None and v["gene"] != gene:
            continue
        if consequences is not None and v["csq"] not in consequences:
            continue
        if max_popaf is not None and not (v["popaf"] is None or v["popaf"] <= max_popaf):
            continue
        if max_cohort_af is not None and not af[i] <= max_cohort_af:
            continue
        wanted = {"any": (1, 2), "het": (1,), "hom": (2,)}[genotype]
        found.update(np.flatnonzero(np.isin(alt[i], wanted)).tolist())
    return found


@pytest.mark.parametrize(
    "filters",
    [
        {"gene": "BRCA1"},
        {"gene": "APOE", "genotype": "hom"},
        {"consequences": LOF},
        {"consequences": LOF, "max_popaf": 0.001},
        {"consequences": ["missense_variant"], "max_cohort_af": 0.02, "genotype": "het"},
        {"gene": "TTN", "consequences": ["intron_variant"], "max_popaf": 0.05, "genotype": "any"},
    ],
)
def test_carrier_queries_agree_with_a_direct_scan_of_the_genotypes(store, filters):
    expected = _direct_scan(store, **filters)

    got = store.carriers(mask=store.every_sample(), **filters)

    assert got == expected
    assert store.carrier_ids(mask=store.every_sample(), **filters) == {store.sample_ids[i] for i in expected}


@pytest.mark.parametrize(
    "filters",
    [
        {"consequences": ["missense_variant"], "max_cohort_af": 0.02, "genotype": "het"},
        {"max_cohort_af": 0.05},
        {"gene": "TTN", "max_cohort_af": 0.01, "genotype": "any"},
    ],
)
def test_the_cohort_af_filter_counts_only_the_masks_samples(store, filters):
    mask = SampleMask(np.arange(store.n_samples) % 4 != 0)
    expected = _direct_scan(store, mask=mask, **filters)

    got = store.carriers(mask=mask, **filters)

    assert got == expected


def test_carriers_finds_the_spiked_loss_of_function_proband(store, fixtures_dir):
    truth = [line.split("\t") for line in (fixtures_dir / "truth.tsv").read_text().splitlines()[1:]]
    spike = next(t for t in truth if t[0] == "spike" and t[5] == "BRCA1")

    carriers = store.carrier_ids(mask=store.every_sample(), gene="BRCA1", consequences=["stop_gained"], genotype="het")

    assert set(spike[7].split(",")) <= carriers


def test_repeated_carrier_queries_answer_the_same_from_threads(store):
    from concurrent.futures import ThreadPoolExecutor

    filters = [{"gene": "BRCA1"}, {"consequences": LOF, "max_popaf": 0.001}, {"gene": "APOE", "genotype": "hom"}]
    expected = [_direct_scan(store, **f) for f in filters]
    first = store.carriers(mask=store.every_sample(), **filters[0])
    first.clear()  # callers own what they get back; the kept answer is untouched
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda f: store.carriers(mask=store.every_sample(), **f), filters * 8))
    assert answers == expected * 8


def test_carriers_rejects_an_unknown_genotype_filter(store):
    with pytest.raises(ValueError, match="genotype"):
        store.carriers(mask=store.every_sample(), gene="BRCA1", genotype="compound")


def test_plink_export_is_identical_to_plink2_make_bed(store, fixtures_dir, tmp_path):
    prefix = export_plink(store, tmp_path / "cohort", mask=store.every_sample())

    assert (tmp_path / "cohort.bed").read_bytes() == (fixtures_dir / "plink2_ref.bed").read_bytes()
    ours = [line.split("\t") for line in (tmp_path / "cohort.bim").read_text().splitlines()]
    theirs = [line.split("\t") for line in (fixtures_dir / "plink2_ref.bim").read_text().splitlines()]
    assert [(o[3], o[4], o[5]) for o in ours] == [(t[3], t[4], t[5]) for t in theirs]
    assert prefix == tmp_path / "cohort"


def test_plink_export_of_a_gene_and_sample_subset_has_matching_dimensions(store, tmp_path):
    samples = store.sample_ids[:7]
    n_variants = len(store.variant_indices(gene="TTN"))

    export_plink(store, tmp_path / "ttn", mask=store.every_sample(), gene="TTN", samples=samples)

    assert len((tmp_path / "ttn.bim").read_text().splitlines()) == n_variants
    assert len((tmp_path / "ttn.fam").read_text().splitlines()) == 7
    assert (tmp_path / "ttn.bed").stat().st_size == 3 + n_variants * 2  # ceil(7 / 4) bytes per variant


def test_manifest_records_source_sizes_and_chunking(store, cohort_vcf):
    manifest = json.loads((store.path / "manifest.json").read_text())

    assert manifest["n_samples"] == store.n_samples == 60
    assert manifest["n_variants"] == store.n_variants == 2500
    assert manifest["source"]["size"] == cohort_vcf.stat().st_size
    assert manifest["variants_chunk_size"] == 300
    assert manifest["engine"] == "native"
    assert set(manifest["tools"]) == {"numba", "deflate", "zarr", "pyarrow", "duckdb"}


def test_import_refuses_to_overwrite_and_leaves_nothing_behind_on_failure(store, tmp_path):
    with pytest.raises(FileExistsError):
        import_vcf(tmp_path / "whatever.vcf.gz", store.path)

    target = tmp_path / "broken.store"
    (tmp_path / "broken.vcf.gz").write_bytes(b"not a vcf")
    with pytest.raises(VcfConversionError, match="does not start a BGZF block"):
        import_vcf(tmp_path / "broken.vcf.gz", target)

    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.vcf.gz"]


def test_opening_a_directory_that_is_not_a_store_fails_clearly(tmp_path):
    with pytest.raises(StoreError, match="not a genotype store"):
        GenotypeStore(tmp_path)


def test_unknown_sample_in_a_subset_is_named(store):
    with pytest.raises(KeyError, match="NOT_A_SAMPLE"):
        next(store.iter_chunks(mask=store.every_sample(), samples=["NOT_A_SAMPLE"]))


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("chr1", ("chr1", 1, 2**31 - 1)),
        ("chr1:100-200", ("chr1", 100, 200)),
        ("chr1:1,000-2,000", ("chr1", 1000, 2000)),
        ("chr1:150", ("chr1", 150, 150)),
    ],
)
def test_parse_region_accepts_common_spellings(text, parsed):
    assert parse_region(text) == parsed


def test_parse_region_rejects_a_backwards_range():
    with pytest.raises(ValueError, match="ends before it starts"):
        parse_region("chr1:200-100")
