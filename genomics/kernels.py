"""Statistical kernels over genotype chunks (numpy + numba).

Every kernel takes one chunk, ``gt`` int8 (n_variants, n_samples, ploidy) with
negative values for missing alleles, and returns per-variant arrays, so memory
is bounded by the chunk. Results of several sample blocks of the same variants
add up (:meth:`AlleleCounts.__add__`).

Definitions follow bcftools ``+fill-tags`` for biallelic sites:

- ``ac``: alt alleles among called alleles (INFO/AC)
- ``an``: called alleles (INFO/AN)
- ``n_het``: samples with one alt and one ref allele (INFO/AC_Het)
- ``n_hom_alt``: samples with two alt alleles (INFO/AC_Hom is twice this)
- ``n_missing``: samples with at least one missing allele
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _count_kernel(gt, group, n_groups):  # pragma: no cover - compiled
    nv, ns, ploidy = gt.shape
    ac = np.zeros((nv, n_groups), dtype=np.int64)
    an = np.zeros((nv, n_groups), dtype=np.int64)
    het = np.zeros((nv, n_groups), dtype=np.int64)
    hom = np.zeros((nv, n_groups), dtype=np.int64)
    miss = np.zeros((nv, n_groups), dtype=np.int64)
    ref = np.zeros((nv, n_groups), dtype=np.int64)
    for v in range(nv):
        for s in range(ns):
            g = group[s]
            if g < 0:
                continue
            called = 0
            alt = 0
            for p in range(ploidy):
                a = gt[v, s, p]
                if a >= 0:
                    called += 1
                    if a > 0:
                        alt += 1
            an[v, g] += called
            ac[v, g] += alt
            if called < ploidy:
                miss[v, g] += 1
            elif alt == ploidy:
                hom[v, g] += 1
            elif alt > 0:
                het[v, g] += 1
            else:
                ref[v, g] += 1
    return ac, an, het, hom, ref, miss


@numba.njit(cache=True, nogil=True)
def _nonref_kernel(gt):  # pragma: no cover - compiled
    nv, ns, ploidy = gt.shape
    n = 0
    for v in range(nv):
        for s in range(ns):
            alt = 0
            missing = False
            for p in range(ploidy):
                a = gt[v, s, p]
                if a < 0:
                    missing = True
                elif a > 0:
                    alt += 1
            if alt > 0 and not missing:
                n += 1
    vi = np.empty(n, dtype=np.int64)
    si = np.empty(n, dtype=np.int32)
    g = np.empty(n, dtype=np.int8)
    k = 0
    for v in range(nv):
        for s in range(ns):
            alt = 0
            missing = False
            for p in range(ploidy):
                a = gt[v, s, p]
                if a < 0:
                    missing = True
                elif a > 0:
                    alt += 1
            if alt > 0 and not missing:
                vi[k] = v
                si[k] = s
                g[k] = alt
                k += 1
    return vi, si, g


def nonref_calls(gt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every complete non-reference call of a chunk, in (variant, sample) order.

    Returns (variant row, sample column, alt allele count) arrays; calls with a
    missing allele are left out.
    """
    return _nonref_kernel(np.ascontiguousarray(gt, dtype=np.int8))


@numba.njit(cache=True, nogil=True)
def _pack_kernel(gt, out):  # pragma: no cover - compiled
    nv, ns, _ = gt.shape
    for v in range(nv):
        for b in range(out.shape[1]):
            out[v, b] = 0
        for s in range(ns):
            a0 = gt[v, s, 0]
            a1 = gt[v, s, 1]
            if a1 == -2:  # haploid (the second allele is fill): as plink2 reads it, homozygous
                code = 1 if a0 < 0 else (3 if a0 == 0 else 0)
            elif a0 < 0 or a1 < 0:  # missing, or a half call
                code = 1
            else:
                n_alt = (a0 > 0) + (a1 > 0)
                code = 3 if n_alt == 0 else (2 if n_alt == 1 else 0)
            out[v, s >> 2] |= np.uint8(code << ((s & 3) * 2))


