"""Ingesting a data release: validate everything, then build the genotype
store and load the rows in one transaction. A refused or failed ingest leaves
the database and DATA_ROOT as they were."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from audit.models import AuditAction, AuditOutcome
from audit.services import record
from genomics.store import GenotypeStore, import_vcf
from genomics.validate import Problem
from genomics.vcfzarr import DEFAULT_THREADS
from participants import bundle as fmt
from participants.loader import RELEASES_DIR, release_load, rows_from_bundle
from participants.models import DataRelease, HpoTerm


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
        fmt.copy_somatic_files(bundle, staging)  # withdrawn participants' files stay behind
        import_vcf(staging / fmt.GERMLINE, staging / "store", workers=workers)
        sample_index = {sid: i for i, sid in enumerate(GenotypeStore(staging / "store").sample_ids)}
        with transaction.atomic():
            loaded = release_load(
                rows=rows_from_bundle(bundle, name=name, checksum=checksum, sample_index=sample_index), by=by
            )
            os.rename(staging, final)
            moved = True
        return IngestResult(release=loaded.release, withdrawn_since_previous=len(loaded.withdrawn))
    except BaseException:
        if moved:
            shutil.rmtree(final, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
        if created_parent and not any(final.parent.iterdir()):
            final.parent.rmdir()
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
