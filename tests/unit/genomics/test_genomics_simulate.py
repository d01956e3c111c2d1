"""The genotype simulator: determinism, Mendelian inheritance, forced genotypes, realism."""

from __future__ import annotations

import gzip
import importlib.util

import msprime
import numpy as np
import pytest

from genomics.genes import default_gene_table
from genomics.simulate import (
    CONSEQUENCES,
    LOSS_OF_FUNCTION,
    CaseControlSignal,
    SampleSpec,
    SpikedVariant,
    _draw_consequences,
    _haploid_in_males,
    out_of_africa_demography,
    simulate_genotypes,
    trio_cohort,
)

GENES = default_gene_table().subset(contigs=["chr13", "chr17", "chr19"])


def _collect(sim):
    chunks = list(sim.chunks())
    return {
        "chrom": np.concatenate([c.chrom for c in chunks]),
        "pos": np.concatenate([c.pos for c in chunks]),
        "ref": np.concatenate([c.ref for c in chunks]),
        "alt": np.concatenate([c.alt for c in chunks]),
        "gene": np.concatenate([c.gene for c in chunks]),
        "csq": np.concatenate([c.csq for c in chunks]),
        "popaf": np.concatenate([c.popaf for c in chunks]),
        "gt": np.concatenate([c.gt for c in chunks]),
        "ad": np.concatenate([c.ad for c in chunks]) if chunks[0].ad is not None else None,
        "dp": np.concatenate([c.dp for c in chunks]) if chunks[0].dp is not None else None,
        "gq": np.concatenate([c.gq for c in chunks]) if chunks[0].gq is not None else None,
        "n_chunks": len(chunks),
        "max_chunk": max(len(c) for c in chunks),
    }


@pytest.fixture(scope="module")
def trios():
    specs = trio_cohort(12, 8, seed=5)
    sim = simulate_genotypes(specs, 1500, genes=GENES, seed=11, chunk_size=400, missing_rate=0.0)
    data = _collect(sim)
    return specs, sim, data


