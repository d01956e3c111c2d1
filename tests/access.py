"""Access tables: for each page or endpoint and each persona of
``tests.conftest.PERSONAS``, the status it answers.

A table is a module ``tests/integration/<app>/test_access_table.py`` with a
list ``ROWS`` of ``Row`` and a test parametrized by ``cases(ROWS)`` that calls
``check``. ``tests/integration/test_route_coverage.py`` fails the suite when a
route has no row in any table.

Conventions: signed-out visitors of a page are sent to sign-in (302), of the
API get 401, unless the row is ``public``. Objects a persona may not see
answer 404, never 403; 403 means "you can see this, but this action is not
yours"; 409 "not in this state".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import PERSONAS, SIGNED_IN


def expect(default: int, **overrides: int) -> dict[str, int]:
    """The status for every signed-in persona: ``default`` unless overridden."""
    unknown = set(overrides) - set(SIGNED_IN)
    assert not unknown, f"not personas: {unknown}"
    return {persona: overrides.get(persona, default) for persona in SIGNED_IN}


@dataclass(frozen=True)
class Row:
    name: str  # the URL name, with its namespace
    method: str
    expected: dict[str, int]
    args: tuple[str, ...] = ()  # attributes of the world whose pk (or slug, for domains) fill the URL
    data: Any = field(default_factory=dict)  # a dict, or a callable(world) -> dict
    query: str = ""
    api: bool = False  # JSON in and out; signed-out callers get 401
    public: bool = False  # signed-out visitors get the row's "public" status (200)
    note: str = ""

    @property
    def id(self) -> str:
        return " ".join(filter(None, [self.method, self.name, *self.args, self.note]))


def cases(rows: list[Row]) -> list:
    return [pytest.param(row, persona, id=f"{row.id} as {persona}") for row in rows for persona in PERSONAS]


def url_for(row: Row, world: Any) -> str:
    from django.urls import reverse

    args = []
    for name in row.args:
        obj = getattr(world, name)
        args.append(obj.slug if hasattr(obj, "slug") else obj.pk)
    return reverse(row.name, args=args) + (f"?{row.query}" if row.query else "")


def check(row: Row, persona: str, world: Any, client_for: Callable, api_client_for: Callable) -> Any:
    """Send the row's request as ``persona`` and assert the status; returns the response."""
    import json

    user = world.people[persona]
    client = (api_client_for if row.api else client_for)(user)
    url = url_for(row, world)
    data = row.data(world) if callable(row.data) else row.data
    if row.method == "GET":
        response = client.get(url)
    elif row.api:
        response = client.generic(row.method, url, json.dumps(data), content_type="application/json")
    else:
        response = client.generic(row.method, url, _form(data), content_type="application/x-www-form-urlencoded")
    if persona == "anonymous" and row.public:
        assert response.status_code == 200, (row.id, response.status_code)
    elif persona == "anonymous" and row.api:
        assert response.status_code == 401, (row.id, response.status_code)
    elif persona == "anonymous":
        assert response.status_code == 302 and "/accounts/sign-in/" in response["Location"], row.id
    else:
        assert response.status_code == row.expected[persona], (row.id, persona, response.content[:300])
    return response


def _form(data: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(data, doseq=True)
