"""Every URL the portal routes, except sign-in, two-factor steps, static files
and the health check, is behind the two-factor wall. The list of URLs is read
from the URL configuration, so a new page is covered without editing this test.

The API (``/api/``) answers in JSON instead of redirecting: anonymous calls are
left to the API's own authentication (personal tokens), which refuses them
with 401; sessions that have not passed the second factor get 403."""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories.accounts import TOTPDeviceFactory, UserFactory
from tests.helpers import sign_in_password_only

pytestmark = pytest.mark.django_db

OPEN = {
    "/accounts/sign-in/",
    "/accounts/sign-out/",
    "/accounts/two-factor/set-up/",
    "/accounts/two-factor/verify/",
    "/healthz",
    "/projects/register/",  # the public register of approved projects
}

_CONVERTER_SAMPLES = {"int": "1", "str": "x", "slug": "x", "path": "x/y", "uuid": str(uuid.uuid4())}


def _route_to_path(route: str) -> str:
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: _CONVERTER_SAMPLES[m.group(1) or "str"], route)


def _regex_to_path(regex: str) -> str:
    regex = regex.lstrip("^").rstrip("$").rstrip("\\Z")
    regex = re.sub(r"\(\?P<\w+>([\w|]+)\)", lambda m: m.group(1).split("|")[0], regex)  # alternatives: take one
    regex = re.sub(r"\(\?P<\w+>[^)]*\)", "1", regex)
    return regex.replace("\\", "")


def _paths(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        raw = pattern._route if hasattr(pattern, "_route") else pattern._regex
        piece = _route_to_path(raw) if hasattr(pattern, "_route") else _regex_to_path(raw)
        if isinstance(entry, URLPattern):
            yield "/" + prefix + piece
        else:
            yield from _paths(entry, prefix + piece)


_WALKED = sorted(set(_paths(get_resolver())) - OPEN)
_DOCS = "/api/v1/docs/"  # the API's documentation is a page for people


def _is_api(path: str) -> bool:
    return path.startswith("/api/") and not path.startswith(_DOCS)


ALL_PATHS = [path for path in _WALKED if not _is_api(path)] + ["/no/such/page/"]
API_PATHS = [path for path in _WALKED if _is_api(path)] + ["/api/no/such/endpoint/"]


def test_the_url_walk_finds_the_portal_pages():
    assert {"/", "/accounts/", "/governance/audit/", "/admin/", "/domains/", "/projects/", _DOCS} <= set(ALL_PATHS)
    assert {"/api/v1/domains/", "/api/v1/schema/"} <= set(API_PATHS)


@pytest.mark.parametrize("path", ALL_PATHS)
def test_anonymous_requests_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302, path
    assert response["Location"].startswith(reverse("accounts:sign-in"))


@pytest.mark.parametrize("path", ALL_PATHS)
def test_password_only_sessions_are_sent_to_verification(client, path):
    user = UserFactory()
    TOTPDeviceFactory(user=user)
    sign_in_password_only(client, user)
    response = client.get(path)
    assert response.status_code == 302, path
    assert response["Location"].startswith(reverse("accounts:mfa-verify"))


@pytest.mark.parametrize("path", ALL_PATHS)
def test_password_only_sessions_without_a_device_are_sent_to_enrolment(client, path):
    sign_in_password_only(client, UserFactory())
    response = client.get(path)
    assert response.status_code == 302, path
    assert response["Location"].startswith(reverse("accounts:mfa-enrol"))


@pytest.mark.parametrize("path", API_PATHS)
def test_anonymous_api_calls_are_refused_with_401_and_nothing_else(client, path):
    response = client.get(path)
    assert response.status_code in {401, 404}, path
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize("has_device", [True, False])
def test_password_only_sessions_get_403_from_the_api(client, path, has_device):
    user = UserFactory()
    if has_device:
        TOTPDeviceFactory(user=user)
    sign_in_password_only(client, user)
    response = client.get(path)
    assert response.status_code == 403, path
    assert response.json() == {"detail": "Two-factor verification is required."}


def test_post_requests_are_walled_too(client):
    sign_in_password_only(client, UserFactory())
    response = client.post(reverse("accounts:details"), {"full_name": "X"})
    assert response.status_code == 302
