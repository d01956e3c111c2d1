"""Fast bulk inserts for release-sized tables: PostgreSQL's COPY where the
database is PostgreSQL, batched executemany elsewhere (SQLite). Rows are plain
tuples in ``columns`` order; the caller's transaction applies."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model

BATCH = 50_000


def _copy_buffer(rows: Iterable[Sequence[Any]]) -> io.StringIO:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    for row in rows:
        writer.writerow(["\\N" if value is None else value for value in row])
    buffer.seek(0)
    return buffer


def _column(model: type[Model], name: str) -> str:
    column = cast(Field, model._meta.get_field(name)).column
    if column is None:
        raise ValueError(f"{model.__name__}.{name} has no column")
    return column


def bulk_insert(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` into ``model``'s table; returns how many were inserted."""
    table = model._meta.db_table
    quote = connection.ops.quote_name
    column_sql = ", ".join(quote(_column(model, c)) for c in columns)
    iterator = iter(rows)
    total = 0
    with connection.cursor() as cursor:
        while batch := list(islice(iterator, BATCH)):
            if connection.vendor == "postgresql":
                sql = f"COPY {quote(table)} ({column_sql}) FROM STDIN WITH (FORMAT csv, DELIMITER E'\\t', NULL '\\N')"
                cursor.copy_expert(sql, _copy_buffer(batch))
            else:
                placeholders = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {quote(table)} ({column_sql}) VALUES ({placeholders})",  # noqa: S608 - names quoted
                    batch,
                )
            total += len(batch)
    return total
