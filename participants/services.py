"""Ingesting a data release: validate everything, then build the genotype
store and load the rows in one transaction. A refused or failed ingest leaves
the database and DATA_ROOT as they were."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from audit.models import AuditAction, AuditOutcome
from audit.services import record
from genomics.store import GenotypeStore, import_vcf
from genomics.validate import Problem
from genomics.vcfzarr import DEFAULT_THREADS
from participants import bundle as fmt
from participants.bulk import bulk_insert
from participants.models import (
    DataRelease,
    Disease,
    Gene,
    HpoTerm,
    Participant,
    Phenotype,
    Tumour,
    Withdrawal,
)
from participants.ontology import phenotype_rollup_build
from participants.selectors import release_consenting

BATCH = 5000
RELEASES_DIR = "releases"


class ReleaseRefused(Exception):
    """The bundle cannot be ingested; ``problems`` says every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the release bundle")


@dataclass(frozen=True)
class IngestResult:
    release: DataRelease
    withdrawn_since_previous: int


def release_dir(name: str) -> Path:
    return Path(settings.DATA_ROOT) / RELEASES_DIR / name


def _refuse(problems: list[Problem], *, name: str, by: Any) -> ReleaseRefused:
    record(
        action=AuditAction.RELEASE_REJECTED,
        by=by,
        target_type="participants.datarelease",
        target_id=name,
        outcome=AuditOutcome.FAILURE,
        details={"problems": len(problems), "codes": sorted({p.code for p in problems})},
    )
    return ReleaseRefused(problems)


