"""Which samples of a genotype store a read may see.

Every genotype read of :class:`genomics.store.GenotypeStore` takes a
:class:`SampleMask`. The portal builds one from the usable participants of a
release (``participants.selectors.release_usable_samples``); ingest and
administration use :meth:`SampleMask.every_sample`, said out loud. A sample
outside the mask is skipped where genotypes are read and counted (the numba
kernels, the DuckDB carrier query, the Zarr column selection), never filtered
out of an answer afterwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class SampleMask:
    """One bool per store sample column: True where a read may see the sample.

    ``key`` identifies the mask's contents (cached answers are keyed by it).
    """

    keep: np.ndarray
    key: str = field(init=False)

    def __post_init__(self) -> None:
        keep = np.ascontiguousarray(self.keep, dtype=bool)
        keep.setflags(write=False)
        object.__setattr__(self, "keep", keep)
        digest = hashlib.sha256(np.packbits(keep).tobytes() + len(keep).to_bytes(8, "little")).hexdigest()
        object.__setattr__(self, "key", digest[:32])

    @classmethod
    def every_sample(cls, n_samples: int) -> SampleMask:
        """Every column: for ingest and administration, never for what researchers read."""
        return cls(np.ones(n_samples, dtype=bool))

    @classmethod
    def of_indices(cls, n_samples: int, indices: Iterable[int]) -> SampleMask:
        """The columns numbered ``indices`` (store-wide sample numbers)."""
        keep = np.zeros(n_samples, dtype=bool)
        idx = np.fromiter((int(i) for i in indices), dtype=np.int64)
        if len(idx) and (idx.min() < 0 or idx.max() >= n_samples):
            raise IndexError(f"sample numbers outside 0..{n_samples - 1}")
        keep[idx] = True
        return cls(keep)

    @property
    def n_samples(self) -> int:
        """Columns of the store the mask is for."""
        return len(self.keep)

    @property
    def indices(self) -> np.ndarray:
        """The sample numbers the mask lets through, ascending."""
        return np.flatnonzero(self.keep)

    @property
    def n_kept(self) -> int:
        return int(self.keep.sum())

    @property
    def is_everything(self) -> bool:
        return bool(self.keep.all())

    def __contains__(self, sample: object) -> bool:
        return isinstance(sample, int | np.integer) and 0 <= int(sample) < len(self.keep) and bool(self.keep[sample])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SampleMask) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)
