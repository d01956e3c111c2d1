"""The genotype store of a release as the portal may read it: through the
release's sample mask, the usable participants' columns
(``participants.selectors.release_usable_samples``).

:func:`release_genotypes` is the one way cohorts (the compiler's carrier
lookups) and analyses reach genotypes. The store and the mask are opened once
per process and kept; the mask is keyed by the release's
``withdrawals_version``, so a withdrawal takes effect on the next request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from django.conf import settings

from genomics.store import GenotypeStore, GroupCounts, Region
from participants.models import DataRelease
from participants.selectors import release_usable_samples


@lru_cache(maxsize=8)
def _store(path: str) -> GenotypeStore:
    return GenotypeStore(path)


def genotype_store(release: DataRelease) -> GenotypeStore:
    """The release's store, unmasked: for what is not a read of genotypes
    (forgetting cached answers in benchmarks). Reads go through :func:`release_genotypes`."""
    return _store(str(Path(settings.DATA_ROOT) / release.store_path))


@dataclass(frozen=True)
class ReleaseGenotypes:
    """A release's genotype store with its sample mask. Every read here takes
    the mask; nothing of a withdrawn participant's columns is returned or counted."""

    store: GenotypeStore
    samples: np.ndarray  # the mask: usable participants' sample indices, sorted
    _keep: np.ndarray = field(repr=False)  # the same as one bool per store column

    def carriers(
        self,
        *,
        gene: str | None = None,
        region: Region | None = None,
        consequences: Sequence[str] | None = None,
        max_popaf: float | None = None,
        max_cohort_af: float | None = None,
        genotype: str = "any",
    ) -> set[int]:
        """Sample indices of usable participants carrying a variant that passes the filters."""
        found = self.store.carriers(
            gene=gene,
            region=region,
            consequences=consequences,
            max_popaf=max_popaf,
            max_cohort_af=max_cohort_af,
            genotype=genotype,
        )
        # The store takes no sample mask yet: its answer is kept to the mask here.
        return {i for i in found if self._keep[i]}

    def allele_counts(self, *, region: Region | None = None, gene: str | None = None) -> GroupCounts:
        """AC, AN, het and hom-alt counts per variant over the usable participants (one group, "usable")."""
        ids = self.store.sample_ids
        return self.store.allele_counts({"usable": [ids[i] for i in self.samples]}, region=region, gene=gene)


@lru_cache(maxsize=8)
def _genotypes(path: str, release_pk: int, ingested_at: float, withdrawals_version: int) -> ReleaseGenotypes:
    store = _store(path)
    release = DataRelease.objects.get(pk=release_pk)
    samples = release_usable_samples(release)
    keep = np.zeros(store.n_samples, dtype=bool)
    keep[samples] = True
    return ReleaseGenotypes(store, samples, keep)


def release_genotypes(release: DataRelease) -> ReleaseGenotypes:
    """``release``'s genotypes as its usable participants may be read now."""
    path = str(Path(settings.DATA_ROOT) / release.store_path)
    return _genotypes(path, release.pk, release.ingested_at.timestamp(), release.withdrawals_version)