def chunk_summary(gt: np.ndarray) -> tuple[AlleleCounts, tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """What the converter keeps of every chunk: ``allele_counts_by_group(gt)``, ``nonref_calls(gt)``
    and ``pack_hard_calls(gt)``, equal to theirs, from one pass over a diploid chunk and a second over
    its packed bytes (the three functions read the chunk three times, the non-reference calls twice)."""
    gt8 = np.ascontiguousarray(gt, dtype=np.int8)
    diploid = gt8.ndim == 3 and gt8.shape[2] == 2
    if diploid:
        nv, ns, _ = gt8.shape
        tables = _call_tables()
        counts = np.empty((nv, 6), dtype=np.int64)
        packed = np.empty((nv, (ns + 3) // 4), dtype=np.uint8)
        n = _summary_kernel(gt8, tables, counts, packed)
    if not diploid or n < 0:  # another ploidy, or an allele beyond ALT: the general kernels
        return allele_counts_by_group(gt8), nonref_calls(gt8), pack_hard_calls(gt8)
    vi, si, g = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int8)
    _nonref_from_packed(gt8, tables, packed, vi, si, g)
    ac, an, het, hom, ref, miss = (np.ascontiguousarray(counts[:, i : i + 1]) for i in range(6))
    return AlleleCounts(ac, an, het, hom, ref, miss), (vi, si, g), packed


def pack_hard_calls(gt: np.ndarray) -> np.ndarray:
    """Hard calls in the PLINK 1 .bed encoding (SNP-major), one row per variant.

    With A1 = ALT: 0b00 hom ALT, 0b10 het, 0b11 hom REF, 0b01 missing; four
    samples to a byte, the first in the low bits, the last byte padded with
    zero bits. A haploid call (second allele the fill value -2) counts as
    homozygous and a half call (one allele missing) as missing, as
    ``plink2 --vcf X --vcf-half-call missing --make-bed`` writes them.
    """
    gt8 = np.ascontiguousarray(gt, dtype=np.int8)
    out = np.empty((gt8.shape[0], (gt8.shape[1] + 3) // 4), dtype=np.uint8)
    _pack_kernel(gt8, out)
    return out


@cache
def _call_tables() -> np.ndarray:
    """Per diploid call, indexed by ``((a0 & 3) << 2) | (a1 & 3)`` (allele 0, 1, -2 fill, -1 missing):
    rows .bed code, ALT alleles, called alleles, class (0 hom REF, 1 het, 2 hom ALT, 3 missing), read off
    :func:`_count_kernel` and :func:`_pack_kernel` run on the 16 calls, so the rules have one source."""
    allele = np.array([0, 1, -2, -1], dtype=np.int8)  # by the allele's low two bits
    index = np.arange(16)
    calls = np.stack([allele[index >> 2], allele[index & 3]], axis=1)[:, None, :]  # 16 variants, 1 sample
    counts = allele_counts_by_group(calls)
    code = (pack_hard_calls(calls)[:, 0] & 0b11).astype(np.int64)
    klass = np.select([counts.n_hom_ref[:, 0] == 1, counts.n_het[:, 0] == 1, counts.n_hom_alt[:, 0] == 1], [0, 1, 2], 3)
    return np.stack([code, counts.ac[:, 0], counts.an[:, 0], klass]).astype(np.int64)


@numba.njit(cache=True, nogil=True)
def _summary_kernel(gt, tables, counts, packed):  # pragma: no cover - compiled
    """One pass over a diploid chunk: the counts of :func:`_count_kernel` (one group) and the codes of
    :func:`_pack_kernel`, by table lookup; returns the number of complete non-reference calls, or -1
    for an allele outside -2..1 (the caller then uses the general kernels)."""
    nv, ns, _ = gt.shape
    code_t, alt_t, called_t, class_t = tables[0], tables[1], tables[2], tables[3]
    n_nonref = 0
    klass = np.zeros(4, dtype=np.int64)
    for v in range(nv):
        ac = 0
        an = 0
        klass[:] = 0
        byte = 0
        for s in range(ns):
            a0 = gt[v, s, 0]
            a1 = gt[v, s, 1]
            if a0 > 1 or a1 > 1 or a0 < -2 or a1 < -2:
                return -1
            i = ((a0 & 3) << 2) | (a1 & 3)
            ac += alt_t[i]
            an += called_t[i]
            klass[class_t[i]] += 1
            byte |= code_t[i] << ((s & 3) * 2)
            if (s & 3) == 3:
                packed[v, s >> 2] = byte
                byte = 0
        if ns & 3:
            packed[v, ns >> 2] = byte
        counts[v, 0] = ac
        counts[v, 1] = an
        counts[v, 2] = klass[1]
        counts[v, 3] = klass[2]
        counts[v, 4] = klass[0]
        counts[v, 5] = klass[3]
        n_nonref += klass[1] + klass[2]
    return n_nonref


@numba.njit(cache=True, nogil=True)
def _nonref_from_packed(gt, tables, packed, vi, si, g):  # pragma: no cover - compiled
    """Fill the complete non-reference calls (class het or hom ALT in ``tables``) in (variant, sample)
    order, reading only the samples of packed bytes that hold a code other than hom REF or missing."""
    nv, ns, _ = gt.shape
    alt_t, class_t = tables[1], tables[3]
    k = 0
    for v in range(nv):
        for b in range(packed.shape[1]):
            if (packed[v, b] & 0x55) == 0x55:  # every code has its low bit set: 0b11 hom REF or 0b01 missing
                continue
            for s in range(b * 4, min(b * 4 + 4, ns)):
                i = ((gt[v, s, 0] & 3) << 2) | (gt[v, s, 1] & 3)
                if class_t[i] == 1 or class_t[i] == 2:
                    vi[k] = v
                    si[k] = s
                    g[k] = alt_t[i]
                    k += 1
    return k


@dataclass(slots=True)
class AlleleCounts:
    """Per-variant, per-group counts; every array is (n_variants, n_groups)."""

    ac: np.ndarray
    an: np.ndarray
    n_het: np.ndarray
    n_hom_alt: np.ndarray
    n_hom_ref: np.ndarray
    n_missing: np.ndarray

    def __add__(self, other: AlleleCounts) -> AlleleCounts:
        return AlleleCounts(
            self.ac + other.ac,
            self.an + other.an,
            self.n_het + other.n_het,
            self.n_hom_alt + other.n_hom_alt,
            self.n_hom_ref + other.n_hom_ref,
            self.n_missing + other.n_missing,
        )

    @property
    def n_called(self) -> np.ndarray:
        """Samples with a complete genotype call."""
        return self.n_het + self.n_hom_alt + self.n_hom_ref

    @property
    def af(self) -> np.ndarray:
        """Alt allele frequency ac / an (NaN where nothing was called)."""
        return allele_frequency(self.ac, self.an)

    def group(self, g: int) -> AlleleCounts:
        """Counts of one group as (n_variants, 1) arrays."""
        sl = slice(g, g + 1)
        return AlleleCounts(
            self.ac[:, sl],
            self.an[:, sl],
            self.n_het[:, sl],
            self.n_hom_alt[:, sl],
            self.n_hom_ref[:, sl],
            self.n_missing[:, sl],
        )

    def take(self, rows: np.ndarray) -> AlleleCounts:
        """Counts restricted to the given variant rows."""
        return AlleleCounts(
            self.ac[rows],
            self.an[rows],
            self.n_het[rows],
            self.n_hom_alt[rows],
            self.n_hom_ref[rows],
            self.n_missing[rows],
        )

    @classmethod
    def concatenate(cls, parts: Sequence[AlleleCounts], n_groups: int) -> AlleleCounts:
        """Stack counts of consecutive variant chunks."""
        if not parts:
            empty = np.zeros((0, n_groups), dtype=np.int64)
            return cls(empty, empty, empty, empty, empty, empty)
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__slots__))  # type: ignore[attr-defined]


def allele_counts_by_group(
    gt: np.ndarray, group: np.ndarray | None = None, n_groups: int | None = None
) -> AlleleCounts:
    """Allele and genotype counts per variant for each group of samples.

    ``group[s]`` is the group number (0..n_groups-1) of sample column ``s``, or
    -1 to leave the sample out. Without ``group`` all samples form group 0.
    """
    if gt.ndim != 3:
        raise ValueError("gt must be (n_variants, n_samples, ploidy)")
    n_samples = gt.shape[1]
    if group is None:
        group = np.zeros(n_samples, dtype=np.int64)
        n_groups = 1
    group = np.ascontiguousarray(group, dtype=np.int64)
    if group.shape != (n_samples,):
        raise ValueError("group must have one entry per sample column")
    if n_groups is None:
        n_groups = int(group.max()) + 1 if len(group) else 0
    gt8 = np.ascontiguousarray(gt, dtype=np.int8)
    ac, an, het, hom, ref, miss = _count_kernel(gt8, group, n_groups)
    return AlleleCounts(ac, an, het, hom, ref, miss)


def allele_frequency(ac: np.ndarray, an: np.ndarray) -> np.ndarray:
    """ac / an as float64, NaN where an == 0."""
    ac = np.asarray(ac, dtype=np.float64)
    an = np.asarray(an, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(an > 0, ac / np.where(an > 0, an, 1), np.nan)


def group_index(sample_ids: Sequence[str], groups: dict[str, Sequence[str]]) -> tuple[np.ndarray, list[str]]:
    """Map named groups of sample ids onto sample columns.

    Returns (group number per column, -1 if in no group; group names in order).
    A sample may belong to one group only; unknown ids raise ``KeyError``.
    """
    position = {s: i for i, s in enumerate(sample_ids)}
    out = np.full(len(sample_ids), -1, dtype=np.int64)
    names = list(groups)
    for g, name in enumerate(names):
        for sid in groups[name]:
            try:
                i = position[sid]
            except KeyError:
                raise KeyError(f"sample {sid!r} of group {name!r} is not in the store") from None
            if out[i] >= 0:
                raise ValueError(f"sample {sid!r} is in more than one group")
            out[i] = g
    return out, names


def variant_missingness(gt: np.ndarray) -> np.ndarray:
    """Per variant: number of samples with at least one missing allele."""
    return (gt < 0).any(axis=-1).sum(axis=1)


def sample_missingness(gt: np.ndarray) -> np.ndarray:
    """Per sample: number of variants (in this chunk) with a missing call."""
    return (gt < 0).any(axis=-1).sum(axis=0)


def alt_allele_count(gt: np.ndarray) -> np.ndarray:
    """Per call: number of alt alleles (0, 1, 2), -1 if any allele is missing."""
    alt = (gt > 0).sum(axis=-1, dtype=np.int8)
    return np.where((gt < 0).any(axis=-1), np.int8(-1), alt)
