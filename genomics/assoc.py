"""Case-control association statistics (numpy, scipy, numba; no Django).

Allelic tests, per variant, on the 2x2 table of ALT and REF alleles in cases
and controls, missing calls dropped per variant (as PLINK 1.9 ``--assoc``):

- :func:`allelic_tests`: chi-square with 1 df (no continuity correction),
  Fisher's exact test (two-sided: the tables no more likely than the one seen,
  with scipy's relative tolerance of 1e-7), the odds ratio of ALT and its 95%
  Woolf interval, and the Hardy-Weinberg exact p in controls (Wigginton et al.
  2005, as ``plink --hardy``).

Logistic regression of case status on ALT dosage with covariates:

- :func:`null_fit`: the covariates-only model, fitted once;
- :func:`score_tests`: the score test of every variant against the null fit
  (missing dosages set to the variant's mean over the samples analysed);
- :func:`wald_fits`: the full fit of the variants chosen (samples with a
  missing call dropped, as plink2 ``--glm``): Newton-Raphson, and Firth's
  penalised likelihood where a cell of the allele table is empty or the
  plain fit does not converge (plink2 ``--glm firth-fallback``).

Principal components (:func:`prune_ld`, :func:`principal_components`): common
variants, pruned for LD in windows, standardised as ``plink2 --pca`` does, and
the top components by randomised subspace iteration over variant blocks, so
memory grows with samples x components only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numba
import numpy as np
from scipy import special

Z95 = 1.959963984540054


def chi2_sf(x: np.ndarray) -> np.ndarray:
    """Upper tail of chi-square with 1 df: erfc(sqrt(x / 2)) (exact, and faster than chdtrc)."""
    return special.erfc(np.sqrt(np.maximum(x, 0.0) / 2.0))


# --- allelic tests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AllelicResult:
    """Per-variant allele counts and tests (arrays of one length)."""

    case_alt: np.ndarray
    case_ref: np.ndarray
    control_alt: np.ndarray
    control_ref: np.ndarray
    chi2: np.ndarray
    p_chi2: np.ndarray
    p_fisher: np.ndarray
    odds_ratio: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_hwe_controls: np.ndarray
    maf: np.ndarray
    mac: np.ndarray


def allele_table(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(alt, ref) allele counts from (variants, 4) genotype counts (hom-ref, het, hom-alt, missing)."""
    alt = 2 * counts[:, 2] + counts[:, 1]
    ref = 2 * counts[:, 0] + counts[:, 1]
    return alt, ref


def allelic_tests(cases: np.ndarray, controls: np.ndarray) -> AllelicResult:
    """``cases``, ``controls``: (variants, 4) int genotype counts (hom-ref, het, hom-alt, missing)."""
    a, b = allele_table(cases)
    c, d = allele_table(controls)
    a_, b_, c_, d_ = (x.astype(np.float64) for x in (a, b, c, d))
    n = a_ + b_ + c_ + d_
    r1, r2, k1, k2 = a_ + b_, c_ + d_, a_ + c_, b_ + d_
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = r1 * r2 * k1 * k2
        chi2 = np.where(denom > 0, n * (a_ * d_ - b_ * c_) ** 2 / denom, np.nan)
        p_chi2 = np.where(np.isnan(chi2), np.nan, chi2_sf(np.nan_to_num(chi2)))
        empty = (a == 0) | (b == 0) | (c == 0) | (d == 0)
        odds = np.where(empty, np.nan, (a_ * d_) / (b_ * c_))
        se = np.where(empty, np.nan, np.sqrt(1 / a_ + 1 / b_ + 1 / c_ + 1 / d_))
        low = odds * np.exp(-Z95 * se)
        high = odds * np.exp(Z95 * se)
    p_fisher = fisher_exact_2x2(a, b, c, d)
    p_hwe = hwe_exact(controls[:, 0], controls[:, 1], controls[:, 2])
    total_alt, total = a + c, a + b + c + d
    mac = np.minimum(total_alt, total - total_alt)
    with np.errstate(divide="ignore", invalid="ignore"):
        maf = np.where(total > 0, mac / np.maximum(total, 1), np.nan)
    return AllelicResult(a, b, c, d, chi2, p_chi2, p_fisher, odds, low, high, p_hwe, maf, mac)


