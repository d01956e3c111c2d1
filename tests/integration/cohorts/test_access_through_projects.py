"""A cohort is reached through any project it is usable in; a refusal names
the project that was checked; the cohort list does not grow in queries with
projects; the batched access query agrees with the one-project check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from cohorts import selectors
from cohorts.services import cohort_create, cohort_share, cohorts_flag_withdrawals
from domains.models import ProjectStatus
from domains.permissions import user_can_access_project_data
from participants.withdrawals import participants_withdrawn_callbacks
from tests.factories.cohorts import CohortFactory, CohortShareFactory
from tests.factories.domains import ProjectFactory, add_to_project

pytestmark = pytest.mark.django_db
CANCER = {"include_all": [{"type": "programme", "values": ["cancer"]}]}


def test_a_cohort_opens_through_a_shared_project_when_its_own_has_ended(release, world, client_for):
    own = world.approved_project
    cohort = cohort_create(by=own.owner, project=own, name="Cancer", criteria_json=CANCER)
    sibling = ProjectFactory(domain=world.domain, owner=own.owner, status="approved", title="Sibling")
    cohort_share(by=own.owner, cohort=cohort, project=sibling)
    own.end_date = timezone.localdate() - timedelta(days=1)
    own.save(update_fields=["end_date"])
    response = client_for(own.owner).get(reverse("cohorts:detail", args=[cohort.pk]))
    assert response.status_code == 200
    assert selectors.cohort_working_project(user=own.owner, cohort=cohort) == sibling


def test_a_refusal_is_audited_against_the_project_checked(release, world, client_for):
    own = world.approved_project
    teammate = world.teammate
    elsewhere = ProjectFactory(domain=world.domain, status="submitted", title="Not yet approved")
    add_to_project(teammate, elsewhere)
    cohort = CohortFactory(project=elsewhere, release=release)
    CohortShareFactory(cohort=cohort, project=own, shared_by=elsewhere.owner)
    ProjectFactory(domain=world.domain, owner=teammate, status="approved")  # access elsewhere changes nothing
    own.status = ProjectStatus.CLOSED
    own.save(update_fields=["status"])
    response = client_for(teammate).get(reverse("cohorts:detail", args=[cohort.pk]))
    assert response.status_code == 404  # neither project is open: the first refusal (its own project's)
    event = AuditEvent.objects.get(action=AuditAction.DATA_ACCESS_REFUSED)
    assert event.target_id == str(elsewhere.pk) and event.details == {"reason": "not_approved"}


def test_cohort_list_query_count_does_not_grow_with_projects(release, world, client_for):
    owner = world.approved_project.owner
    client = client_for(owner)
    cohort_create(by=owner, project=world.approved_project, name="One", criteria_json=CANCER)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("cohorts:list")).status_code == 200
    for i in range(4):
        project = ProjectFactory(domain=world.domain, owner=owner, status="approved", title=f"More {i}")
        cohort_create(by=owner, project=project, name=f"Cohort {i}", criteria_json=CANCER)
    ProjectFactory(domain=world.domain, owner=owner, status="submitted", title="Waiting")
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("cohorts:list")).content.decode()
    assert all(f"Cohort {i}" in html and f"New cohort in More {i}" in html for i in range(4))
    assert "New cohort in Waiting" not in html
    assert len(many) == len(few)


def test_the_batched_access_query_agrees_with_the_one_project_check(world, people):
    member = people["member"]
    cases = [
        world.approved_project,
        world.submitted_project,
        world.returned_project,
        ProjectFactory(domain=world.domain, owner=member, status="approved",
                       end_date=timezone.localdate() - timedelta(days=1)),
        ProjectFactory(domain=world.domain, owner=member, status="closed"),
        world.other_domain_project,
    ]  # fmt: skip
    for user in (member, people["lead"], people["researcher"], world.teammate):
        allowed = {p.pk for p in selectors.projects_with_data_access(user=user)}
        assert allowed == {p.pk for p in cases if user_can_access_project_data(user, p)}, user
    member.profile.training_completed_on = member.profile.training_completed_on.replace(year=2000)
    member.profile.save()
    assert selectors.projects_with_data_access(user=member) == []


def test_cohorts_register_their_flagger_for_participants_who_withdraw():
    flaggers = {f.callback: f.label for f in participants_withdrawn_callbacks()}
    assert flaggers.get(cohorts_flag_withdrawals) == "saved cohorts"
