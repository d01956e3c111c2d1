"""Every route of the portal has a row in an access table.

The routes are read from the URL configuration (every namespace, and the
names outside any), so a page or endpoint that any app adds later fails this
test until a table covers it.

To cover a new app's routes, add ``tests/integration/<app>/test_access_table.py``:

    from tests.access import Row, cases, check, expect

    ROWS = [
        Row("jobs:list", "GET", expect(200)),
        Row("jobs:detail", "GET", expect(404, researcher=200), args=("approved_project",)),
        Row("jobs-api:submit", "POST", expect(404, researcher=201), api=True, data={...}),
    ]

    @pytest.mark.parametrize(("row", "persona"), cases(ROWS))
    def test_jobs_access(row, persona, persona_world, client_for, api_client_for):
        check(row, persona, persona_world, client_for, api_client_for)

``expect(default, **overrides)`` gives the status for each persona of
``tests.conftest.PERSONAS`` (researcher, lead, checker, governance, admin,
other_member, outsider; signed-out visitors follow ``tests.access``'s
conventions). ``args`` names objects of the persona world (``persona_world``
in tests/conftest.py; wrap it to add your app's objects, as the cohorts
table does). This test finds every module named ``test_access_table.py``
under tests/integration and reads its ``ROWS``.

The Django admin is one gate in front of all its URLs: its routes are covered
by the admin walk in tests/integration/portal/test_access_table.py.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

HERE = Path(__file__).resolve().parent
GATED_NAMESPACES = {"admin"}  # covered as a whole, by a walk over every URL in it


def _route_names(resolver: URLResolver, namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace or namespace
            yield from _route_names(entry, inner or "")
        elif isinstance(entry, URLPattern):
            name = entry.name or f"<unnamed {entry.pattern}>"
            yield f"{namespace}:{name}" if namespace else name


def _tables():
    for path in sorted(HERE.rglob("test_access_table.py")):
        module = ".".join(path.relative_to(HERE.parents[1]).with_suffix("").parts)
        yield importlib.import_module(module)


def _covered() -> set[str]:
    return {row.name for table in _tables() for row in table.ROWS}


def test_the_tables_are_found():
    tables = {table.__name__ for table in _tables()}
    assert {
        "tests.integration.domains.test_access_table",
        "tests.integration.cohorts.test_access_table",
        "tests.integration.portal.test_access_table",
    } <= tables


def test_every_route_has_a_row_in_an_access_table():
    routes = {name for name in _route_names(get_resolver()) if name.split(":")[0] not in GATED_NAMESPACES}
    assert {"dashboard", "domains:directory", "cohorts-api:count", "accounts:account"} <= routes
    missing = routes - _covered()
    assert missing == set(), f"routes without a row in any access table: {sorted(missing)}"


def test_every_row_names_a_real_route():
    routes = set(_route_names(get_resolver()))
    assert _covered() - routes == set()