def test_same_seed_gives_identical_output():
    specs = trio_cohort(10, 3, seed=1)
    a = _collect(simulate_genotypes(specs, 600, genes=GENES, seed=3, chunk_size=250))
    b = _collect(simulate_genotypes(specs, 600, genes=GENES, seed=3, chunk_size=250))

    for key in ("chrom", "pos", "ref", "alt", "gene", "csq", "gt", "ad", "dp", "gq"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    np.testing.assert_array_equal(a["popaf"], b["popaf"])


def test_different_seeds_give_different_genotypes():
    specs = trio_cohort(10, 3, seed=1)
    a = _collect(simulate_genotypes(specs, 600, genes=GENES, seed=3))
    b = _collect(simulate_genotypes(specs, 600, genes=GENES, seed=4))

    assert not np.array_equal(a["pos"], b["pos"])
    assert not np.array_equal(a["gt"], b["gt"])


def test_sites_are_sorted_unique_and_stream_in_bounded_chunks(trios):
    _, sim, data = trios
    order = {c: i for i, c in enumerate(sim.contigs)}
    keys = [(order[c], p) for c, p in zip(data["chrom"], data["pos"], strict=True)]

    assert len(keys) == 1500
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert data["max_chunk"] <= 400
    assert data["n_chunks"] == 4


def test_gene_and_consequence_follow_the_gene_table(trios):
    _, _, data = trios
    for chrom, pos, gene, csq in zip(data["chrom"], data["pos"], data["gene"], data["csq"], strict=True):
        inside = [g.symbol for g in GENES.on_contig(chrom) if g.start <= pos <= g.end]
        assert [gene] == inside if inside else gene == ""
        assert csq in CONSEQUENCES
        assert (csq == "intergenic_variant") == (gene == "")
    assert 0.3 < np.mean(data["gene"] != "") < 0.8


def test_frameshifts_are_indels_and_coding_snvs_are_snvs(trios):
    _, _, data = trios
    for ref, alt, csq in zip(data["ref"], data["alt"], data["csq"], strict=True):
        if csq == "frameshift_variant":
            assert len(ref) != len(alt) and abs(len(ref) - len(alt)) % 3 != 0
        if csq in ("missense_variant", "synonymous_variant", "stop_gained"):
            assert len(ref) == len(alt) == 1 and ref != alt


def test_children_inherit_one_allele_from_each_parent_except_de_novos(trios):
    specs, sim, data = trios
    index = {s.sample_id: i for i, s in enumerate(specs)}
    de_novo = {(t.chrom, t.pos, t.sample_ids[0]) for t in sim.injected if t.kind == "de_novo"}
    gt = data["gt"]
    violations = set()
    for s in specs:
        if not s.is_child:
            continue
        c, m, f = index[s.sample_id], index[s.mother_id], index[s.father_id]
        for v in range(gt.shape[0]):
            child, mother, father = gt[v, c], gt[v, m], gt[v, f]
            ok = (child[0] in mother and child[1] in father) or (child[1] in mother and child[0] in father)
            if not ok:
                violations.add((data["chrom"][v], int(data["pos"][v]), s.sample_id))

    assert violations == de_novo
    assert len(de_novo) == sum(1 for s in specs if s.de_novo)


def test_de_novo_child_is_het_with_hom_ref_parents(trios):
    specs, sim, data = trios
    index = {s.sample_id: i for i, s in enumerate(specs)}
    by_id = {s.sample_id: s for s in specs}
    site = {(c, int(p)): i for i, (c, p) in enumerate(zip(data["chrom"], data["pos"], strict=True))}
    for t in sim.injected:
        v = site[(t.chrom, t.pos)]
        child = by_id[t.sample_ids[0]]
        assert sorted(data["gt"][v, index[child.sample_id]]) == [0, 1]
        assert not data["gt"][v, index[child.mother_id]].any()
        assert not data["gt"][v, index[child.father_id]].any()


def test_spiked_variant_and_case_control_signal_are_forced():
    specs = trio_cohort(200, 0, seed=2)
    cases = frozenset(s.sample_id for s in specs[:100])
    sim = simulate_genotypes(
        specs,
        400,
        genes=GENES,
        seed=8,
        spikes=[SpikedVariant("BRCA1", {specs[5].sample_id: 1, specs[7].sample_id: 2}, "stop_gained")],
        signals=[CaseControlSignal("APOE", cases, case_af=0.5, control_af=0.05)],
    )
    data = _collect(sim)
    spike = next(t for t in sim.injected if t.kind == "spike")
    signal = next(t for t in sim.injected if t.kind == "signal")
    v_spike = int(np.flatnonzero(data["pos"] == spike.pos)[0])
    v_signal = int(np.flatnonzero(data["pos"] == signal.pos)[0])
    alt = (data["gt"] > 0).sum(axis=-1)

    assert spike.gene == "BRCA1" and data["csq"][v_spike] == "stop_gained"
    assert {i: int(alt[v_spike, i]) for i in np.flatnonzero(alt[v_spike])} == {5: 1, 7: 2}
    assert np.isnan(data["popaf"][v_spike])
    assert signal.gene == "APOE" and data["gene"][v_signal] == "APOE"
    case_af = alt[v_signal, :100].sum() / 200
    control_af = alt[v_signal, 100:].sum() / 200
    assert case_af > 0.35 and control_af < 0.12


def test_forced_variants_naming_unknown_samples_are_refused():
    specs = trio_cohort(5, 0, seed=2)
    with pytest.raises(ValueError, match="unknown samples: NOPE"):
        list(simulate_genotypes(specs, 50, genes=GENES, spikes=[SpikedVariant("BRCA1", {"NOPE": 1})]).chunks())


def test_format_fields_are_consistent_with_genotypes():
    specs = trio_cohort(30, 0, seed=3)
    data = _collect(simulate_genotypes(specs, 500, genes=GENES, seed=9, missing_rate=0.02))
    gt, ad, dp, gq = data["gt"], data["ad"], data["dp"], data["gq"]
    missing = (gt < 0).any(axis=-1)
    n_alt = (gt > 0).sum(axis=-1)

    assert missing.any()
    assert (dp[missing] == -1).all() and (ad[missing] == -1).all() and (gq[missing] == -1).all()
    called = ~missing
    np.testing.assert_array_equal(ad[called].sum(axis=-1), dp[called])
    het = called & (n_alt == 1)
    assert (ad[het] > 0).all()
    assert (ad[called & (n_alt == 0)][:, 1] <= 3).all()
    assert (ad[called & (n_alt == 2)][:, 0] <= 3).all()
    assert 25 < dp[called].mean() < 35
    assert ((gq[called] >= 0) & (gq[called] <= 99)).all()


def test_loss_of_function_is_rarer_among_common_variants():
    rng = np.random.default_rng(0)
    gene = np.full(40_000, "TP53", dtype=object)
    rare = _draw_consequences(gene, np.full(40_000, 0.0005), rng)
    common = _draw_consequences(gene, np.full(40_000, 0.2), rng)

    lof_rare = np.isin(rare, LOSS_OF_FUNCTION).mean()
    lof_common = np.isin(common, LOSS_OF_FUNCTION).mean()

    assert 0.02 < lof_rare < 0.05
    assert lof_common < lof_rare / 5
    assert (rare == "intron_variant").mean() > 0.7


def test_african_ancestry_is_more_diverse_than_european():
    specs = [SampleSpec(f"A{i}", "AFR") for i in range(25)] + [SampleSpec(f"E{i}", "EUR") for i in range(25)]
    data = _collect(simulate_genotypes(specs, 1500, genes=GENES, seed=4, missing_rate=0.0))
    het = (data["gt"].sum(axis=-1) == 1).mean(axis=0)

    assert het[:25].mean() > 1.1 * het[25:].mean()


def test_demography_has_every_ancestry_and_is_valid():
    dem = out_of_africa_demography()
    names = {p.name for p in dem.populations}

    assert {"AFR", "EAS", "EUR", "SAS", "AMR", "OTH"} <= names
    msprime.DemographyDebugger(demography=dem)  # raises on an inconsistent model


def test_pedigree_errors_are_reported():
    with pytest.raises(ValueError, match="unique"):
        simulate_genotypes([SampleSpec("A"), SampleSpec("A")], 10, genes=GENES).chunks().__next__()
    with pytest.raises(ValueError, match="ancestry"):
        simulate_genotypes([SampleSpec("A", "XYZ")], 10, genes=GENES).chunks().__next__()


def test_default_gene_table_lists_real_genes_with_plausible_coordinates():
    genes = default_gene_table()

    assert 100 <= len(genes) <= 300
    brca1 = genes.get("BRCA1")
    assert brca1.chrom == "chr17" and 43_000_000 < brca1.start < brca1.end < 43_200_000
    for symbol in ("BRCA2", "TP53", "PIK3CA", "KRAS", "APC", "MLH1", "PTEN", "SCN1A", "CFTR", "DMD"):
        assert symbol in genes
    for chrom in genes.contigs:
        on = genes.on_contig(chrom)
        assert all(a.end < b.start for a, b in zip(on, on[1:], strict=False)), chrom


def test_fixture_vcf_is_reproduced_by_its_script(tmp_path, fixtures_dir):
    spec = importlib.util.spec_from_file_location("make_cohort", fixtures_dir / "make_cohort.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    module.main(tmp_path)

    def body(path):
        with gzip.open(path, "rt") as fh:
            return [line for line in fh if not line.startswith("##fileDate")]

    assert body(tmp_path / "cohort.vcf.gz") == body(fixtures_dir / "cohort.vcf.gz")
    assert (tmp_path / "truth.tsv").read_text() == (fixtures_dir / "truth.tsv").read_text()


def test_large_mixed_ancestry_cohort_simulates_without_demography_errors():
    # Regression: with AFR inactive until the out-of-Africa split, migrant
    # lineages from EUR/EAS had nowhere to go once cohorts reached thousands.
    specs = trio_cohort(3000, 0, seed=1)

    chunks = list(simulate_genotypes(specs, 200, seed=1, format_fields=False).chunks())

    assert sum(len(c) for c in chunks) == 200
    assert chunks[0].gt.shape[1] == 3000


def test_males_carry_one_x_outside_the_pseudoautosomal_regions():
    specs = trio_cohort(20, 15, seed=2)
    sim = simulate_genotypes(specs, 900, genes=default_gene_table().subset(contigs=["chrX"]), seed=4, missing_rate=0.0)
    data = _collect(sim)
    gt = data["gt"]
    one_x = _haploid_in_males(data["chrom"], data["pos"])
    male = np.array([s.sex == "male" for s in specs])
    het = gt[..., 0] != gt[..., 1]
    de_novo = {(t.pos, t.sample_ids[0]) for t in sim.injected if t.kind == "de_novo"}

    assert one_x.sum() > 800 and male.sum() > 20 and (~male).sum() > 20
    assert not het[np.ix_(one_x, male)].any()
    assert het[np.ix_(one_x, ~male)].sum() > 100  # women keep two X
    index = {s.sample_id: i for i, s in enumerate(specs)}
    checked = 0
    for s in (s for s in specs if s.is_child):
        c, m, f = index[s.sample_id], index[s.mother_id], index[s.father_id]
        for v in np.flatnonzero(one_x):
            if (int(data["pos"][v]), s.sample_id) in de_novo:
                continue
            child, mother, father = gt[v, c], gt[v, m], gt[v, f]
            if s.sex == "male":  # a son's X is his mother's
                assert child[0] in mother, (s.sample_id, int(data["pos"][v]))
            else:  # a daughter has her father's only X and one of her mother's
                assert (child[0] == father[0] and child[1] in mother) or (
                    child[1] == father[0] and child[0] in mother
                ), (s.sample_id, int(data["pos"][v]))
            checked += 1
    assert checked > 10_000


def test_pseudoautosomal_regions_are_diploid_in_males():
    assert _haploid_in_males(
        np.array(["chrX", "chrX", "chrX", "chr1"]), np.array([60_000, 3_000_000, 155_800_000, 10])
    ).tolist() == [False, True, False, False]


def test_an_unknown_sex_is_refused():
    with pytest.raises(ValueError, match="unknown sex 'M'"):
        simulate_genotypes([SampleSpec("A", sex="M")], 10, genes=GENES).chunks().__next__()
