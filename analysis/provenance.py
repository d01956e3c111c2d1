"""Provenance of a job's results: kept on the job and in ``provenance.json``
beside its artifacts (the airlock exports it with them). Counts of people in
it are disclosure-controlled, like every count shown."""

from __future__ import annotations

import functools
import hashlib
import subprocess
from dataclasses import replace
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from analysis.artifacts import WrittenArtifact, WrittenFile
from disclosure.rules import RULES_VERSION, safe_count

if TYPE_CHECKING:
    from analysis.runner import RunContext

FILENAME = "provenance.json"
PACKAGES = ("Django", "numpy", "pyarrow", "duckdb", "zarr", "numba", "matplotlib", "celery")


@functools.cache
def code_version() -> str:
    """The portal's code version: PORTAL_CODE_VERSION if the deployment sets it, else the git commit."""
    if settings.PORTAL_CODE_VERSION:
        return settings.PORTAL_CODE_VERSION
    try:
        result = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=40"],
            cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=10, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


@functools.cache
def package_versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in PACKAGES}


def _store_manifest_sha256(ctx: RunContext) -> str | None:
    path = Path(settings.DATA_ROOT) / ctx.release.store_path / "manifest.json"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def build(ctx: RunContext, *, finished_at: datetime, final: Path) -> dict[str, Any]:
    job = ctx.job
    policy = ctx.policy
    data_root = Path(settings.DATA_ROOT)
    return {
        "job": job.pk,
        "job_type": {"slug": ctx.jobtype.slug, "title": ctx.jobtype.title},
        "project": {"id": job.project_id, "title": job.project.title},
        "release": {
            "name": job.release.name,
            "genome_build": job.release.genome_build,
            "bundle_sha256": job.release.bundle_sha256,
        },
        "cohorts": [
            {
                "role": i.role,
                "cohort": i.cohort_id,
                "name": i.name,
                "version": i.version,
                "members_used": safe_count(len(i.participant_ids), policy).as_json(),
                "genomes_used": safe_count(len(i.sample_indices), policy).as_json(),
                "members_sha256": i.members_sha256,
            }
            for i in ctx.inputs
        ],
        "parameters": job.parameters,
        "code": {"version": code_version(), "packages": package_versions()},
        "times": {
            "queued_at": _iso(job.queued_at),
            "started_at": _iso(job.started_at),
            "finished_at": _iso(finished_at),
        },
        "worker": job.worker,
        "attempt": ctx.attempt,
        "inputs": {"genotype_store_manifest_sha256": _store_manifest_sha256(ctx)},
        "outputs": [
            {
                "artifact": w.key,
                "kind": w.kind,
                "format": f.format,
                "path": str((final / f.path.name).relative_to(data_root)),
                "sha256": f.sha256,
                "size_bytes": f.size_bytes,
                **({"drawn_from": w.source} if w.source else {}),
            }
            for w in ctx.written
            for f in w.files
        ],
        "disclosure": {
            "rules_version": RULES_VERSION,
            **policy.describe(),
            "artifacts": {w.key: w.disclosure.get("applied", []) for w in ctx.written if w.kind == "table"},
        },
    }


def moved(written: WrittenArtifact, old: Path, new: Path) -> WrittenArtifact:
    """The same artifact, its files now under ``new``."""
    files = [WrittenFile(f.format, new / f.path.relative_to(old), f.sha256, f.size_bytes) for f in written.files]
    return replace(written, files=files)
