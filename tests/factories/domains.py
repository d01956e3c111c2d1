"""Factories for domains. They write rows directly to arrange a test; the
behaviour under test always goes through the services."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import Role
from accounts.services import role_grant
from domains.models import (
    Domain,
    MembershipApplication,
    MembershipStatus,
    Programme,
    Project,
    ProjectMember,
    ProjectStatus,
)
from tests.factories.accounts import UserFactory


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Domain

    slug = factory.Sequence(lambda n: f"domain-{n}")
    name = factory.Sequence(lambda n: f"Domain {n}")
    programme = Programme.RARE_DISEASE
    description = "A research domain used in tests."


class MembershipApplicationFactory(factory.django.DjangoModelFactory):
    """``MembershipApplicationFactory(status="approved")`` is a membership."""

    class Meta:
        model = MembershipApplication

    domain = factory.SubFactory(DomainFactory)
    applicant = factory.SubFactory(UserFactory, accredited=True)
    justification = "I study this area and would like to work with its data."
    status = MembershipStatus.PENDING

    @factory.lazy_attribute
    def decided_at(self):
        return timezone.now() if self.status in {"approved", "rejected", "revoked"} else None

    @factory.lazy_attribute
    def decided_by(self):
        return UserFactory() if self.decided_at else None

    @factory.lazy_attribute
    def closed_at(self):
        return timezone.now() if self.status in {"withdrawn", "revoked"} else None


class ProjectFactory(factory.django.DjangoModelFactory):
    """A project; its owner is a member of the domain and of the project.
    ``ProjectFactory(status="approved")`` is approved and current."""

    class Meta:
        model = Project
        skip_postgeneration_save = True

    domain = factory.SubFactory(DomainFactory)
    owner = factory.SubFactory(UserFactory, accredited=True)
    title = factory.Sequence(lambda n: f"Project {n}")
    lay_summary = "What the project is for, in plain words."
    aims = "To find out something useful."
    data_needed = "Germline genomes and phenotypes of the domain's participants."
    planned_outputs = "Aggregate tables and plots."
    end_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))
    status = ProjectStatus.SUBMITTED

    @factory.lazy_attribute
    def decided_at(self):
        return timezone.now() if self.status in {"approved", "rejected", "returned", "closed"} else None

    @factory.lazy_attribute
    def decided_by(self):
        return UserFactory() if self.decided_at else None

    @factory.lazy_attribute
    def approved_on(self):
        return timezone.localdate() if self.status in {"approved", "closed"} else None

    @factory.post_generation
    def memberships(obj, create, extracted, **kwargs):
        if not create:
            return
        ensure_member(obj.owner, obj.domain)
        ProjectMember.objects.get_or_create(project=obj, user=obj.owner, defaults={"added_by": obj.owner})


def ensure_member(user, domain) -> MembershipApplication:
    existing = MembershipApplication.objects.filter(applicant=user, domain=domain, status="approved").first()
    return existing or MembershipApplicationFactory(applicant=user, domain=domain, status=MembershipStatus.APPROVED)


def make_lead(user, domain):
    role_grant(user=user, role=Role.DOMAIN_LEAD, obj=domain, by=None)
    return user


def add_to_project(user, project):
    ensure_member(user, project.domain)
    return ProjectMember.objects.create(project=project, user=user, added_by=project.owner)