@numba.njit(cache=True, nogil=True)
def _lchoose(n, k):  # pragma: no cover - compiled
    return math.lgamma(n + 1.0) - math.lgamma(k + 1.0) - math.lgamma(n - k + 1.0)


@numba.njit(cache=True, nogil=True)
def _fisher_one(a, b, c, d):  # pragma: no cover - compiled
    """Two-sided Fisher p of [[a, b], [c, d]]: walking out from the mode of the
    hypergeometric (terms relative to it, by their ratios), stopping where terms
    no longer count; in log space where the table seen is beyond double range."""
    r1 = a + b
    k1 = a + c
    n = a + b + c + d
    if n == 0 or r1 == 0 or r1 == n or k1 == 0 or k1 == n:
        return 1.0
    lo = max(0, r1 + k1 - n)
    hi = min(r1, k1)
    base = n - k1 - r1
    mode = int((r1 + 1.0) * (k1 + 1.0) / (n + 2.0))
    mode = min(max(mode, lo), hi)
    log_rel = (
        _lchoose(k1, a) + _lchoose(n - k1, r1 - a) - _lchoose(k1, mode) - _lchoose(n - k1, r1 - mode)
    )  # log(t_obs / t_mode)
    if log_rel > -600.0:
        obs = math.exp(log_rel) * (1.0 + 1e-7)
        total = 1.0
        kept = 1.0 if obs >= 1.0 else 0.0
        t = 1.0
        x = mode
        while x < hi:  # upwards
            t *= (k1 - x) * (r1 - x) / ((x + 1.0) * (base + x + 1.0))
            x += 1
            total += t
            if t <= obs:
                kept += t
                if t < 1e-17 * kept:
                    break
        t = 1.0
        x = mode
        while x > lo:  # downwards
            t *= x * (base + x) / ((k1 - x + 1.0) * (r1 - x + 1.0))
            x -= 1
            total += t
            if t <= obs:
                kept += t
                if t < 1e-17 * kept:
                    break
        return min(1.0, kept / total)
    # the table seen is far in a tail: the terms no more likely than it, relative to it, in logs
    limit = math.log1p(1e-7)
    kept = 0.0
    total = 1.0  # the bulk, relative to the mode: the tail terms add nothing to it
    t = 1.0
    x = mode
    while x < hi:
        t *= (k1 - x) * (r1 - x) / ((x + 1.0) * (base + x + 1.0))
        x += 1
        total += t
        if t == 0.0:
            break
    t = 1.0
    x = mode
    while x > lo:
        t *= x * (base + x) / ((k1 - x + 1.0) * (r1 - x + 1.0))
        x -= 1
        total += t
        if t == 0.0:
            break
    kept = 1.0  # the table seen
    for direction in (1, -1):  # its own tail, away from the mode
        x = a
        lt = 0.0  # log(t_x / t_obs)
        while True:
            if direction == 1:
                if x >= hi:
                    break
                lt += math.log((k1 - x) * (r1 - x) / ((x + 1.0) * (base + x + 1.0)))
                x += 1
            else:
                if x <= lo:
                    break
                lt += math.log(x * (base + x) / ((k1 - x + 1.0) * (r1 - x + 1.0)))
                x -= 1
            if lt > 0.0:  # towards the mode: more likely tables are not counted
                break
            if lt <= limit:
                kept += math.exp(lt)
            if lt < -40.0:
                break
    # the other tail: terms on the far side of the mode no more likely than the one seen
    other = 0.0
    if a > mode:
        x = lo
        lt = _lchoose(k1, lo) + _lchoose(n - k1, r1 - lo) - _lchoose(k1, a) - _lchoose(n - k1, r1 - a)
        while x < mode and lt <= limit:
            other += math.exp(lt)
            lt += math.log((k1 - x) * (r1 - x) / ((x + 1.0) * (base + x + 1.0)))
            x += 1
    else:
        x = hi
        lt = _lchoose(k1, hi) + _lchoose(n - k1, r1 - hi) - _lchoose(k1, a) - _lchoose(n - k1, r1 - a)
        while x > mode and lt <= limit:
            other += math.exp(lt)
            lt += math.log(x * (base + x) / ((k1 - x + 1.0) * (r1 - x + 1.0)))
            x -= 1
    p = math.exp(math.log(kept + other) + log_rel - math.log(total))
    return min(1.0, p)


