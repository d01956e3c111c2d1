"""A table of 100,000 rows is paged, sorted and filtered on the server by DuckDB."""

from __future__ import annotations

import pyarrow as pa
import pytest

from analysis.artifacts import Filter, read_page, write_table
from analysis.jobtype import Column, TableSpec
from disclosure.rules import Policy

SPEC = TableSpec(
    "big", "Big", "Many rows.",
    (Column("name", "string", "Name", "A label."), Column("n", "count", "N", "A count."),
     Column("x", "float", "X", "A number.")),
)  # fmt: skip
ROWS = 100_000


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    table = pa.table(
        {
            "name": [f"row-{i:06d}" for i in range(ROWS)],
            "n": [None if i % 7 == 0 else (i % 1000) * 5 for i in range(ROWS)],
            "x": [i / ROWS for i in range(ROWS)],
        },
        schema=pa.schema([("name", pa.string()), ("n", pa.int64()), ("x", pa.float64())]),
    )
    return write_table(SPEC, table, tmp_path_factory.mktemp("t"), Policy()).files[0].path


def test_pages_cover_every_row_once(path):
    first = read_page(path, SPEC.columns, page=1, page_size=1000, sort="name")
    last = read_page(path, SPEC.columns, page=100, page_size=1000, sort="name")
    assert first.total == ROWS and first.pages == 100
    assert first.rows[0]["name"] == "row-000000" and last.rows[-1]["name"] == "row-099999"


def test_sorting_puts_hidden_counts_last_either_way(path):
    top = read_page(path, SPEC.columns, page=1, page_size=3, sort="n", descending=True)
    assert [r["n"] for r in top.rows] == [4995, 4995, 4995]
    bottom = read_page(path, SPEC.columns, page=ROWS // 3, page_size=3, sort="n", descending=True)
    assert all(r["n"] is None for r in bottom.rows)


def test_filters_are_applied_before_paging(path):
    page = read_page(path, SPEC.columns, filters=[Filter("name", "contains", "row-09999"), Filter("x", "min", 0.99995)])
    assert page.total == 5 and {r["name"] for r in page.rows} == {f"row-0999{i}" for i in range(95, 100)}


def test_an_unknown_column_cannot_be_sorted_or_filtered(path):
    with pytest.raises(ValueError):
        read_page(path, SPEC.columns, sort="n; DROP TABLE x")
    with pytest.raises(ValueError):
        read_page(path, SPEC.columns, filters=[Filter("secret", "eq", 1)])
