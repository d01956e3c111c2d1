"""Writing germline and somatic VCFs: read back with htslib (pysam) and check."""

from __future__ import annotations

import math

import numpy as np
import pysam
import pytest

from genomics.genes import CANCER_GENES, default_gene_table
from genomics.simulate import simulate_genotypes, trio_cohort
from genomics.validate import BGZF_EOF, validate_germline_vcf, validate_somatic_vcf
from genomics.vcf import format_genotype_block, simulate_somatic_variants, write_germline_vcf, write_somatic_vcf

GENES = default_gene_table().subset(contigs=["chr7", "chr17"])


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    specs = trio_cohort(20, 4, seed=2)
    sim = simulate_genotypes(specs, 700, genes=GENES, seed=21, chunk_size=200, missing_rate=0.02)
    chunks = []

    def keep(stream):
        for c in stream:
            chunks.append(c)
            yield c

    path = tmp_path_factory.mktemp("vcf") / "germline.vcf.gz"
    write_germline_vcf(path, sim.sample_ids, sim.contigs, keep(sim.chunks()), max_block_bytes=20_000)
    return path, sim, chunks


def test_germline_vcf_reads_back_identically_with_htslib(written):
    path, sim, chunks = written
    with pysam.VariantFile(str(path)) as vf:
        records = list(vf.fetch())
        assert list(vf.header.samples) == sim.sample_ids

    flat = [(c, i) for c in chunks for i in range(len(c))]
    assert len(records) == len(flat) == 700
    for rec, (c, i) in zip(records, flat, strict=True):
        assert (rec.chrom, rec.pos, rec.ref, rec.alts) == (c.chrom[i], c.pos[i], c.ref[i], (c.alt[i],))
        assert rec.info.get("GENE", "") == c.gene[i]
        assert rec.info["CSQ"] == c.csq[i]
        if math.isnan(c.popaf[i]):
            assert "POPAF" not in rec.info
        else:
            assert rec.info["POPAF"] == pytest.approx(float(c.popaf[i]), rel=1e-2)
        for j, sample in enumerate(sim.sample_ids):
            call = rec.samples[sample]
            if c.gt[i, j, 0] < 0:
                assert call["GT"] == (None, None)
                continue
            assert call["GT"] == tuple(int(a) for a in c.gt[i, j])
            assert call["AD"] == tuple(int(a) for a in c.ad[i, j])
            assert call["DP"] == c.dp[i, j]
            assert call["GQ"] == c.gq[i, j]


def test_germline_vcf_is_bgzf_with_a_working_tabix_index(written):
    path, _, chunks = written
    positions = np.concatenate([c.pos[c.chrom == "chr17"] for c in chunks])
    start, end = int(np.percentile(positions, 25)), int(np.percentile(positions, 75))

    with pysam.VariantFile(str(path)) as vf:
        fetched = [r.pos for r in vf.fetch("chr17", start - 1, end)]

    assert path.read_bytes()[-28:] == BGZF_EOF
    assert fetched == [int(p) for p in positions if start <= p <= end]
    assert validate_germline_vcf(path, written[1].sample_ids) == []


def test_gt_only_vcf_has_only_genotypes(tmp_path):
    specs = trio_cohort(5, 0, seed=1)
    sim = simulate_genotypes(specs, 50, genes=GENES, seed=1, format_fields=False)
    path = write_germline_vcf(tmp_path / "gt.vcf.gz", sim.sample_ids, sim.contigs, sim.chunks(), format_fields=("GT",))

    with pysam.VariantFile(str(path)) as vf:
        rec = next(vf.fetch())
        assert list(rec.format) == ["GT"]


def test_genotype_block_formatting_drops_fields_of_missing_calls():
    gt = np.array([[[0, 1], [-1, -1], [1, 1]]], dtype=np.int8)
    ad = np.array([[[12, 9], [-1, -1], [0, 140]]], dtype=np.int16)
    dp = np.array([[21, -1, 140]], dtype=np.int16)
    gq = np.array([[63, -1, 99]], dtype=np.int16)

    (line,) = format_genotype_block(gt, ad, dp, gq)

    assert line == b"0/1:12,9:21:63\t./.\t1/1:0,140:140:99"


def test_somatic_vcf_has_normal_hom_ref_and_tumour_het_with_matching_vaf(tmp_path):
    variants = simulate_somatic_variants(default_gene_table(), seed=4, n_variants=40, purity=0.8)
    path = write_somatic_vcf(tmp_path / "T1.vcf.gz", variants)

    with pysam.VariantFile(str(path)) as vf:
        assert list(vf.header.samples) == ["NORMAL", "TUMOR"]
        records = list(vf.fetch())
    assert len(records) == 40
    vafs = []
    for rec, v in zip(records, variants, strict=True):
        normal, tumour = rec.samples["NORMAL"], rec.samples["TUMOR"]
        assert normal["GT"] == (0, 0) and tumour["GT"] == (0, 1)
        assert tumour["DP"] == sum(tumour["AD"]) and normal["DP"] == sum(normal["AD"])
        assert tumour["AD"] == v.tumour_ad and tumour["AD"][1] >= 3
        assert normal["AD"][1] <= 2
        vafs.append(v.vaf)
    assert 0.2 < float(np.median(vafs)) < 0.6
    assert validate_somatic_vcf(path) == []


def test_somatic_variants_are_enriched_in_cancer_genes():
    genes = default_gene_table()
    variants = simulate_somatic_variants(genes, seed=9, n_variants=200)
    share_in_table = sum(1 for g in genes if g.symbol in CANCER_GENES) / len(genes)

    share = np.mean([v.gene in CANCER_GENES for v in variants])

    assert share > 2 * share_in_table
    assert all(genes.get(v.gene).contains(v.chrom, v.pos) for v in variants)
