"""Loading a release's rows into the database: the one loader, used by ingest
(after validation and the genotype store), by the cohort count benchmark and
by tests.

The caller gives :class:`ReleaseRows`: the release's metadata and each
table's rows as mappings with the columns of the bundle's tables
(``participants.bundle.TABLES``), which may be generators. Everything is
written in the caller's transaction with COPY on PostgreSQL
(``participants.bulk``): the previous current release is superseded,
withdrawals since it are recorded and take effect in every earlier release
(``participants.withdrawals``: flaggers such as the saved cohorts' are
called there), the phenotype rollup and the per-value counts are built from
the usable participants (``participants.selectors.release_usable``, so a
withdrawal already in the register counts in the new release too), and the
load is audited with what was left out of the bundle's files.

What other apps do when a release arrives is not known here: an app
registers a callback with :func:`on_release_loaded` when it starts, and the
loader calls each one, in the same transaction, with what changed
(docs/adr/0007).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils import timezone

from audit.models import AuditAction
from audit.services import record
from participants import bundle as fmt
from participants import vocabularies as vocab
from participants.bulk import bulk_insert
from participants.marginals import consenting_by
from participants.models import DataRelease, Disease, Gene, Participant, Phenotype, Tumour, Withdrawal
from participants.ontology import phenotype_rollup_build
from participants.withdrawals import lock_register, withdrawals_take_effect

RELEASES_DIR = "releases"

Row = Mapping[str, Any]


def store_path_for(name: str) -> str:
    """Where release ``name``'s genotype store is, relative to DATA_ROOT."""
    return f"{RELEASES_DIR}/{name}/store"


@dataclass(frozen=True)
class ReleaseRows:
    """One release, ready to load: metadata, the genotype store's sample
    order, and rows per table (columns as in the bundle's files)."""

    name: str
    release_date: date
    genome_build: str
    format_version: int
    checksum: str
    sample_index: Mapping[str, int]
    participants: Iterable[Row]
    phenotypes: Iterable[Row] = ()
    diseases: Iterable[Row] = ()
    tumours: Iterable[Row] = ()
    genes: Iterable[Row] = ()
    store_path: str = ""  # default: store_path_for(name)
    extra_counts: Mapping[str, Any] = field(default_factory=dict)  # kept in release.counts beside the loader's own


@dataclass(frozen=True)
class ReleaseLoaded:
    """What a load changed, as callbacks and callers see it."""

    release: DataRelease
    previous: DataRelease | None
    withdrawn: tuple[str, ...]  # participant ids who consented in ``previous`` and no longer do


ReleaseCallback = Callable[[ReleaseLoaded], None]
_callbacks: list[ReleaseCallback] = []


def on_release_loaded(callback: ReleaseCallback) -> ReleaseCallback:
    """Have ``callback`` called, inside the load's transaction, after each
    release is loaded (an app's ``ready()`` registers it; registering twice
    is a no-op)."""
    if callback not in _callbacks:
        _callbacks.append(callback)
    return callback


def release_loaded_callbacks() -> tuple[ReleaseCallback, ...]:
    return tuple(_callbacks)


def rows_from_bundle(bundle: fmt.Bundle, *, name: str, checksum: str, sample_index: Mapping[str, int]) -> ReleaseRows:
    """The rows of a bundle read by ``participants.bundle.read_bundle``."""
    return ReleaseRows(
        name=name,
        release_date=bundle.release["date"],
        genome_build=bundle.release["genome_build"],
        format_version=bundle.release["format_version"],
        checksum=checksum,
        sample_index=sample_index,
        participants=bundle.rows[fmt.PARTICIPANTS],
        phenotypes=bundle.rows[fmt.PHENOTYPES],
        diseases=bundle.rows[fmt.DISEASES],
        tumours=bundle.rows[fmt.TUMOURS],
        genes=bundle.rows[fmt.GENES],
        extra_counts={"left_out": dict(bundle.left_out)},
    )


_PARTICIPANT_COLUMNS = tuple(fmt.TABLES[fmt.PARTICIPANTS].columns)


