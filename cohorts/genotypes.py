"""The genotype store of a release as the portal may read it: through the
release's sample mask, the usable participants' columns
(``participants.selectors.release_usable_samples``).

:func:`release_genotypes` is the one way cohorts (the compiler's carrier
lookups) and analyses reach genotypes. The store and the mask are opened once
per process and kept; the mask is keyed by the release's
``withdrawals_version``, so a withdrawal takes effect on the next request.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from django.conf import settings

from genomics.mask import SampleMask
from genomics.store import GenotypeChunk, GenotypeStore, GroupCounts, Region, export_plink
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
    """A release's genotype store with its sample mask. Every read here passes
    the mask to the store, which applies it inside its kernels and queries:
    nothing of a withdrawn participant's columns is read, returned or counted."""

    store: GenotypeStore
    mask: SampleMask  # the usable participants' columns

    @property
    def samples(self) -> np.ndarray:
        """The usable participants' sample indices, sorted."""
        return self.mask.indices

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
        return self.store.carriers(
            mask=self.mask,
            gene=gene,
            region=region,
            consequences=consequences,
            max_popaf=max_popaf,
            max_cohort_af=max_cohort_af,
            genotype=genotype,
        )

    def allele_counts(self, *, region: Region | None = None, gene: str | None = None) -> GroupCounts:
        """AC, AN, het and hom-alt counts per variant over the usable participants (one group, "usable")."""
        return self.store.allele_counts({"usable": self.store.sample_ids}, mask=self.mask, region=region, gene=gene)

    def iter_chunks(
        self,
        *,
        region: Region | None = None,
        gene: str | None = None,
        samples: Sequence[str] | None = None,
        fields: Sequence[str] = ("GT",),
    ) -> Iterator[GenotypeChunk]:
        """Genotype chunks of the usable participants (``samples``: some of them)."""
        return self.store.iter_chunks(mask=self.mask, region=region, gene=gene, samples=samples, fields=fields)

    def genotype_matrix(
        self, *, region: Region | None = None, gene: str | None = None, samples: Sequence[str] | None = None
    ) -> np.ndarray:
        return self.store.genotype_matrix(mask=self.mask, region=region, gene=gene, samples=samples)

    def export_plink(self, out_prefix: str | Path, *, region: Region | None = None, gene: str | None = None) -> Path:
        """PLINK 1 bed/bim/fam of the usable participants for the selection."""
        return export_plink(self.store, out_prefix, mask=self.mask, region=region, gene=gene)


@lru_cache(maxsize=8)
def _genotypes(path: str, release_pk: int, ingested_at: float, withdrawals_version: int) -> ReleaseGenotypes:
    store = _store(path)
    release = DataRelease.objects.get(pk=release_pk)
    return ReleaseGenotypes(store, SampleMask.of_indices(store.n_samples, release_usable_samples(release)))


def release_genotypes(release: DataRelease) -> ReleaseGenotypes:
    """``release``'s genotypes as its usable participants may be read now."""
    path = str(Path(settings.DATA_ROOT) / release.store_path)
    return _genotypes(path, release.pk, release.ingested_at.timestamp(), release.withdrawals_version)
