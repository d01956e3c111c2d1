"""The airlock's files under ``DATA_ROOT/airlock/``: copies of artifact files
made when a file is added to a request (a table exported as CSV, a plot
copied in the chosen format after its checksum is verified), read back for
the checks and the review page, and verified again before they leave.
Plain file work; the database rows are written by ``airlock.services``."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import os
import re
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from django.conf import settings

from analysis.artifacts import file_digest
from analysis.models import Artifact, ArtifactFile, ArtifactKind


class FileProblem(Exception):
    """A file cannot be used (missing, or its bytes no longer match their checksum)."""


def data_root() -> Path:
    return Path(settings.DATA_ROOT)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def intact(path: str, sha256: str) -> bool:
    full = data_root() / path
    return full.exists() and file_digest(full)[0] == sha256


def _source(artifact: Artifact, fmt: str) -> ArtifactFile:
    file = next((f for f in artifact.files.all() if f.format == fmt), None)
    if file is None:
        raise FileProblem(f"“{artifact.title}” has no {fmt.upper()} file.")
    if not intact(file.path, file.sha256):
        raise FileProblem(f"The {fmt.upper()} file of “{artifact.title}” no longer matches its checksum.")
    return file


def table_rows(artifact: Artifact) -> list[dict[str, Any]]:
    """A table artifact's rows as written (controlled values; hidden counts are None)."""
    source = _source(artifact, ArtifactFile.Format.PARQUET)
    return pq.read_table(data_root() / source.path).to_pylist()


def export_bytes(artifact: Artifact, fmt: str) -> bytes:
    """What the request's copy of the artifact holds: CSV of a table, or the plot's file."""
    if artifact.kind == ArtifactKind.TABLE:
        source = _source(artifact, ArtifactFile.Format.PARQUET)
        table = pq.read_table(data_root() / source.path)
        sink = io.BytesIO()
        pacsv.write_csv(table, sink)
        return sink.getvalue()
    return (data_root() / _source(artifact, fmt).path).read_bytes()


def store(relative: str, data: bytes) -> None:
    """Write a request's file (to a temporary name, then renamed into place)."""
    path = data_root() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def read(relative: str) -> bytes:
    path = data_root() / relative
    if not path.exists():
        raise FileProblem("The stored file is missing.")
    return path.read_bytes()


def remove(relative: str) -> None:
    (data_root() / relative).unlink(missing_ok=True)


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


_HIDDEN = re.compile(r"<metadata.*?</metadata>|<style.*?</style>|<!--.*?-->|<\?.*?\?>|<!DOCTYPE.*?>", re.S)
_TAG = re.compile(r"<[^>]*>")


def visible_text(svg: str) -> str:
    """The words a reader sees in an SVG drawing: its text nodes, without markup,
    metadata or styles (so a namespace URL is not read as a date)."""
    return " ".join(html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", svg))).split())


def svg_source(artifact: Artifact) -> str:
    """The SVG of a plot (drawn beside its PNG and PDF), if it still matches its checksum."""
    svg = next((f for f in artifact.files.all() if f.format == ArtifactFile.Format.SVG), None)
    if svg is None or not intact(svg.path, svg.sha256):
        return ""
    return (data_root() / svg.path).read_text(encoding="utf-8")


def plot_text(artifact: Artifact) -> str:
    """What a reader sees written in a plot (axis labels, titles, legends)."""
    return visible_text(svg_source(artifact))
