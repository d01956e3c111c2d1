"""The one place analysis jobs read genotypes: a thin layer over
``genomics.store.GenotypeStore``. Switching the read path (e.g. to the packed
2-bit matrix and its kernels, or passing the store's sample mask) changes
this module only.

Samples are given as store column numbers (``sample_index`` of the members
that ``cohorts.services.cohort_members_for_job`` returns); this module never
decides who may be used: every read takes the release's sample mask
(:func:`release_mask`, the usable participants now), which the store applies
inside its kernels.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from genomics.bed import BedError, PackedGenotypes
from genomics.kernels import AlleleCounts
from genomics.mask import SampleMask
from genomics.store import GenotypeStore, Region, StoreError, parse_region

__all__ = [
    "CohortCounts",
    "Region",
    "SampleMask",
    "StoreError",
    "counts_by_cohort",
    "packed_for",
    "parse_region",
    "release_mask",
    "store_for",
    "variants",
]

_packed: dict[Path, PackedGenotypes] = {}
_lock = threading.Lock()


def store_for(release) -> GenotypeStore:
    """The genotype store of a release: the one the cohort builder opened for this process
    (``cohorts.genotypes.genotype_store``), so its cached answers serve both."""
    from cohorts.genotypes import genotype_store

    return genotype_store(release)


def release_mask(release) -> SampleMask:
    """The columns of ``release``'s usable participants now (``cohorts.genotypes``)."""
    from cohorts.genotypes import release_genotypes

    return release_genotypes(release).mask


def packed_for(release) -> PackedGenotypes:
    """The release's packed genotype matrix (``GenotypeStore.packed_prefix``, opened once per
    process). Its columns are the store's; readers choose samples by mask (:func:`release_mask`)."""
    store = store_for(release)
    prefix = store.packed_prefix
    with _lock:
        packed = _packed.get(prefix)
        if packed is None:
            try:
                packed = PackedGenotypes(prefix)
            except BedError as error:
                raise StoreError(str(error)) from None
            if packed.n_samples != store.n_samples or packed.n_variants != store.n_variants:
                raise StoreError(f"{prefix} does not hold the store's samples and variants")
            _packed[prefix] = packed
        return packed


def variants(store: GenotypeStore, *, gene: str | None = None, region: Region | None = None) -> pa.Table:
    """Annotation of the selected variants: variant_index, contig, position, ref, alt, gene, csq, popaf."""
    return store.variants(gene=gene or None, region=region)


def variant_count(store: GenotypeStore, *, gene: str | None = None, region: Region | None = None) -> int:
    return len(store.variant_indices(gene=gene or None, region=region))


@dataclass(frozen=True)
class CohortCounts:
    """Raw allele and genotype counts of each cohort over the same variants."""

    variant_index: np.ndarray
    by_cohort: dict[str, AlleleCounts]


def counts_by_cohort(
    store: GenotypeStore,
    cohorts: Mapping[str, Sequence[int]],
    *,
    mask: SampleMask,
    gene: str | None = None,
    region: Region | None = None,
) -> CohortCounts:
    """AC, AN, het, hom-alt, hom-ref and missing counts per variant for each cohort.

    A member outside ``mask`` is skipped by the store's counting kernel.

    Cohorts may overlap: the samples are split into classes by the set of
    cohorts they belong to, counted in one pass over the genotypes, and each
    cohort's counts are the sum of its classes.
    """
    names = list(cohorts)
    membership: dict[int, set[int]] = {}
    for c, name in enumerate(names):
        for s in cohorts[name]:
            membership.setdefault(int(s), set()).add(c)
    signatures: dict[frozenset[int], int] = {}
    groups: dict[str, list[str]] = {}
    ids = store.sample_ids
    for s, member_of in sorted(membership.items()):
        key = frozenset(member_of)
        g = signatures.setdefault(key, len(signatures))
        groups.setdefault(str(g), []).append(ids[s])
    if not groups:  # nobody with a genome: every count is zero
        idx = store.variant_indices(gene=gene or None, region=region)
        zero = np.zeros((len(idx), 1), dtype=np.int64)
        return CohortCounts(idx, {name: AlleleCounts(zero, zero, zero, zero, zero, zero) for name in names})
    counted = store.allele_counts(groups, mask=mask, gene=gene or None, region=region)
    # classes x cohorts: which class adds to which cohort
    matrix = np.zeros((len(signatures), len(names)), dtype=np.int64)
    for key, g in signatures.items():
        for c in key:
            matrix[g, c] = 1
    order = [int(name) for name in counted.groups]
    matrix = matrix[order]
    totals = counted.counts
    by_cohort = {}
    for c, name in enumerate(names):
        column = matrix[:, c : c + 1]
        by_cohort[name] = AlleleCounts(
            totals.ac @ column,
            totals.an @ column,
            totals.n_het @ column,
            totals.n_hom_alt @ column,
            totals.n_hom_ref @ column,
            totals.n_missing @ column,
        )
    return CohortCounts(counted.variant_index, by_cohort)
