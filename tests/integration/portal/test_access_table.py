"""Who gets what on the pages outside the apps' own tables: sign-in and the
account page (accounts), the audit trail (governance), the dashboard, the
health check, the API's schema and documentation, and the Django admin, for
every persona of the one persona set (tests/conftest.py)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.services import api_token_create
from tests.access import Row, cases, check, expect

pytestmark = pytest.mark.django_db

VERIFIED_ELSEWHERE = expect(302)  # a signed-in, verified session is sent on to where it was going

ROWS = [
    Row("dashboard", "GET", expect(200)),
    Row("healthz", "GET", expect(200), public=True),
    Row("accounts:sign-in", "GET", VERIFIED_ELSEWHERE, public=True),
    Row("accounts:sign-out", "POST", expect(302)),
    Row("accounts:mfa-enrol", "GET", VERIFIED_ELSEWHERE),
    Row("accounts:mfa-verify", "GET", VERIFIED_ELSEWHERE),
    Row("accounts:account", "GET", expect(200)),
    Row("accounts:details", "POST", expect(302), data={"full_name": "A Name", "institution": "Uni"}),
    Row("accounts:agreement", "POST", expect(400), data={}, note="without the box ticked"),
    Row("accounts:password", "POST", expect(400), data={"current_password": "wrong"}),
    Row("accounts:token-create", "POST", expect(200), data={"name": "laptop", "lifetime_days": "30"}),
    Row("accounts:token-revoke", "POST", expect(404, researcher=302), args=("token",)),
    Row("audit:log", "GET", expect(404, governance=200)),
    Row("api-docs", "GET", expect(200)),
    Row("api-schema", "GET", expect(200), api=True),
    Row("admin:index", "GET", expect(302, admin=200)),
    Row("admin:login", "GET", expect(404, admin=302)),
]


class _WithToken:
    """The persona world and the researcher's API token."""

    def __init__(self, base):
        self.base = base
        self.token, _ = api_token_create(by=base.people["researcher"], name="mine", lifetime_days=30)

    def __getattr__(self, name):
        return getattr(self.base, name)


@pytest.mark.parametrize(("row", "persona"), cases(ROWS))
def test_portal_access(row, persona, persona_world, client_for, api_client_for):
    check(row, persona, _WithToken(persona_world), client_for, api_client_for)


# --- the admin: one gate (admin.site.has_permission) in front of every admin URL ------------

_SAMPLES = {"int": "1", "str": "1", "slug": "x", "path": "x", "uuid": str(uuid.uuid4())}


def _admin_paths(resolver: URLResolver, prefix: str = "/admin/"):
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        if hasattr(pattern, "_route"):
            piece = re.sub(r"<(?:(\w+):)?\w+>", lambda m: _SAMPLES[m.group(1) or "str"], pattern._route)
        else:
            piece = re.sub(r"\(\?P<\w+>[^)]*\)", "1", pattern._regex.lstrip("^").rstrip("$")).replace("\\", "")
        if isinstance(entry, URLPattern):
            yield entry, prefix + piece
        else:
            yield from _admin_paths(entry, prefix + piece)


ADMIN_PATHS = sorted(
    {path for _, path in _admin_paths(get_resolver().namespace_dict["admin"][1]) if "(" not in path and "[" not in path}
)


def test_every_admin_url_is_closed_to_everyone_but_the_administrator(persona_world, client_for):
    """One world for the whole walk: the admin's URLs are many and read-only here."""
    clients = {persona: client_for(user) for persona, user in persona_world.people.items() if user is not None}
    wrong = []
    for path in ADMIN_PATHS:
        for persona, client in clients.items():
            response = client.get(path, follow=persona != "admin")
            if persona == "admin":
                if response.status_code >= 500:
                    wrong.append((path, persona, response.status_code))
            elif response.status_code != 404 or 'name="password"' in response.content.decode():
                wrong.append((path, persona, response.status_code))
    assert wrong == []


def test_the_admin_walk_finds_the_admin_pages():
    assert {"/admin/", "/admin/accounts/user/", "/admin/login/"} <= set(ADMIN_PATHS)
    assert reverse("admin:index") == "/admin/"
