"""Personas and a small world of domains, applications and projects."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import Role
from domains.models import Domain, MembershipApplication, Project, ProjectStatus
from tests.conftest import _persona
from tests.factories.domains import (
    DomainFactory,
    MembershipApplicationFactory,
    ProjectFactory,
    add_to_project,
    ensure_member,
    make_lead,
)

PERSONAS = ["anonymous", "researcher", "member", "lead", "other_lead", "output_checker", "governance_reviewer"]


@pytest.fixture(autouse=True)
def _mail_tasks_run_in_process():
    """E-mails are sent by a Celery task; here it runs in the test's process,
    so mail.outbox shows what would be sent (queuing itself is tested with a
    real broker in test_notifications)."""
    from portal.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def domain(db) -> Domain:
    return DomainFactory(slug="neurology", name="Neurology")


@pytest.fixture
def other_domain(db) -> Domain:
    return DomainFactory(slug="skeletal", name="Skeletal")


@pytest.fixture
def member(db, domain):
    """A researcher who is a member of ``domain``."""
    user = _persona(Role.RESEARCHER, email="member@example.org", full_name="Mia Member", accredited=True)
    ensure_member(user, domain)
    return user


@pytest.fixture
def lead(db, domain):
    """A lead of ``domain`` (a researcher too, as leads are)."""
    user = _persona(Role.RESEARCHER, email="lead@example.org", full_name="Leo Lead", accredited=True)
    return make_lead(user, domain)


@pytest.fixture
def other_lead(db, other_domain):
    user = _persona(Role.RESEARCHER, email="otherlead@example.org", full_name="Olu Otherlead", accredited=True)
    return make_lead(user, other_domain)


@pytest.fixture
def applicant(db):
    """A researcher with an application waiting (not one of the personas)."""
    return _persona(Role.RESEARCHER, email="applicant@example.org", full_name="Ann Applicant", accredited=True)


@dataclass
class World:
    domain: Domain
    other_domain: Domain
    pending_application: MembershipApplication
    membership: MembershipApplication
    other_domain_application: MembershipApplication
    submitted_project: Project
    returned_project: Project
    approved_project: Project
    other_domain_project: Project
    colleague: object  # a domain member, not on approved_project
    teammate: object  # a domain member on approved_project


@pytest.fixture
def world(
    domain, other_domain, member, lead, other_lead, applicant, researcher, output_checker, governance_reviewer
) -> World:
    colleague = _persona(Role.RESEARCHER, email="colleague@example.org", accredited=True)
    ensure_member(colleague, domain)
    approved = ProjectFactory(domain=domain, owner=member, status=ProjectStatus.APPROVED, title="Approved project")
    teammate = _persona(Role.RESEARCHER, email="teammate@example.org", accredited=True)
    add_to_project(teammate, approved)
    other_owner = _persona(Role.RESEARCHER, email="elsewhere@example.org", accredited=True)
    return World(
        domain=domain,
        other_domain=other_domain,
        pending_application=MembershipApplicationFactory(domain=domain, applicant=applicant),
        membership=MembershipApplication.objects.get(domain=domain, applicant=member, status="approved"),
        other_domain_application=MembershipApplicationFactory(domain=other_domain, applicant=applicant),
        submitted_project=ProjectFactory(domain=domain, owner=member, title="Submitted project"),
        returned_project=ProjectFactory(domain=domain, owner=member, status=ProjectStatus.RETURNED),
        approved_project=approved,
        other_domain_project=ProjectFactory(domain=other_domain, owner=other_owner, title="Elsewhere"),
        colleague=colleague,
        teammate=teammate,
    )


@pytest.fixture
def people(world, researcher, member, lead, other_lead, output_checker, governance_reviewer):
    """The user for each persona name (None: anonymous)."""
    return {
        "anonymous": None,
        "researcher": researcher,
        "member": member,
        "lead": lead,
        "other_lead": other_lead,
        "output_checker": output_checker,
        "governance_reviewer": governance_reviewer,
    }
