"""Writes about participants.

Ingesting a data release: validate everything (the germline VCF in the same
pass that writes the genotype store, into a staging directory), then load
the rows in one transaction. A refused or failed ingest leaves the database
and DATA_ROOT as they were.

The withdrawal register: withdrawals recorded between releases, one at a
time by governance reviewers or as a provider's list, all or none, each
taking effect at once (docs/adr/0011)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditAction, AuditOutcome
from audit.services import record
from genomics.store import GenotypeStore
from genomics.validate import Problem
from genomics.vcfzarr import DEFAULT_THREADS
from participants import bundle as fmt
from participants.loader import RELEASES_DIR, release_load, rows_from_bundle
from participants.models import DataRelease, HpoTerm, Participant, RegisteredWithdrawal
from participants.permissions import check_user_can_record_withdrawals
from participants.selectors import release_usable
from participants.withdrawal_list import WithdrawalLine, cell_problems, read_withdrawal_list
from participants.withdrawals import WithdrawalEffect, lock_register, withdrawals_take_effect


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
    final = release_dir(name)
    created_parent = not final.parent.exists()
    if problems:  # the name or the ontology: check the bundle, write nothing
        bundle = fmt.read_bundle(bundle_path, known_hpo=known_hpo or None, workers=workers)
        raise _refuse([*problems, *bundle.problems], name=name, by=by)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.staging-", dir=final.parent))
    moved = False
    try:
        # One pass over the germline VCF checks it and, when all is well, writes the store; the kept
        # tumours' somatic files are copied and the copies checked. The germline VCF itself is not kept:
        # the store holds its genotypes (withdrawn participants' masked), the VCF holds them unmasked.
        bundle = fmt.read_bundle(
            bundle_path,
            known_hpo=known_hpo,
            germline_store=staging / "store",
            copy_somatic_to=staging,
            workers=workers,
        )
        if bundle.problems:
            raise _refuse(bundle.problems, name=name, by=by)
        checksum = fmt.bundle_checksum(bundle_path)
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


# --------------------------------------------------------------------------
# The withdrawal register


class WithdrawalsRefused(Exception):
    """Nothing was recorded; ``problems`` says every reason, with its line in a list."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) with the withdrawals; nothing was recorded")


@dataclass(frozen=True)
class WithdrawalsChecked:
    """What recording ``lines`` would do, or why it cannot."""

    problems: list[Problem]
    to_record: list[WithdrawalLine]
    already_withdrawn: list[WithdrawalLine]  # usable in no release: recording them would change nothing
    usable_in: dict[str, list[str]]  # participant id -> releases in which they may still be used, newest first


@dataclass(frozen=True)
class WithdrawalsRecorded:
    entries: list[RegisteredWithdrawal]
    already_withdrawn: list[WithdrawalLine]
    effect: WithdrawalEffect


def withdrawals_check(lines: Sequence[WithdrawalLine], *, file: str = "withdrawal") -> WithdrawalsChecked:
    """Check withdrawals against what the releases hold: each participant must
    be in a release, and the withdrawal must apply wherever they may still be
    used (their latest consent is not after the withdrawal month)."""
    problems: list[Problem] = []
    well_formed: list[WithdrawalLine] = []
    for line in lines:
        found = cell_problems(line.participant_id, line.withdrawal_month, file=file, line=line.line)
        problems.extend(found)
        if not found:
            well_formed.append(line)
    ids = sorted({line.participant_id for line in well_formed})
    known = set(Participant.objects.filter(participant_id__in=ids).values_list("participant_id", flat=True))
    consent: dict[str, list[tuple[str, str]]] = {}  # participant -> (release, consent month) where usable
    holding = Participant.objects.filter(participant_id__in=ids).values("release_id")
    for release in DataRelease.objects.filter(pk__in=holding).order_by("-ingested_at", "-pk"):
        usable = release_usable(release).filter(participant_id__in=ids)
        for pid, month in usable.values_list("participant_id", "consent_month"):
            consent.setdefault(pid, []).append((release.name, month))
    to_record: list[WithdrawalLine] = []
    already: list[WithdrawalLine] = []
    for line in well_formed:
        pid, month = line.participant_id, line.withdrawal_month
        if pid not in known:
            problems.append(
                Problem(
                    file,
                    line.line,
                    "participant_id",
                    "unknown_participant",
                    f"participant {pid} is not in any data release",
                )
            )
        elif pid not in consent:
            already.append(line)
        elif later := [(name, m) for name, m in consent[pid] if m > month]:
            name, m = later[0]
            problems.append(
                Problem(
                    file,
                    line.line,
                    "withdrawal_month",
                    "before_consent",
                    f"release {name} records the consent of participant {pid} in {m}, after {month}: "
                    "a withdrawal must be in or after the month of their latest consent",
                )
            )
        else:
            to_record.append(line)
    usable_in = {pid: [name for name, _ in found] for pid, found in consent.items()}
    problems.sort(key=lambda p: (p.line or 0, p.field or ""))
    return WithdrawalsChecked(problems, [] if problems else to_record, already, usable_in)


