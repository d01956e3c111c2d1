"""The computation of the case-control association job over the packed matrix, block by block
(no Django: the job type in ``analysis/jobtypes/association.py`` calls it, and so does the
benchmark). Statistics are in :mod:`genomics.assoc`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from genomics import assoc
from genomics.bed import PackedGenotypes

GROUPS = ("case", "control")
CELLS = ("hom_ref", "het", "hom_alt", "missing")
PCA_MAF = 0.05  # common variants only for the principal components
PCA_MAX_CANDIDATES = 20_000  # common variants looked at for pruning (evenly spaced)
PCA_MAX_VARIANTS = 5_000  # pruned variants used for the components
PRUNE_SAMPLES = 2_000  # r^2 between variants is estimated on at most this many samples


class TooFewVariants(ValueError):
    """Too few common variants among the samples for the principal components asked for."""


def block_statistics(
    packed: PackedGenotypes, samples: np.ndarray, null: assoc.NullModel, start: int, stop: int,
    parameters: Mapping[str, Any],
) -> pa.Table:  # fmt: skip
    """Raw statistics of the variants [start, stop) that pass the filters (before disclosure control).
    ``samples``: the analysed store columns in order, ``null.y`` their status."""
    cases, controls = samples[null.y == 1], samples[null.y == 0]
    counts = packed.group_counts([cases, controls], start, stop)
    allelic = assoc.allelic_tests(counts[:, 0], counts[:, 1])
    keep = (allelic.mac >= int(parameters["min_mac"])) & (np.nan_to_num(allelic.maf) >= float(parameters["min_maf"]))
    idx = np.flatnonzero(keep)
    n = idx.size
    beta, se, p_wald = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    firth = np.zeros(n, dtype=bool)
    fitted = np.zeros(n, dtype=bool)
    empty = (allelic.case_alt == 0) | (allelic.case_ref == 0) | (allelic.control_alt == 0) | (allelic.control_ref == 0)
    # the score test of every variant straight from the packed bytes, then full fits of the chosen
    _, p_all = assoc.score_tests_packed(null, packed, samples, start, stop)
    p_score = p_all[idx]
    chosen = np.flatnonzero(p_score < float(parameters["score_threshold"]))
    step = max(1, (64 * 1024 * 1024) // (8 * max(1, samples.size)))  # dosages bounded in bytes
    for a in range(0, chosen.size, step):
        at = chosen[a : a + step]
        rows = idx[at]
        fit = assoc.wald_fits(null, dosages_of(packed, samples, start + rows), firth_needed=empty[rows])
        beta[at], se[at], p_wald[at], firth[at] = fit.beta, fit.se, fit.p, fit.firth
        fitted[at] = ~np.isnan(fit.p)
    out: dict[str, Any] = {"variant_index": pa.array(start + idx, type=pa.int64())}
    for g, group in enumerate(GROUPS):
        for c, cell in enumerate(CELLS):
            out[f"{group}_{cell}"] = pa.array(counts[idx, g, c], type=pa.int64())
    for name in ("odds_ratio", "ci_low", "ci_high", "p_chi2", "p_fisher", "p_hwe_controls"):
        out[name] = pa.array(getattr(allelic, name)[idx], type=pa.float64())
    out["p_score"] = pa.array(p_score)
    out["beta"], out["se"], out["p_wald"] = pa.array(beta), pa.array(se), pa.array(p_wald)
    out["fitted"], out["firth"] = pa.array(fitted), pa.array(firth)
    return pa.table(out)


def dosages_of(packed: PackedGenotypes, samples: np.ndarray, variants: np.ndarray) -> np.ndarray:
    """Dosages of chosen variants, in one read of the packed matrix (one call per run of
    consecutive variants started the parallel kernel thousands of times on pruned variants)."""
    return packed.dosages_at(samples, variants)


def principal_components(
    packed: PackedGenotypes, samples: np.ndarray, k: int, contigs: np.ndarray
) -> tuple[np.ndarray, int]:
    """Top ``k`` PCs of ``samples`` from common (MAF >= 0.05), LD-pruned (r^2 < 0.2 in windows of
    50) variants, standardised as plink2 --pca does. Returns (samples x k, variants used)."""
    counts = packed.group_counts([samples])[:, 0]
    alt = 2 * counts[:, 2] + counts[:, 1]
    called = 2 * (counts[:, 0] + counts[:, 1] + counts[:, 2])
    with np.errstate(divide="ignore", invalid="ignore"):
        maf = np.where(called > 0, np.minimum(alt, called - alt) / np.maximum(called, 1), 0.0)
    common = np.flatnonzero(maf >= PCA_MAF)
    if common.size > PCA_MAX_CANDIDATES:
        common = common[np.linspace(0, common.size - 1, PCA_MAX_CANDIDATES).round().astype(np.int64)]
    if common.size < k + 2:
        raise TooFewVariants(f"{common.size} common variants")
    rng = np.random.default_rng(0)
    subset = np.sort(rng.choice(samples, size=min(samples.size, PRUNE_SAMPLES), replace=False))
    step = 2000

    def candidates():
        for a in range(0, common.size, step):
            rows = common[a : a + step]
            yield a, contigs[rows], assoc.standardise(dosages_of(packed, subset, rows))

    kept = common[assoc.prune_ld(candidates(), r2=0.2, window=50, max_keep=PCA_MAX_VARIANTS)]
    width = max(1, (32 * 1024 * 1024) // (8 * samples.size))

    def blocks():
        for a in range(0, kept.size, width):
            yield assoc.standardise(dosages_of(packed, samples, kept[a : a + width]))

    pcs, _ = assoc.principal_components(blocks, samples.size, min(k, kept.size - 1))
    return pcs, int(kept.size)
