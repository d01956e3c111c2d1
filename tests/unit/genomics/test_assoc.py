"""Association statistics against PLINK 1.9, plink2, scipy and statsmodels on the
generated case-control fixture (commands: tests/fixtures/association/regenerate.sh)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from genomics import assoc
from genomics.bed import PackedGenotypes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "association"


def _table(name: str, sep: str | None = None) -> list[list[str]]:
    opener = gzip.open if name.endswith(".gz") else open
    with opener(FIXTURES / name, "rt") as fh:
        return [line.split(sep) for line in fh.read().splitlines()]


def _float(value: str) -> float:
    return np.nan if value in ("NA", "nan", "inf") else float(value)


@pytest.fixture(scope="module")
def data():
    bed = PackedGenotypes(FIXTURES / "fx")
    ids = bed.sample_ids()
    pheno = {r[1]: int(r[2]) for r in _table("pheno.txt")[1:]}
    y = np.array([pheno[s] == 2 for s in ids])
    covar = {r[1]: [float(v) for v in r[2:]] for r in _table("covar.txt")[1:]}
    x = np.column_stack([np.ones(len(ids)), np.array([covar[s] for s in ids])])
    counts = bed.group_counts([y, ~y])
    return bed, y.astype(float), x, counts, assoc.allelic_tests(counts[:, 0], counts[:, 1])


def _rel(ours, ref):
    return np.abs(ours - ref) / np.abs(ref)


def test_allelic_chi_square_and_odds_ratio_match_plink_assoc(data):
    *_, r = data
    rows = _table("plink19.assoc.gz")[1:]
    chi2 = np.array([_float(x[7]) for x in rows])
    p = np.array([_float(x[8]) for x in rows])
    odds = np.array([_float(x[9]) for x in rows])
    low, high = np.array([_float(x[11]) for x in rows]), np.array([_float(x[12]) for x in rows])
    assert np.array_equal(np.isnan(chi2), np.isnan(r.chi2))
    ok = ~np.isnan(chi2) & (chi2 > 0)
    # PLINK prints 4 significant digits
    assert np.all(_rel(r.chi2[ok], chi2[ok]) < 5e-4)
    assert np.all(_rel(r.p_chi2[ok], p[ok]) < 5e-4)
    full = ~np.isnan(r.odds_ratio)
    assert full.sum() > 900
    assert np.all(_rel(r.odds_ratio[full], odds[full]) < 5e-4)
    assert np.all(_rel(r.ci_low[full], low[full]) < 5e-4)
    assert np.all(_rel(r.ci_high[full], high[full]) < 5e-4)


def test_allelic_tests_match_scipy_on_the_same_tables(data):
    *_, r = data
    tables = np.stack([r.case_alt, r.case_ref, r.control_alt, r.control_ref], axis=1)
    informative = np.flatnonzero((tables[:, 0] + tables[:, 2] > 0) & (tables[:, 1] + tables[:, 3] > 0))
    for v in informative:
        a, b, c, d = (int(t) for t in tables[v])
        assert r.p_fisher[v] == pytest.approx(stats.fisher_exact([[a, b], [c, d]])[1], rel=1e-6)
        chi2, p, _, _ = stats.chi2_contingency([[a, b], [c, d]], correction=False)
        assert r.chi2[v] == pytest.approx(chi2, rel=1e-6)
        assert r.p_chi2[v] == pytest.approx(p, rel=1e-6)


def test_fisher_and_hardy_weinberg_match_plink(data):
    *_, r = data
    fisher = np.array([_float(x[7]) for x in _table("plink19.assoc.fisher.gz")[1:]])
    assert np.all(_rel(r.p_fisher, fisher) < 5e-4)
    hwe = np.array([_float(x[8]) for x in _table("plink19.hwe.gz")[1:] if x[2] == "UNAFF"])
    assert np.all(_rel(r.p_hwe_controls, hwe) < 5e-4)


def test_fisher_is_exact_far_in_the_tail_and_on_edges():
    # the fourth and fifth tables lie beyond 1e-261 of the mode's probability (the log-space walk)
    a = np.array([400, 0, 3, 480, 300, 0, 7])
    b = np.array([0, 10, 997, 0, 5, 0, 3])
    c = np.array([0, 10, 0, 0, 2, 5, 2])
    d = np.array([400, 0, 1000, 480, 700, 5, 8])
    ours = assoc.fisher_exact_2x2(a, b, c, d)
    for i in range(len(a)):
        ref = stats.fisher_exact([[a[i], b[i]], [c[i], d[i]]])[1]
        assert ours[i] == pytest.approx(ref, rel=1e-6, abs=1e-320)
        assert ref > 0


def test_planted_signal_is_the_top_allelic_hit(data):
    bed, *_, r = data
    bim = _table("fx.bim")
    signal = next(t for t in _table("truth.tsv", "\t")[1:] if t[0] == "signal")
    top = int(np.nanargmin(r.p_fisher))
    assert (bim[top][0], bim[top][3]) == (signal[1].removeprefix("chr"), signal[2])


def _plink2_glm(name: str):
    rows = _table(name, "\t")[1:]
    header = _table(name, "\t")[0]
    col = {h: i for i, h in enumerate(header)}
    flip = np.array([x[col["A1"]] == x[col["REF"]] for x in rows])  # plink2 reports some rows for REF
    odds = np.array([_float(x[col["OR"]]) for x in rows])
    odds = np.where(flip, 1 / odds, odds)
    p = np.array([_float(x[col["P"]]) for x in rows])
    firth = np.array([x[col["FIRTH?"]] == "Y" for x in rows]) if "FIRTH?" in col else np.zeros(len(rows), bool)
    return odds, p, firth


def test_score_test_matches_statsmodels_on_a_sample_of_variants(data):
    bed, y, x, *_ = data
    null = assoc.null_fit(x, y)
    assert null.converged
    dosages = bed.dosages(np.arange(bed.n_samples))
    _, p = assoc.score_tests(null, dosages)
    reference = sm.GLM(y, x, family=sm.families.Binomial()).fit()
    checked = 0
    for v in range(0, bed.n_variants, 37):
        g = dosages[v].copy()
        if np.nanstd(g) == 0:
            assert np.isnan(p[v])
            continue
        g[np.isnan(g)] = np.nanmean(g)
        ref_p = reference.score_test(exog_extra=g[:, None])[1]
        assert p[v] == pytest.approx(float(np.squeeze(ref_p)), rel=1e-6)
        checked += 1
    assert checked > 20


def test_score_tests_from_the_packed_bytes_equal_those_on_dosages(data):
    bed, y, x, *_ = data
    null = assoc.null_fit(x, y)
    samples = np.arange(bed.n_samples)
    _, on_dosages = assoc.score_tests(null, bed.dosages(samples, 100, 700))
    _, packed = assoc.score_tests_packed(null, bed, samples, 100, 700)
    assert np.array_equal(np.isnan(on_dosages), np.isnan(packed))
    ok = ~np.isnan(packed)
    assert np.allclose(packed[ok], on_dosages[ok], rtol=1e-9, atol=0)


def test_wald_and_firth_fits_match_plink2_glm_firth_fallback(data):
    bed, y, x, counts, r = data
    null = assoc.null_fit(x, y)
    dosages = bed.dosages(np.arange(bed.n_samples))
    empty = (r.case_alt == 0) | (r.case_ref == 0) | (r.control_alt == 0) | (r.control_ref == 0)
    fit = assoc.wald_fits(null, dosages, firth_needed=empty)
    odds, p, firth = _plink2_glm("glm.PHENO1.glm.logistic.hybrid.gz")
    both = ~np.isnan(p) & ~np.isnan(fit.p)
    assert both.sum() >= bed.n_variants - 10
    # Firth where plink2 used it (an empty cell); where the plain fit ran off, Firth here too (a few rows)
    assert np.all(fit.firth[firth])
    assert (fit.firth & ~firth).sum() <= 10
    same = both & (fit.firth == firth)
    plain, penalised = same & ~firth, same & firth
    assert plain.sum() > 900 and penalised.sum() > 900
    assert np.all(_rel(np.exp(fit.beta[plain]), odds[plain]) < 1e-4)
    # plink2's p of a few variants moves when only the scale of the covariates changes (its run
    # without --covar-variance-standardize, glm_unscaled, against the standardised one), which
    # leaves the model unchanged; the fits here agree with statsmodels to 1e-6 (below). So: p to
    # 1e-4 on at least 98% of the variants, and to 2e-2 on every one.
    _, p_unscaled, _ = _plink2_glm("glm_unscaled.PHENO1.glm.logistic.hybrid.gz")
    assert np.nanmax(_rel(p_unscaled[plain], p[plain])) > 1e-3
    assert np.mean(_rel(fit.p[plain], p[plain]) < 1e-4) > 0.98
    assert np.all(_rel(fit.p[plain], p[plain]) < 2e-2)
    # Firth (here stopped at 1e-8 on every step): p to 1e-4 on at least 95% of the rows and to
    # 5e-4 on all, OR to 1e-3; plink2 stops its penalised iterations at a looser tolerance
    rel_p = _rel(fit.p[penalised], p[penalised])
    assert np.mean(rel_p < 1e-4) > 0.95
    assert np.all(rel_p < 5e-4)
    assert np.all(_rel(np.exp(fit.beta[penalised]), odds[penalised]) < 1e-3)


def test_plain_wald_fits_match_statsmodels(data):
    bed, y, x, *_ = data
    null = assoc.null_fit(x, y)
    dosages = bed.dosages(np.arange(bed.n_samples))
    chosen = np.array([v for v in range(0, bed.n_variants, 53) if np.nanstd(dosages[v]) > 0.3])
    fit = assoc.wald_fits(null, dosages[chosen], firth_needed=np.zeros(len(chosen), bool))
    for i, v in enumerate(chosen):
        keep = ~np.isnan(dosages[v])
        ref = sm.GLM(y[keep], np.column_stack([x[keep], dosages[v][keep]]), family=sm.families.Binomial()).fit(
            tol=1e-12
        )
        assert fit.beta[i] == pytest.approx(ref.params[-1], rel=1e-6)
        assert fit.se[i] == pytest.approx(ref.bse[-1], rel=1e-6)
        assert fit.p[i] == pytest.approx(ref.pvalues[-1], rel=1e-6)


def test_principal_components_match_plink2_pca_up_to_sign(data):
    bed, *_ = data
    ids = {r[1]: i for i, r in enumerate(_table("fx.bim"))}
    chosen = np.array(sorted(ids[v[0]] for v in _table("prune.prune.in")))
    samples = np.arange(bed.n_samples)

    def blocks():
        for a in range(0, chosen.size, 100):
            rows = chosen[a : a + 100]
            yield assoc.standardise(np.stack([bed.dosages(samples, v, v + 1)[0] for v in rows]))

    pcs, _ = assoc.principal_components(blocks, bed.n_samples, 4)
    reference = np.array([[float(v) for v in r[2:6]] for r in _table("pca.eigenvec")[1:]])
    for k in range(4):
        assert abs(np.corrcoef(pcs[:, k], reference[:, k])[0, 1]) > 0.999


def test_ld_pruning_keeps_common_variants_apart(data):
    bed, *_ = data
    samples = np.arange(bed.n_samples)
    counts = bed.group_counts([samples])[:, 0]
    alt = 2 * counts[:, 2] + counts[:, 1]
    called = 2 * (counts[:, 0] + counts[:, 1] + counts[:, 2])
    maf = np.minimum(alt, called - alt) / called
    common = np.flatnonzero(maf >= 0.05)
    contigs = np.array([r[0] for r in _table("fx.bim")])
    z = assoc.standardise(bed.dosages(samples)[common])
    kept = assoc.prune_ld(iter([(0, contigs[common], z)]), r2=0.2, window=50)
    zk = z[kept]
    r = np.corrcoef(zk)
    same = contigs[common][kept][:, None] == contigs[common][kept][None, :]
    near = np.abs(np.arange(len(kept))[:, None] - np.arange(len(kept))[None, :]) <= 50
    off = same & near & ~np.eye(len(kept), dtype=bool)
    assert kept.size > 50
    assert np.all(r[off] ** 2 < 0.2)
