"""Fixtures composing the personas every access test speaks of."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from accounts.services import role_grant
from tests.factories.accounts import TOTPDeviceFactory, UserFactory
from tests.helpers import sign_in_verified


@pytest.fixture(scope="session", autouse=True)
def _collected_static(tmp_path_factory):
    """Serve static files the way production does: collected, hashed, compressed.
    A template naming a missing asset fails here rather than in production."""
    from django.conf import settings
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path_factory.mktemp("static")
    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the HPO ontology once into the test database (without an audit
    event, so tests start with an empty trail). Transactional tests flush it;
    they run last and do not need it."""
    from participants.ontology import ontology_write_tables

    with django_db_blocker.unblock():
        ontology_write_tables()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Cached counts are keyed by release; SQLite may reuse a rolled-back key."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _persona(role: Role | None, **kwargs):
    user = UserFactory(**kwargs)
    TOTPDeviceFactory(user=user)
    if role is not None:
        role_grant(user=user, role=role, by=None)
    return user


@pytest.fixture
def researcher(db):
    return _persona(Role.RESEARCHER, email="researcher@example.org", accredited=True)


@pytest.fixture
def output_checker(db):
    return _persona(Role.OUTPUT_CHECKER, email="checker@example.org")


@pytest.fixture
def governance_reviewer(db):
    return _persona(Role.GOVERNANCE_REVIEWER, email="governance@example.org")


@pytest.fixture
def administrator(db):
    return _persona(Role.ADMINISTRATOR, email="admin@example.org")


@pytest.fixture
def outsider(db):
    """Signed in with both factors, but holding no role at all."""
    return _persona(None, email="outsider@example.org")


@pytest.fixture
def client_for():
    """client_for(user) -> a test client signed in with both factors (None: anonymous)."""

    def make(user) -> Client:
        client = Client()
        return client if user is None else sign_in_verified(client, user)

    return make
