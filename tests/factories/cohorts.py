"""Factories for saved cohorts. ``CohortFactory(members=[...])`` snapshots
those participants; saving from criteria goes through
``cohorts.services.cohort_create``."""

from __future__ import annotations

import factory

from cohorts.criteria import parse
from cohorts.models import Cohort, CohortMember, CohortShare
from tests.factories.accounts import UserFactory
from tests.factories.domains import ProjectFactory
from tests.factories.participants import DataReleaseFactory


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort
        skip_postgeneration_save = True

    project = factory.SubFactory(ProjectFactory, status="approved")
    name = factory.Sequence(lambda n: f"Cohort {n}")
    release = factory.SubFactory(DataReleaseFactory)
    definition = factory.LazyFunction(lambda: parse({}).as_json())
    member_count = 0
    created_by = factory.LazyAttribute(lambda c: c.project.owner)

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            CohortMember.objects.bulk_create(CohortMember(cohort=self, participant=p) for p in extracted)
            self.member_count = len(extracted)
            self.save(update_fields=["member_count"])


class CohortShareFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CohortShare

    cohort = factory.SubFactory(CohortFactory)
    project = factory.SubFactory(ProjectFactory, status="approved")
    shared_by = factory.SubFactory(UserFactory)