@numba.njit(cache=True, nogil=True, parallel=True)
def _fisher_kernel(a, b, c, d, out):  # pragma: no cover - compiled
    for i in numba.prange(a.shape[0]):
        out[i] = _fisher_one(a[i], b[i], c[i], d[i])


def fisher_exact_2x2(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Two-sided Fisher exact p of each table [[a, b], [c, d]]."""
    arrays = [np.ascontiguousarray(x, dtype=np.int64) for x in (a, b, c, d)]
    out = np.empty(arrays[0].shape[0], dtype=np.float64)
    _fisher_kernel(*arrays, out)  # type: ignore[call-arg]  # a numba kernel
    return out


@numba.njit(cache=True, nogil=True)
def _hwe_one(hom1, het, hom2):  # pragma: no cover - compiled
    """Hardy-Weinberg exact p (Wigginton, Cutler and Abecasis 2005), as PLINK 1.9 ``--hardy``:
    het counts walked out from the mode, by ratios, until the terms no longer count."""
    n = hom1 + het + hom2
    if n == 0:
        return 1.0
    rare = 2 * min(hom1, hom2) + het
    if rare == 0:
        return 1.0
    mid = rare * (2 * n - rare) // (2 * n)
    if (rare & 1) != (mid & 1):
        mid += 1
    # the observed term relative to the mode, by the same ratios
    rel = 1.0
    h = mid
    r = (rare - mid) // 2
    c = n - h - r
    while h > het:
        rel *= h * (h - 1.0) / (4.0 * (r + 1.0) * (c + 1.0))
        h -= 2
        r += 1
        c += 1
    while h < het:
        rel *= 4.0 * r * c / ((h + 2.0) * (h + 1.0))
        h += 2
        r -= 1
        c -= 1
    target = rel * (1 + 1e-7)
    total = 1.0
    kept = 1.0 if target >= 1.0 else 0.0
    t = 1.0
    h = mid
    r = (rare - mid) // 2
    c = n - h - r
    while h >= 2:
        t *= h * (h - 1.0) / (4.0 * (r + 1.0) * (c + 1.0))
        h -= 2
        r += 1
        c += 1
        total += t
        if t <= target:
            kept += t
        if t < 1e-17 * total and (t < 1e-17 * kept or kept == 0.0 and t == 0.0):
            break
    t = 1.0
    h = mid
    r = (rare - mid) // 2
    c = n - h - r
    while h <= rare - 2:
        t *= 4.0 * r * c / ((h + 2.0) * (h + 1.0))
        h += 2
        r -= 1
        c -= 1
        total += t
        if t <= target:
            kept += t
        if t < 1e-17 * total and (t < 1e-17 * kept or kept == 0.0 and t == 0.0):
            break
    return min(1.0, kept / total)


@numba.njit(cache=True, nogil=True, parallel=True)
def _hwe_kernel(hom1, het, hom2, out):  # pragma: no cover - compiled
    for i in numba.prange(hom1.shape[0]):
        out[i] = _hwe_one(hom1[i], het[i], hom2[i])


def hwe_exact(hom_ref: np.ndarray, het: np.ndarray, hom_alt: np.ndarray) -> np.ndarray:
    arrays = [np.ascontiguousarray(x, dtype=np.int64) for x in (hom_ref, het, hom_alt)]
    out = np.empty(arrays[0].shape[0], dtype=np.float64)
    _hwe_kernel(*arrays, out)  # type: ignore[call-arg]  # a numba kernel
    return out


# --- logistic regression ----------------------------------------------------------------------


@dataclass(frozen=True)
class NullModel:
    """The covariates-only fit: design ``x`` (samples, p, intercept first), status ``y`` (0/1)."""

    x: np.ndarray
    y: np.ndarray
    beta: np.ndarray
    mu: np.ndarray
    converged: bool

    @property
    def w(self) -> np.ndarray:
        return self.mu * (1 - self.mu)


def null_fit(x: np.ndarray, y: np.ndarray, *, max_iter: int = 50, tol: float = 1e-10) -> NullModel:
    """Logistic regression of ``y`` on ``x`` by Newton-Raphson."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    beta = np.zeros(x.shape[1])
    converged = False

    def loglik(b: np.ndarray) -> float:
        eta = x @ b
        return float(np.sum(y * eta - np.logaddexp(0.0, eta)))

    current = loglik(beta)
    for _ in range(max_iter):
        mu = special.expit(x @ beta)
        w = mu * (1 - mu)
        step = np.linalg.solve((x * w[:, None]).T @ x, x.T @ (y - mu))
        for _ in range(30):  # step halving: the likelihood never goes down
            value = loglik(beta + step)
            if value >= current - 1e-12:
                break
            step = step / 2
        beta, current = beta + step, value
        if np.max(np.abs(step)) < tol:
            converged = True
            break
    mu = special.expit(x @ beta)
    return NullModel(x, y, beta, mu, converged)


def score_tests(null: NullModel, dosages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score chi-square (1 df) and p of each variant of ``dosages`` (variants, samples; NaN missing)."""
    g = np.array(dosages, dtype=np.float64, copy=True)
    missing = np.isnan(g)
    if missing.any():
        counts = (~missing).sum(axis=1)
        means = np.where(counts > 0, np.nansum(g, axis=1) / np.maximum(counts, 1), 0.0)
        g[missing] = np.broadcast_to(means[:, None], g.shape)[missing]
    w = null.w
    u = g @ (null.y - null.mu)
    xtwx = (null.x * w[:, None]).T @ null.x
    chol = np.linalg.cholesky(xtwx)
    b = (g * w[None, :]) @ null.x  # (variants, p)
    c = np.linalg.solve(chol, b.T)  # (p, variants)
    v = (g * g) @ w - (c * c).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.where(v > 1e-12 * np.maximum(1.0, (g * g) @ w), u * u / v, np.nan)
    p = np.where(np.isnan(chi2), np.nan, chi2_sf(np.nan_to_num(chi2)))
    return chi2, p


@numba.njit(cache=True, nogil=True, parallel=True)
def _score_kernel(bed, v0, v1, bpv, samples, resid, w, wx, l_inv, out):  # pragma: no cover - compiled
    """Score chi-square of each variant straight from the packed bytes: one pass over the samples,
    missing dosages set to the mean of the called ones."""
    n = samples.shape[0]
    p = wx.shape[1]
    table = np.array([2.0, -1.0, 1.0, 0.0])
    for i in numba.prange(v1 - v0):
        start = 3 + (v0 + i) * bpv
        b = np.zeros(p)
        b_miss = np.zeros(p)
        sum_g = 0.0
        n_obs = 0
        u = 0.0
        ss = 0.0
        r_miss = 0.0
        w_miss = 0.0
        for j in range(n):
            s = samples[j]
            g = table[(bed[start + (s >> 2)] >> ((s & 3) * 2)) & 3]
            if g < 0.0:
                r_miss += resid[j]
                w_miss += w[j]
                for k in range(p):
                    b_miss[k] += wx[j, k]
            else:
                sum_g += g
                n_obs += 1
                if g != 0.0:
                    u += g * resid[j]
                    ss += g * g * w[j]
                    for k in range(p):
                        b[k] += g * wx[j, k]
        if n_obs == 0:
            out[i] = np.nan
            continue
        mean = sum_g / n_obs
        u += mean * r_miss
        ss += mean * mean * w_miss
        for k in range(p):
            b[k] += mean * b_miss[k]
        proj = 0.0
        for a in range(p):
            t = 0.0
            for k in range(a + 1):
                t += l_inv[a, k] * b[k]
            proj += t * t
        v = ss - proj
        out[i] = u * u / v if v > 1e-12 * max(1.0, ss) else np.nan


def score_tests_packed(
    null: NullModel, packed, samples: np.ndarray, start: int, stop: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`score_tests` of the variants [start, stop) of a packed matrix (``genomics.bed``),
    ``samples`` the store columns of the null model's rows, in its order, without decoding dosages."""
    w = null.w
    wx = np.ascontiguousarray(null.x * w[:, None])
    l_inv = np.linalg.inv(np.linalg.cholesky(wx.T @ null.x))
    chi2 = np.empty(stop - start)
    _score_kernel(
        packed._bytes,
        start,
        stop,
        packed.bytes_per_variant,
        np.ascontiguousarray(samples, dtype=np.int64),
        np.ascontiguousarray(null.y - null.mu),
        np.ascontiguousarray(w),
        wx,
        np.ascontiguousarray(l_inv),
        chi2,
    )
    p = np.where(np.isnan(chi2), np.nan, chi2_sf(np.nan_to_num(chi2)))
    return chi2, p


@numba.njit(cache=True, nogil=True)
def _chol_inverse(a):  # pragma: no cover - compiled
    """Inverse and log-determinant of a symmetric positive definite matrix; ok False if it is not."""
    p = a.shape[0]
    low = np.zeros((p, p))
    for j in range(p):
        s = a[j, j]
        for k in range(j):
            s -= low[j, k] * low[j, k]
        if s <= 1e-12 * max(1.0, abs(a[j, j])):
            return np.zeros((p, p)), 0.0, False
        low[j, j] = math.sqrt(s)
        for i in range(j + 1, p):
            t = a[i, j]
            for k in range(j):
                t -= low[i, k] * low[j, k]
            low[i, j] = t / low[j, j]
    logdet = 0.0
    for j in range(p):
        logdet += 2.0 * math.log(low[j, j])
    inv_low = np.zeros((p, p))
    for j in range(p):
        inv_low[j, j] = 1.0 / low[j, j]
        for i in range(j + 1, p):
            t = 0.0
            for k in range(j, i):
                t -= low[i, k] * inv_low[k, j]
            inv_low[i, j] = t / low[i, i]
    inverse = inv_low.T @ inv_low
    return inverse, logdet, True


@numba.njit(cache=True, nogil=True)
def _fit_one(x, g, y, start, firth, max_iter, tol):  # pragma: no cover - compiled
    """Logistic (or Firth) fit of y on [x, g] over the samples where g is not NaN.
    Returns (beta_g, se_g, converged, iterations)."""
    n, p0 = x.shape
    p = p0 + 1
    keep = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if not np.isnan(g[i]):
            keep[m] = i
            m += 1
    z = np.empty((m, p))
    yy = np.empty(m)
    for r in range(m):
        i = keep[r]
        for j in range(p0):
            z[r, j] = x[i, j]
        z[r, p0] = g[i]
        yy[r] = y[i]
    beta = np.zeros(p)
    for j in range(p0):
        beta[j] = start[j]
    mu = np.empty(m)
    w = np.empty(m)
    info = np.empty((p, p))
    grad = np.empty(p)
    previous = np.zeros(p)

    def evaluate(beta):
        loglik = 0.0
        for r in range(m):
            eta = 0.0
            for j in range(p):
                eta += z[r, j] * beta[j]
            if eta >= 0:
                e = math.exp(-eta)
                mu[r] = 1.0 / (1.0 + e)
                loglik += yy[r] * 0.0 - (1.0 - yy[r]) * eta - math.log1p(e)
            else:
                e = math.exp(eta)
                mu[r] = e / (1.0 + e)
                loglik += yy[r] * eta - math.log1p(e)
            w[r] = mu[r] * (1.0 - mu[r])
        for j in range(p):
            for k in range(p):
                info[j, k] = 0.0
        for r in range(m):  # row by row: the rows of z are contiguous
            wr = w[r]
            for j in range(p):
                t = wr * z[r, j]
                for k in range(j + 1):
                    info[j, k] += t * z[r, k]
        for j in range(p):
            for k in range(j):
                info[k, j] = info[j, k]
        return loglik

    converged = False
    iterations = 0
    loglik = evaluate(beta)
    inverse, logdet, ok = _chol_inverse(info)
    if not ok:
        return np.nan, np.nan, False, 0
    penalised = loglik + 0.5 * logdet if firth else loglik
    for it in range(max_iter):
        iterations = it + 1
        for j in range(p):
            grad[j] = 0.0
        if firth:
            # hat diagonal h_r = w_r z_r' I^-1 z_r; modified score z' (y - mu + h (1/2 - mu))
            for r in range(m):
                h = 0.0
                for j in range(p):
                    t = 0.0
                    for k in range(p):
                        t += inverse[j, k] * z[r, k]
                    h += z[r, j] * t
                h *= w[r]
                resid = yy[r] - mu[r] + h * (0.5 - mu[r])
                for j in range(p):
                    grad[j] += z[r, j] * resid
        else:
            for r in range(m):
                resid = yy[r] - mu[r]
                for j in range(p):
                    grad[j] += z[r, j] * resid
        step = inverse @ grad
        biggest = 0.0
        for j in range(p):
            biggest = max(biggest, abs(step[j]))
        if biggest > 5.0:  # keep a step from running off to infinity
            step *= 5.0 / biggest
        # Firth's modified score is not the gradient of what it maximises exactly: where
        # the step turns back on itself, damp it, so the iteration settles instead of swinging
        turn = 0.0
        for j in range(p):
            turn += step[j] * previous[j]
        if turn < 0.0:
            step *= 0.5
        # step halving on the (penalised) log-likelihood
        old = beta.copy()
        halvings = 0
        value = -np.inf
        while True:
            beta = old + step
            loglik = evaluate(beta)
            inverse, logdet, ok = _chol_inverse(info)
            if ok:
                value = loglik + 0.5 * logdet if firth else loglik
            if (ok and value >= penalised - 1e-12) or halvings >= 25:
                break
            step *= 0.5
            halvings += 1
        if not ok:
            return np.nan, np.nan, False, iterations
        penalised = value
        for j in range(p):
            previous[j] = step[j]
        biggest = 0.0
        for j in range(p):
            biggest = max(biggest, abs(step[j]))
        if biggest < tol:
            converged = True
            break
    se = math.sqrt(inverse[p0, p0]) if inverse[p0, p0] > 0 else np.nan
    return beta[p0], se, converged, iterations


@numba.njit(cache=True, nogil=True, parallel=True)
def _fit_kernel(x, dosages, y, start, firth, max_iter, tol, beta, se, ok):  # pragma: no cover - compiled
    for v in numba.prange(dosages.shape[0]):
        b, s, c, _ = _fit_one(x, dosages[v], y, start, firth[v], max_iter, tol)
        beta[v] = b
        se[v] = s
        ok[v] = c


@dataclass(frozen=True)
class WaldResult:
    beta: np.ndarray
    se: np.ndarray
    p: np.ndarray
    firth: np.ndarray  # bool: Firth's regression gave this row
    converged: np.ndarray


def wald_fits(
    null: NullModel,
    dosages: np.ndarray,
    *,
    firth_needed: np.ndarray,
    max_iter: int = 50,
    tol: float = 1e-8,
) -> WaldResult:
    """Full fits of each variant of ``dosages`` (variants, samples; NaN missing): plain logistic,
    and Firth where ``firth_needed`` or where the plain fit does not converge (or runs off)."""
    g = np.ascontiguousarray(dosages, dtype=np.float64)
    nv = g.shape[0]
    beta, se = np.full(nv, np.nan), np.full(nv, np.nan)
    ok = np.zeros(nv, dtype=np.bool_)
    firth = np.ascontiguousarray(firth_needed, dtype=np.bool_).copy()
    if nv:
        _fit_kernel(null.x, g, null.y, null.beta, firth, max_iter, tol, beta, se, ok)
    retry = ~firth & (~ok | ~np.isfinite(se) | (np.abs(beta) > 15))
    if retry.any():
        idx = np.flatnonzero(retry)
        b2, s2 = np.full(idx.size, np.nan), np.full(idx.size, np.nan)
        ok2 = np.zeros(idx.size, dtype=np.bool_)
        _fit_kernel(null.x, g[idx], null.y, null.beta, np.ones(idx.size, np.bool_), max_iter, tol, b2, s2, ok2)
        beta[idx], se[idx], ok[idx], firth[idx] = b2, s2, ok2, True
    with np.errstate(divide="ignore", invalid="ignore"):
        z = beta / se
    p = chi2_sf(np.nan_to_num(z * z, nan=0.0))
    p = np.where(np.isfinite(z) & ok, p, np.nan)
    return WaldResult(beta, se, p, firth, ok)


# --- principal components ---------------------------------------------------------------------


@numba.njit(cache=True, nogil=True, parallel=True)
def _standardise_kernel(g, z):  # pragma: no cover - compiled
    for v in numba.prange(g.shape[0]):
        total = 0.0
        called = 0
        for j in range(g.shape[1]):
            x = g[v, j]
            if not np.isnan(x):
                total += x
                called += 1
        p = total / (2 * called) if called > 0 else 0.0
        sd = np.sqrt(2 * p * (1 - p))
        for j in range(g.shape[1]):
            x = g[v, j]
            z[v, j] = 0.0 if sd == 0 or np.isnan(x) else (x - 2 * p) / sd


def standardise(dosages: np.ndarray) -> np.ndarray:
    """(variants, samples) -> (x - 2p) / sqrt(2p(1-p)) per variant, missing as 0 (plink2 --pca's scaling).
    One pass per variant in a compiled kernel (the array expression took five passes and three copies)."""
    g = np.ascontiguousarray(dosages, dtype=np.float64)
    if g.ndim != 2:
        raise ValueError("standardise takes a (variants, samples) matrix")
    z = np.empty_like(g)
    _standardise_kernel(g, z)
    return z


def prune_ld(
    blocks: Iterator[tuple[int, np.ndarray, np.ndarray]], *, r2: float = 0.2, window: int = 50, max_keep: int = 5000
) -> np.ndarray:
    """Greedy LD pruning: walking each contig in order, keep a variant if its r^2 with
    each of the last ``window`` kept variants is below ``r2``. ``blocks`` yields
    (first variant, contig codes, standardised dosages of candidates) in order; the
    kept variant numbers are returned (at most ``max_keep``, evenly thinned)."""
    kept: list[int] = []
    recent: np.ndarray | None = None  # ring buffer of the last ``window`` kept rows
    norms = np.zeros(window)
    count = slot = 0
    recent_contig = None
    for first, contigs, z in blocks:
        if recent is None or recent.shape[1] != z.shape[1]:
            recent = np.zeros((window, z.shape[1]))
        sums = np.einsum("ij,ij->i", z, z)
        for i in range(z.shape[0]):
            if recent_contig is None or contigs[i] != recent_contig:
                count = slot = 0
                recent_contig = contigs[i]
            ss = sums[i]
            if ss == 0:
                continue
            row = z[i]
            if count:
                r = recent[:count] @ row
                if np.any(r * r >= r2 * norms[:count] * ss):
                    continue
            kept.append(first + i)
            recent[slot] = row
            norms[slot] = ss
            slot = (slot + 1) % window
            count = min(count + 1, window)
    out = np.array(kept, dtype=np.int64)
    if out.size > max_keep:
        out = out[np.linspace(0, out.size - 1, max_keep).round().astype(np.int64)]
    return out


def principal_components(
    standardised_blocks: Callable[[], Iterator[np.ndarray]],
    n_samples: int,
    k: int,
    *,
    oversample: int = 10,
    power: int = 4,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` principal components (samples, k) and eigenvalues of the GRM Z'Z / M, where the
    standardised matrix Z (variants, samples) is read block by block from ``standardised_blocks()``
    (called once per pass) by randomised subspace iteration (Halko et al. 2011)."""
    rng = np.random.default_rng(seed)
    width = min(n_samples, k + oversample)
    q = rng.standard_normal((n_samples, width))
    m_total = 0
    for _ in range(power + 1):
        q, _ = np.linalg.qr(q)
        y = np.zeros((n_samples, width))
        m_total = 0
        for z in standardised_blocks():
            y += z.T @ (z @ q)
            m_total += z.shape[0]
        q = y
    q, _ = np.linalg.qr(q)
    b = np.zeros((width, width))
    for z in standardised_blocks():
        zq = z @ q
        b += zq.T @ zq
    values, vectors = np.linalg.eigh(b)
    order = np.argsort(values)[::-1][:k]
    pcs = q @ vectors[:, order]
    return pcs, values[order] / max(1, m_total)
