"""Fixtures composing the personas every access test speaks of."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.models import Role
from accounts.services import role_grant
from domains.models import MembershipApplication
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


# --- The persona set every access table speaks of ------------------------------------------
#
# One set of people, in one small world of domains and projects, for every
# access table (tests/access.py runs the tables; each app's table names its
# rows by these personas):
#
#   researcher    accredited researcher, member of the domain "neurology",
#                 owner of its submitted, returned and approved projects
#   lead          a lead of "neurology" (a researcher too, as leads are), on none of its projects
#   checker       output checker
#   governance    governance reviewer (reads the audit trail)
#   admin         administrator (staff: the Django admin)
#   other_member  accredited researcher, member of another domain ("skeletal")
#                 and owner of an approved project there
#   outsider      signed in with both factors, no role and no accreditation
#   anonymous     signed out

PERSONAS = ("researcher", "lead", "checker", "governance", "admin", "other_member", "outsider", "anonymous")
SIGNED_IN = tuple(p for p in PERSONAS if p != "anonymous")


@dataclass
class PersonaWorld:
    people: dict
    domain: object
    other_domain: object
    pending_application: object  # someone else's, to "neurology"
    membership: object  # the researcher's approved application
    other_domain_application: object
    submitted_project: object
    returned_project: object
    approved_project: object
    other_domain_project: object
    colleague: object  # a member of "neurology", not on approved_project
    teammate: object  # on approved_project


@pytest.fixture
def persona_world(db) -> PersonaWorld:
    from tests.factories.domains import (
        DomainFactory,
        MembershipApplicationFactory,
        ProjectFactory,
        add_to_project,
        ensure_member,
        make_lead,
    )

    domain = DomainFactory(slug="neurology", name="Neurology")
    other_domain = DomainFactory(slug="skeletal", name="Skeletal")
    researcher = _persona(Role.RESEARCHER, email="rosa@example.org", full_name="Rosa Researcher", accredited=True)
    ensure_member(researcher, domain)
    lead = make_lead(_persona(Role.RESEARCHER, email="leo@example.org", full_name="Leo Lead", accredited=True), domain)
    admin = _persona(Role.ADMINISTRATOR, email="ada@example.org", full_name="Ada Admin")
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    other_member = _persona(Role.RESEARCHER, email="otto@example.org", full_name="Otto Other", accredited=True)
    people = {
        "researcher": researcher,
        "lead": lead,
        "checker": _persona(Role.OUTPUT_CHECKER, email="cleo@example.org", full_name="Cleo Checker"),
        "governance": _persona(Role.GOVERNANCE_REVIEWER, email="gus@example.org", full_name="Gus Governance"),
        "admin": admin,
        "other_member": other_member,
        "outsider": _persona(None, email="oona@example.org", full_name="Oona Outsider"),
        "anonymous": None,
    }
    applicant = _persona(Role.RESEARCHER, email="ann@example.org", full_name="Ann Applicant", accredited=True)
    colleague = _persona(Role.RESEARCHER, email="cole@example.org", full_name="Cole Colleague", accredited=True)
    ensure_member(colleague, domain)
    approved = ProjectFactory(domain=domain, owner=researcher, status="approved", title="Approved project")
    teammate = _persona(Role.RESEARCHER, email="tia@example.org", full_name="Tia Teammate", accredited=True)
    add_to_project(teammate, approved)
    return PersonaWorld(
        people=people,
        domain=domain,
        other_domain=other_domain,
        pending_application=MembershipApplicationFactory(domain=domain, applicant=applicant),
        membership=MembershipApplication.objects.get(domain=domain, applicant=researcher, status="approved"),
        other_domain_application=MembershipApplicationFactory(domain=other_domain, applicant=applicant),
        submitted_project=ProjectFactory(domain=domain, owner=researcher, title="Submitted project"),
        returned_project=ProjectFactory(domain=domain, owner=researcher, status="returned", title="Returned project"),
        approved_project=approved,
        other_domain_project=ProjectFactory(
            domain=other_domain, owner=other_member, status="approved", title="Elsewhere"
        ),
        colleague=colleague,
        teammate=teammate,
    )


@pytest.fixture
def api_client_for():
    """api_client_for(user) -> a client sending that user's fresh API token (None: no token)."""
    from accounts.services import api_token_create

    def make(user) -> Client:
        if user is None:
            return Client()
        _, key = api_token_create(by=user, name="tests", lifetime_days=30)
        return Client(headers={"Authorization": f"Token {key}"})

    return make