def release_ingest(
    *, bundle_path: str | Path, name: str, by: Any = None, workers: int = DEFAULT_THREADS
) -> IngestResult:
    """Validate the bundle at ``bundle_path`` and load it as release ``name``.

    ``workers`` threads parse and write the genotype store.
    """
    bundle_path = Path(bundle_path)
    problems: list[Problem] = []
    if not fmt.ID_PATTERN.match(name):
        problems.append(
            Problem(
                "--version",
                None,
                None,
                "invalid_name",
                f"{name!r} is not a release name (letters, digits, '.', '_' or '-')",
            )
        )
    elif DataRelease.objects.filter(name=name).exists() or release_dir(name).exists():
        problems.append(Problem("--version", None, None, "duplicate_release", f"release {name} already exists"))
    known_hpo = set(HpoTerm.objects.values_list("id", flat=True))
    if not known_hpo:
        problems.append(
            Problem(
                "HPO",
                None,
                None,
                "no_ontology",
                "the HPO ontology is not loaded: run `python manage.py load_ontology` first",
            )
        )
    bundle = fmt.read_bundle(bundle_path, known_hpo=known_hpo or None)
    problems.extend(bundle.problems)
    if problems:
        raise _refuse(problems, name=name, by=by)

    final = release_dir(name)
    created_parent = not final.parent.exists()
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.staging-", dir=final.parent))
    moved = False
    try:
        checksum = fmt.bundle_checksum(bundle_path)
        for file in (fmt.GERMLINE, fmt.GERMLINE + ".tbi"):
            shutil.copy2(bundle_path / file, staging / file)
        shutil.copytree(bundle_path / fmt.SOMATIC_DIR, staging / fmt.SOMATIC_DIR, dirs_exist_ok=True)
        import_vcf(staging / fmt.GERMLINE, staging / "store", workers=workers)
        sample_index = {sid: i for i, sid in enumerate(GenotypeStore(staging / "store").sample_ids)}
        with transaction.atomic():
            result = _load_rows(bundle, name=name, checksum=checksum, sample_index=sample_index, by=by)
            os.rename(staging, final)
            moved = True
        return result
    except BaseException:
        if moved:
            shutil.rmtree(final, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
        if created_parent and not any(final.parent.iterdir()):
            final.parent.rmdir()
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# Participant columns whose consenting counts per value are kept with the
# release: one criterion on them is a sum of these, not a pass over the table.
MARGINAL_COLUMNS = (
    "programme",
    "sex",
    "genetic_ancestry",
    "recruiting_centre",
    "affection_status",
    "vital_status",
    "relationship_to_proband",
    "age_at_consent",
)


# Columns of related tables, counted as distinct consenting participants per
# value (someone may have several diseases or tumours, so only a one-value
# criterion can be read from these).
RELATED_MARGINALS = {
    "disease.disease_group": (Disease, "disease_group"),
    "disease.specific_disease": (Disease, "specific_disease"),
    "tumour.disease_type": (Tumour, "disease_type"),
}


def consenting_by(release: DataRelease) -> dict[str, dict[str, int]]:
    """{column: {value: consenting participants}} for MARGINAL_COLUMNS and
    RELATED_MARGINALS, as the database sees them (age_at_consent is its
    generated column)."""
    consenting = release_consenting(release).order_by()
    counts = {
        column: {str(value): n for value, n in consenting.values_list(column).annotate(n=Count("pk"))}
        for column in MARGINAL_COLUMNS
    }
    for key, (model, column) in RELATED_MARGINALS.items():
        rows = model.objects.filter(participant__in=consenting).order_by().values_list(column)
        counts[key] = {str(value): n for value, n in rows.annotate(n=Count("participant_id", distinct=True))}
    return counts


def _load_rows(bundle: fmt.Bundle, *, name: str, checksum: str, sample_index: dict[str, int], by: Any) -> IngestResult:
    rows = bundle.rows
    previous = DataRelease.objects.select_for_update().filter(status=DataRelease.Status.CURRENT).first()
    if previous is not None:
        previous.status = DataRelease.Status.SUPERSEDED
        previous.save(update_fields=["status"])
    counts = {
        "participants": len(rows[fmt.PARTICIPANTS]),
        "consenting": sum(r["consent_status"] == "consenting" for r in rows[fmt.PARTICIPANTS]),
        "programmes": dict(Counter(r["programme"] for r in rows[fmt.PARTICIPANTS])),
        "genomes": len(sample_index),
        "phenotypes": len(rows[fmt.PHENOTYPES]),
        "diseases": len(rows[fmt.DISEASES]),
        "tumours": len(rows[fmt.TUMOURS]),
        "genes": len(rows[fmt.GENES]),
    }
    release = DataRelease.objects.create(
        name=name,
        release_date=bundle.release["date"],
        genome_build=bundle.release["genome_build"],
        format_version=bundle.release["format_version"],
        previous=previous,
        ingested_at=timezone.now(),
        store_path=f"{RELEASES_DIR}/{name}/store",
        bundle_sha256=checksum,
        counts=counts,
    )
    participant_fields = [c for c in fmt.TABLES[fmt.PARTICIPANTS].columns if c != "genetic_ancestry"]
    Participant.objects.bulk_create(
        (
            Participant(
                release=release,
                genetic_ancestry=r["genetic_ancestry"],
                sample_index=sample_index.get(r["participant_id"]),
                **{f: r[f] for f in participant_fields},
            )
            for r in rows[fmt.PARTICIPANTS]
        ),
        batch_size=BATCH,
    )
    pk = dict(Participant.objects.filter(release=release).values_list("participant_id", "pk"))
    bulk_insert(
        Phenotype,
        ["participant", "term", "observed"],
        ((pk[r["participant_id"]], r["hpo_id"], r["observed"]) for r in rows[fmt.PHENOTYPES]),
    )
    phenotype_rollup_build(release)
    Disease.objects.bulk_create(
        (
            Disease(
                participant_id=pk[r["participant_id"]],
                disease_group=r["disease_group"],
                disease_subgroup=r["disease_subgroup"],
                specific_disease=r["specific_disease"],
            )
            for r in rows[fmt.DISEASES]
        ),
        batch_size=BATCH,
    )
    Tumour.objects.bulk_create(
        (
            Tumour(
                participant_id=pk[r["participant_id"]],
                tumour_sample_id=r["tumour_sample_id"],
                disease_type=r["disease_type"],
                stage=r["stage"],
                sample_type=r["sample_type"],
                diagnosis_month=r["diagnosis_month"],
                somatic_vcf=f"{fmt.SOMATIC_DIR}/{r['tumour_sample_id']}.vcf.gz",
            )
            for r in rows[fmt.TUMOURS]
        ),
        batch_size=BATCH,
    )
    Gene.objects.bulk_create(
        (
            Gene(
                release=release,
                symbol=r["symbol"],
                chrom=r["chrom"],
                start=r["start"],
                end=r["end"],
                strand=r["strand"],
            )
            for r in rows[fmt.GENES]
        ),
        batch_size=BATCH,
    )
    withdrawn: list[str] = []
    if previous is not None:
        now_consenting = {r["participant_id"] for r in rows[fmt.PARTICIPANTS] if r["consent_status"] == "consenting"}
        before = Participant.objects.filter(release=previous, consent_status="consenting").values_list(
            "participant_id", flat=True
        )
        withdrawn = sorted(set(before) - now_consenting)
        Withdrawal.objects.bulk_create(
            (Withdrawal(release=release, participant_id=pid) for pid in withdrawn), batch_size=BATCH
        )
    release.counts["withdrawn_since_previous"] = len(withdrawn)
    release.counts["consenting_by"] = consenting_by(release)
    release.save(update_fields=["counts"])
    if withdrawn:
        from cohorts.services import cohorts_flag_withdrawals  # cohorts depend on releases, not the reverse

        cohorts_flag_withdrawals(release=release)
    record(
        action=AuditAction.RELEASE_INGESTED,
        by=by,
        target=release,
        details={"previous": previous.name if previous else None, "counts": release.counts, "sha256": checksum},
    )
    return IngestResult(release=release, withdrawn_since_previous=len(withdrawn))
