"""Writing and reading result files. Plain Python (no database).

What an artifact file holds is what may be shown: tables pass disclosure
control (``disclosure.rules``) as they are written, with the rules and their
version recorded in the file and in the artifact's metadata; plots are drawn
from those written rows, so they cannot show more than the table does. The
airlock can later export exactly what researchers saw.

Tables are Parquet with typed columns, read back with DuckDB for server-side
paging, sorting and filtering. Plots are saved as SVG, PNG and PDF. Every
file is checksummed (SHA-256) and sized.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.jobtype import Column, TableSpec
from disclosure.rules import RULES_VERSION, Policy, SafeBreakdown, SafeCount, safe_breakdown, safe_count

PLOT_FORMATS = ("svg", "png", "pdf")
_ARROW_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "float": pa.float64(),
    "count": pa.int64(),
    "boolean": pa.bool_(),
}


@dataclass(frozen=True)
class WrittenFile:
    format: str
    path: Path
    sha256: str
    size_bytes: int


@dataclass
class WrittenArtifact:
    key: str
    kind: str
    title: str
    description: str
    files: list[WrittenFile]
    columns: list[dict[str, Any]] = field(default_factory=list)
    n_rows: int | None = None
    source: str | None = None
    disclosure: dict[str, Any] = field(default_factory=dict)
    participant_level: bool = False


def file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest(), path.stat().st_size


# --- disclosure of table rows -----------------------------------------------------------------


def disclosure_record(spec: TableSpec, policy: Policy) -> dict[str, Any]:
    """What was applied to a table, machine-readable (kept with the artifact and in the file)."""
    applied = [
        f"small counts: non-zero counts below {policy.threshold} are hidden (shown as {policy.hidden_label})",
        f"rounding: every shown count is rounded to a multiple of {policy.rounding}",
    ]
    if spec.breakdowns:
        groups = "; ".join(", ".join(b.cells) + (f" (total {b.total})" if b.total else "") for b in spec.breakdowns)
        applied.append(f"secondary suppression within each row's breakdown: {groups}")
    if spec.derived:
        applied.append(
            "derived columns computed from the shown values only: " + ", ".join(d.name for d in spec.derived)
        )
    applied.extend(spec.rules)
    return {
        **policy.describe(),
        "rules_version": RULES_VERSION,
        "applied": applied,
        "count_columns": [c.name for c in spec.columns if c.is_count],
    }


class _Disclosure:
    """Applies the policy to rows of one table; counts repeat a lot, so single counts are memoised."""

    def __init__(self, spec: TableSpec, policy: Policy) -> None:
        self.spec = spec
        self.policy = policy
        self.counts = [c.name for c in spec.columns if c.is_count]
        in_breakdown = {name for b in spec.breakdowns for name in (*b.cells, *([b.total] if b.total else []))}
        self.single = [c for c in self.counts if c not in in_breakdown]
        self._memo: dict[int, SafeCount] = {}
        self._memo_breakdowns: dict[tuple[int, tuple[int, ...], int | None], SafeBreakdown] = {}

    def _one(self, value: Any) -> SafeCount:
        if isinstance(value, SafeCount):
            return value
        if value is None:
            raise ValueError("a count column needs a number (or an already controlled count)")
        n = int(value)
        found = self._memo.get(n)
        if found is None:
            found = self._memo[n] = safe_count(n, self.policy)
        return found

    def row(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(raw)
        for name in self.single:
            out[name] = self._one(raw[name]).value
        for k, b in enumerate(self.spec.breakdowns):
            if any(isinstance(raw[c], SafeCount) for c in b.cells):
                raise ValueError("breakdown cells are controlled here, from raw counts")
            values = tuple(int(raw[c]) for c in b.cells)
            total = int(raw[b.total]) if b.total else None
            key = (k, values, total)
            result = self._memo_breakdowns.get(key)
            if result is None:  # the rules depend on the numbers only, which repeat from row to row
                result = safe_breakdown(dict(zip(b.cells, values, strict=True)), self.policy, total=total)
                self._memo_breakdowns[key] = result
            for c in b.cells:
                out[c] = result.cells[c].value
            if b.total:
                out[b.total] = result.total.value
        for d in self.spec.derived:
            out[d.name] = d.compute(out)
        return out


def disclose_rows(spec: TableSpec, rows: Iterable[Mapping[str, Any]], policy: Policy) -> pa.Table:
    """Rows as given by a runner (raw counts, or counts already controlled as
    ``SafeCount``) -> the Arrow table that may be shown and written."""
    control = _Disclosure(spec, policy)
    names = [c.name for c in spec.columns]
    columns: dict[str, list[Any]] = {n: [] for n in names}
    derived = {d.name for d in spec.derived}
    required = [n for n in names if n not in derived]
    for raw in rows:
        missing = [n for n in required if n not in raw]
        if missing:
            raise KeyError(f"row of {spec.key} lacks {missing}")
        row = control.row(raw)
        for n in names:
            columns[n].append(_clean_value(row.get(n)))
    return pa.table({c.name: pa.array(columns[c.name], type=_ARROW_TYPES[c.type]) for c in spec.columns})


def _clean_value(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write_table(spec: TableSpec, table: pa.Table, directory: Path, policy: Policy) -> WrittenArtifact:
    """Write a disclosed table as Parquet, self-describing (columns and disclosure in its metadata)."""
    record = disclosure_record(spec, policy)
    columns = [c.as_json() for c in spec.columns]
    schema = table.schema.with_metadata(
        {b"portal:columns": json.dumps(columns).encode(), b"portal:disclosure": json.dumps(record).encode()}
    )
    path = directory / f"{spec.key}.parquet"
    tmp = path.with_suffix(".parquet.part")
    pq.write_table(table.cast(schema), tmp, compression="zstd")
    os.replace(tmp, path)
    sha, size = file_digest(path)
    return WrittenArtifact(
        key=spec.key, kind="table", title=spec.title, description=spec.description,
        files=[WrittenFile("parquet", path, sha, size)], columns=columns, n_rows=table.num_rows,
        disclosure=record, participant_level=spec.participant_level,
    )  # fmt: skip


# --- plots --------------------------------------------------------------------------------


def save_figure(figure: Any, directory: Path, key: str) -> list[WrittenFile]:
    """SVG (text kept as text), PNG and PDF of a figure, written reproducibly (no dates)."""
    written = []
    for fmt in PLOT_FORMATS:
        path = directory / f"{key}.{fmt}"
        metadata: dict[str, Any] = {"svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}}.get(fmt, {})
        figure.savefig(path, format=fmt, metadata=metadata, dpi=150 if fmt == "png" else "figure")
        sha, size = file_digest(path)
        written.append(WrittenFile(fmt, path, sha, size))
    return written


def svg_element(path: Path) -> str:
    """The ``<svg>`` element of a plot file, to put inside a page (no XML prolog, no doctype)."""
    text = path.read_text(encoding="utf-8")
    start = text.find("<svg")
    if start < 0:
        raise ValueError(f"{path} holds no SVG element")
    return text[start:].strip()


# --- reading tables ------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    column: str
    op: str  # "contains" (text), "eq", "min", "max"
    value: Any


OPS = {"contains", "eq", "min", "max"}


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_page(
    path: Path,
    columns: Sequence[Column],
    *,
    page: int = 1,
    page_size: int = 50,
    sort: str = "",
    descending: bool = False,
    filters: Sequence[Filter] = (),
) -> Page:
    """One page of a Parquet table, sorted and filtered by DuckDB on the server.

    Column names come from the artifact's declared columns only; every value is
    a bound parameter.
    """
    by_name = {c.name: c for c in columns}
    where, params = ["TRUE"], []
    for f in filters:
        column = by_name.get(f.column)
        if column is None or f.op not in OPS:
            raise ValueError(f"cannot filter on {f.column!r} with {f.op!r}")
        if f.op == "contains":
            where.append(f"CAST({_ident(f.column)} AS VARCHAR) ILIKE ?")
            params.append("%" + str(f.value).replace("%", "").replace("_", "") + "%")
        else:
            where.append(f"{_ident(f.column)} {'=' if f.op == 'eq' else '>=' if f.op == 'min' else '<='} ?")
            params.append(f.value)
    order = ""
    if sort:
        if sort not in by_name:
            raise ValueError(f"cannot sort on {sort!r}")
        order = f"ORDER BY {_ident(sort)} {'DESC' if descending else 'ASC'} NULLS LAST"
    source = "read_parquet('" + str(path).replace("'", "''") + "')"
    select = ", ".join(_ident(c.name) for c in columns)
    condition = " AND ".join(where)
    page = max(1, page)
    connection = duckdb.connect(":memory:")
    try:
        # Identifiers are the declared column names (quoted); values are bound parameters.
        counted = connection.execute(f"SELECT count(*) FROM {source} WHERE {condition}", params).fetchone()  # noqa: S608
        total = counted[0] if counted else 0
        sql = f"SELECT {select} FROM {source} WHERE {condition} {order} LIMIT ? OFFSET ?"  # noqa: S608
        cursor = connection.execute(sql, [*params, page_size, (page - 1) * page_size])
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    finally:
        connection.close()
    return Page(rows=rows, total=int(total), page=page, page_size=page_size)