def _counted(rows: Iterable[Row], seen: Counter[str], consenting: set[str]) -> Iterator[tuple[Any, ...]]:
    for r in rows:
        seen["participants"] += 1
        seen[f"programme:{r['programme']}"] += 1
        if r["consent_status"] == vocab.CONSENTING:
            consenting.add(r["participant_id"])
        yield tuple(r[c] for c in _PARTICIPANT_COLUMNS)


def release_load(*, rows: ReleaseRows, by: Any = None) -> ReleaseLoaded:
    """Load ``rows`` as the current release (inside the caller's transaction)."""
    lock_register()
    previous = DataRelease.objects.select_for_update().filter(status=DataRelease.Status.CURRENT).first()
    if previous is not None:
        previous.status = DataRelease.Status.SUPERSEDED
        previous.save(update_fields=["status"])
    release = DataRelease.objects.create(
        name=rows.name,
        release_date=rows.release_date,
        genome_build=rows.genome_build,
        format_version=rows.format_version,
        previous=previous,
        ingested_at=timezone.now(),
        store_path=rows.store_path or store_path_for(rows.name),
        bundle_sha256=rows.checksum,
    )
    seen: Counter[str] = Counter()
    consenting: set[str] = set()
    index = rows.sample_index
    bulk_insert(
        Participant,
        ["release", *_PARTICIPANT_COLUMNS, "sample_index"],
        ((release.pk, *values, index.get(values[0])) for values in _counted(rows.participants, seen, consenting)),
    )
    pk = dict(Participant.objects.filter(release=release).values_list("participant_id", "pk"))
    phenotypes = bulk_insert(
        Phenotype,
        ["participant", "term", "observed"],
        ((pk[r["participant_id"]], r["hpo_id"], r["observed"]) for r in rows.phenotypes),
    )
    phenotype_rollup_build(release)
    diseases = bulk_insert(
        Disease,
        ["participant", "disease_group", "disease_subgroup", "specific_disease"],
        ((pk[r["participant_id"]], r["disease_group"], r["disease_subgroup"], r["specific_disease"])
         for r in rows.diseases),
    )  # fmt: skip
    tumours = bulk_insert(
        Tumour,
        ["participant", "tumour_sample_id", "disease_type", "stage", "sample_type", "diagnosis_month", "somatic_vcf"],
        ((pk[r["participant_id"]], r["tumour_sample_id"], r["disease_type"], r["stage"], r["sample_type"],
          r["diagnosis_month"], fmt.somatic_vcf(r["tumour_sample_id"])) for r in rows.tumours),
    )  # fmt: skip
    genes = bulk_insert(
        Gene,
        ["release", "symbol", "chrom", "start", "end", "strand"],
        ((release.pk, r["symbol"], r["chrom"], r["start"], r["end"], r["strand"]) for r in rows.genes),
    )
    withdrawn: list[str] = []
    if previous is not None:
        before = Participant.objects.filter(release=previous, consent_status=vocab.CONSENTING)
        withdrawn = sorted(set(before.values_list("participant_id", flat=True)) - consenting)
        withdrawals_take_effect(
            participant_ids=withdrawn,
            write=lambda: bulk_insert(Withdrawal, ["release", "participant_id"], ((release.pk, p) for p in withdrawn)),
        )
    programmes = {key.split(":", 1)[1]: n for key, n in seen.items() if key.startswith("programme:")}
    release.counts = {
        "participants": seen["participants"],
        "consenting": len(consenting),
        "programmes": programmes,
        "genomes": len(index),
        "phenotypes": phenotypes,
        "diseases": diseases,
        "tumours": tumours,
        "genes": genes,
        **rows.extra_counts,
        "withdrawn_since_previous": len(withdrawn),
        "consenting_by": consenting_by(release),
    }
    release.save(update_fields=["counts"])
    loaded = ReleaseLoaded(release=release, previous=previous, withdrawn=tuple(withdrawn))
    for callback in release_loaded_callbacks():
        callback(loaded)
    record(
        action=AuditAction.RELEASE_INGESTED,
        by=by,
        target=release,
        details={"previous": previous.name if previous else None, "counts": release.counts, "sha256": rows.checksum},
    )
    return loaded
