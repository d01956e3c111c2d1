"""The analysis-ready genotype matrix of a release: a PLINK 1 binary fileset
(``genotypes.bed``/``.bim``/``.fam``), read with numba kernels over the packed bytes.

Encoding (PLINK 1 .bed, variant-major, A1 = ALT, A2 = REF): each variant is
``ceil(n_samples / 4)`` bytes, sample ``s`` in bits ``2*(s % 4)`` of byte
``s // 4``: ``00`` hom ALT, ``10`` het, ``11`` hom REF, ``01`` missing.

Samples are always chosen by a mask (a bool array over the store's columns or
an array of column numbers): the columns of a withdrawn participant are never
in one (``participants.selectors.release_usable``, ``cohorts.genotypes``), so
their genotypes never reach a count or a dosage.

- :meth:`PackedGenotypes.group_counts`: hom-ref, het, hom-alt and missing
  counts per variant for several groups at once, with popcounts over 64-bit
  words (Chang et al. 2015, GigaScience 4:7): per word, three bit planes
  (hom-ref, het, missing) ANDed with each group's mask and counted;
- :meth:`PackedGenotypes.dosages`: ALT dosages of a sample subset over a
  variant block, float (NaN missing) or int8 (-1 missing).

Both work in variant blocks whose size is bounded in bytes, so memory does
not grow with the number of variants, and run in parallel threads without
the GIL.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator, Sequence
from pathlib import Path

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic

MAGIC = bytes([0x6C, 0x1B, 0x01])
HOM_REF, HET, HOM_ALT, MISSING = 0, 1, 2, 3
COUNT_NAMES = ("hom_ref", "het", "hom_alt", "missing")
BLOCK_BYTES = 64 * 1024 * 1024  # at most this much decoded output per block
_LOW = np.uint64(0x5555555555555555)


class BedError(Exception):
    """A packed fileset that cannot be read."""


@intrinsic
def _popcount(typingctx, x):  # pragma: no cover - compiled
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return sig, codegen


@numba.njit(cache=True, nogil=True, parallel=True)
def _group_counts_kernel(bed, v0, v1, bpv, masks, sizes):  # pragma: no cover - compiled
    n_groups, n_words = masks.shape
    nv = v1 - v0
    out = np.zeros((nv, n_groups, 4), dtype=np.int64)
    low = np.uint64(0x5555555555555555)
    one = np.uint64(1)
    per = 64  # variants per task: one aligned word buffer each
    for task in numba.prange((nv + per - 1) // per):
        buf8 = np.zeros(n_words * 8, dtype=np.uint8)
        buf = buf8.view(np.uint64)
        for i in range(task * per, min(nv, (task + 1) * per)):
            start = 3 + (v0 + i) * bpv
            buf8[:bpv] = bed[start : start + bpv]
            for g in range(n_groups):
                hom_ref = 0
                lo_ct = 0
                hi_ct = 0
                for w in range(n_words):
                    x = buf[w]
                    m = masks[g, w]
                    lo = x & low & m
                    hi = (x >> one) & low & m
                    hom_ref += _popcount(lo & hi)  # type: ignore[call-arg]  # a numba intrinsic
                    lo_ct += _popcount(lo)
                    hi_ct += _popcount(hi)
                het = hi_ct - hom_ref
                missing = lo_ct - hom_ref
                out[i, g, 0] = hom_ref
                out[i, g, 1] = het
                out[i, g, 3] = missing
                out[i, g, 2] = sizes[g] - hom_ref - het - missing
    return out


@numba.njit(cache=True, nogil=True, parallel=True)
def _dosage_int8_kernel(bed, v0, v1, bpv, samples, out):  # pragma: no cover - compiled
    table = np.array([2, -1, 1, 0], dtype=np.int8)
    for i in numba.prange(v1 - v0):
        start = 3 + (v0 + i) * bpv
        for j in range(samples.shape[0]):
            s = samples[j]
            out[i, j] = table[(bed[start + (s >> 2)] >> ((s & 3) * 2)) & 3]


@numba.njit(cache=True, nogil=True, parallel=True)
def _dosage_float_kernel(bed, rows, bpv, samples, out):  # pragma: no cover - compiled (rows: variant numbers)
    table = np.array([2.0, np.nan, 1.0, 0.0])
    for i in numba.prange(rows.shape[0]):
        start = 3 + rows[i] * bpv
        for j in range(samples.shape[0]):
            s = samples[j]
            out[i, j] = table[(bed[start + (s >> 2)] >> ((s & 3) * 2)) & 3]


def sample_index(mask: np.ndarray | Sequence[int], n_samples: int) -> np.ndarray:
    """Column numbers (sorted, int64) of a bool mask over the columns or of an index array."""
    array = np.asarray(mask)
    if array.dtype == bool:
        if array.shape != (n_samples,):
            raise ValueError(f"a bool sample mask needs {n_samples} values, not {array.shape}")
        return np.flatnonzero(array).astype(np.int64)
    index = np.unique(array.astype(np.int64))
    if index.size and (index[0] < 0 or index[-1] >= n_samples):
        raise ValueError("sample index out of range")
    return index


def group_masks(groups: Sequence[np.ndarray | Sequence[int]], n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group, its members as 64-bit words of the packed layout (the low bit of
    each member's 2-bit slot set), and its size."""
    n_words = -(-n_samples // 32)
    masks = np.zeros((len(groups), n_words), dtype=np.uint64)
    sizes = np.zeros(len(groups), dtype=np.int64)
    for g, members in enumerate(groups):
        index = sample_index(members, n_samples)
        sizes[g] = index.size
        bits = np.zeros(n_words * 32, dtype=np.uint64)
        bits[index] = 1
        shifts = (np.arange(32, dtype=np.uint64) * np.uint64(2))[None, :]
        masks[g] = (bits.reshape(n_words, 32) << shifts).sum(axis=1, dtype=np.uint64)
    return masks, sizes


class PackedGenotypes:
    """A PLINK 1 binary fileset, memory-mapped. ``prefix`` names the three files without extension."""

    def __init__(self, prefix: str | Path) -> None:
        self.prefix = Path(prefix)
        bed, bim, fam = (Path(f"{self.prefix}.{ext}") for ext in ("bed", "bim", "fam"))
        for path in (bed, bim, fam):
            if not path.exists():
                raise BedError(f"{path} is missing")
        with open(fam, "rb") as f:
            self.n_samples = sum(1 for line in f if line.strip())
        with open(bim, "rb") as f:
            self.n_variants = sum(1 for line in f if line.strip())
        self.bytes_per_variant = -(-self.n_samples // 4)
        expected = 3 + self.n_variants * self.bytes_per_variant
        size = bed.stat().st_size
        if size != expected:
            raise BedError(
                f"{bed} holds {size} bytes; {self.n_variants} variants x {self.n_samples} samples need {expected}"
            )
        with open(bed, "rb") as f:
            if f.read(3) != MAGIC:
                raise BedError(f"{bed} is not a variant-major PLINK 1 .bed file")
            self._mmap = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        self._bytes = (
            np.frombuffer(self._mmap, dtype=np.uint8) if self._mmap is not None else np.zeros(3, dtype=np.uint8)
        )

    def sample_ids(self) -> list[str]:
        with open(f"{self.prefix}.fam") as f:
            return [line.split()[1] for line in f if line.strip()]

    def _bounds(self, start: int, stop: int | None) -> tuple[int, int]:
        stop = self.n_variants if stop is None else stop
        if not 0 <= start <= stop <= self.n_variants:
            raise ValueError(f"variants {start}:{stop} are not within 0:{self.n_variants}")
        return start, stop

    def blocks(self, start: int = 0, stop: int | None = None, *, row_bytes: int) -> Iterator[tuple[int, int]]:
        """Variant blocks of [start, stop) whose decoded output (``row_bytes`` a variant) stays under BLOCK_BYTES."""
        start, stop = self._bounds(start, stop)
        step = max(1, BLOCK_BYTES // max(1, row_bytes))
        for a in range(start, stop, step):
            yield a, min(stop, a + step)

    def group_counts(
        self, groups: Sequence[np.ndarray | Sequence[int]], start: int = 0, stop: int | None = None
    ) -> np.ndarray:
        """(variants, groups, 4) int64: hom-ref, het, hom-alt, missing of each group's members per variant."""
        start, stop = self._bounds(start, stop)
        masks, sizes = group_masks(groups, self.n_samples)
        out = np.zeros((stop - start, len(groups), 4), dtype=np.int64)
        if not len(groups) or stop == start:
            return out
        for a, b in self.blocks(start, stop, row_bytes=self.bytes_per_variant + 32 * len(groups)):
            out[a - start : b - start] = _group_counts_kernel(self._bytes, a, b, self.bytes_per_variant, masks, sizes)
        return out

    def dosages(
        self,
        samples: np.ndarray | Sequence[int],
        start: int = 0,
        stop: int | None = None,
        *,
        dtype: type = np.float64,
    ) -> np.ndarray:
        """(variants, samples) ALT dosages of the samples (a mask or column numbers, in column order):
        float with NaN for a missing call, or int8 with -1."""
        start, stop = self._bounds(start, stop)
        index = sample_index(samples, self.n_samples)
        if dtype == np.int8:
            out = np.empty((stop - start, index.size), dtype=np.int8)
            _dosage_int8_kernel(self._bytes, start, stop, self.bytes_per_variant, index, out)
        else:
            out = np.empty((stop - start, index.size), dtype=np.float64)
            _dosage_float_kernel(self._bytes, np.arange(start, stop), self.bytes_per_variant, index, out)
            if dtype != np.float64:
                out = out.astype(dtype)
        return out

    def dosages_at(self, samples: np.ndarray | Sequence[int], variants: np.ndarray | Sequence[int]) -> np.ndarray:
        """(len(variants), samples) float ALT dosages (NaN for a missing call) of chosen variants, in the
        order given, read in one pass however scattered they are."""
        rows = np.asarray(variants, dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= self.n_variants):
            raise ValueError("variant index out of range")
        index = sample_index(samples, self.n_samples)
        out = np.empty((rows.size, index.size), dtype=np.float64)
        if rows.size:
            _dosage_float_kernel(self._bytes, rows, self.bytes_per_variant, index, out)
        return out

    def dosage_blocks(
        self, samples: np.ndarray | Sequence[int], start: int = 0, stop: int | None = None, *, dtype: type = np.float64
    ) -> Iterator[tuple[int, np.ndarray]]:
        """(first variant, dosages) over [start, stop) in blocks bounded in bytes."""
        index = sample_index(samples, self.n_samples)
        width = index.size * np.dtype(dtype).itemsize
        for a, b in self.blocks(start, stop, row_bytes=width):
            yield a, self.dosages(index, a, b, dtype=dtype)

    def close(self) -> None:
        if self._mmap is not None:
            self._bytes = np.zeros(3, dtype=np.uint8)
            self._mmap.close()
            self._mmap = None