def withdrawals_record(
    *,
    by: Any,
    lines: Sequence[WithdrawalLine],
    source: RegisteredWithdrawal.Source,
    file: str = "",
    file_sha256: str = "",
    problems_in_file: Sequence[Problem] = (),
) -> WithdrawalsRecorded:
    """Record ``lines`` in the withdrawal register, all or none, and make them
    take effect at once in every release (counts, cohorts, analyses, genotype
    reads: ``participants.withdrawals``). Each withdrawal is audited; a
    refusal is audited too, and nothing is written. ``by`` is a governance
    reviewer, or None for the system (``manage.py record_withdrawals``).
    ``problems_in_file`` are those already found in the form of a list, so
    that they are reported together with the rest."""
    if by is not None:
        check_user_can_record_withdrawals(by)
    with transaction.atomic():
        lock_register()
        checked = withdrawals_check(lines, file=file or "withdrawal")
        problems = sorted([*problems_in_file, *checked.problems], key=lambda p: (p.line or 0, p.field or ""))
        if not problems:
            now = timezone.now()
            entries = [
                RegisteredWithdrawal(
                    participant_id=line.participant_id,
                    withdrawal_month=line.withdrawal_month,
                    recorded_at=now,
                    recorded_by=by,
                    source=source,
                    source_detail=f"{file} line {line.line}" if file and line.line else "",
                )
                for line in checked.to_record
            ]
            effect = withdrawals_take_effect(
                participant_ids=[e.participant_id for e in entries],
                write=lambda: RegisteredWithdrawal.objects.bulk_create(entries),
            )
            for entry, line in zip(entries, checked.to_record, strict=True):
                details: dict[str, Any] = {
                    "withdrawal_month": entry.withdrawal_month,
                    "source": entry.source,
                    "no_longer_usable_in": effect.releases_of(entry.participant_id),
                }
                if file:
                    details.update(file=file, line=line.line, file_sha256=file_sha256)
                record(action=AuditAction.WITHDRAWAL_RECORDED, by=by, target=entry, details=details)
            return WithdrawalsRecorded(entries, checked.already_withdrawn, effect)
    record(
        action=AuditAction.WITHDRAWALS_REFUSED,
        by=by,
        target_type=RegisteredWithdrawal._meta.label_lower,
        outcome=AuditOutcome.FAILURE,
        details={
            "source": str(source),
            "problems": len(problems),
            "codes": sorted({p.code for p in problems}),
            **({"file": file, "file_sha256": file_sha256} if file else {}),
        },
    )
    raise WithdrawalsRefused(problems)


def withdrawals_record_file(*, path: str | Path) -> WithdrawalsRecorded:
    """Record a provider's list of withdrawals (``participants.withdrawal_list``)
    as the system: every problem with the file or its participants is
    reported with its line, and nothing is recorded unless all is well."""
    path = Path(path)
    lines, problems = read_withdrawal_list(path)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    return withdrawals_record(
        by=None,
        lines=lines,
        source=RegisteredWithdrawal.Source.FILE,
        file=path.name,
        file_sha256=sha256,
        problems_in_file=problems,
    )
