"""Only accredited members of an approved, current project reach its data."""

from datetime import timedelta

import pytest
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from accounts.models import ResearcherProfile
from audit.models import AuditAction, AuditEvent
from domains.permissions import DataAccessDenied, DataAccessReason
from domains.selectors import project_get_for_data_access
from tests.factories.domains import ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(member, domain):
    return ProjectFactory(domain=domain, owner=member, status="approved")


def _lapse_training(user):
    ResearcherProfile.objects.filter(user=user).update(training_completed_on=timezone.localdate() - timedelta(days=366))


def test_an_accredited_member_reaches_the_data(member, project):
    assert project_get_for_data_access(user=member, pk=project.pk) == project


@pytest.mark.parametrize("who", ["researcher", "lead", "other_lead", "output_checker", "governance_reviewer"])
def test_non_members_get_404(request, who, project):
    with pytest.raises(Http404):
        project_get_for_data_access(user=request.getfixturevalue(who), pk=project.pk)


def test_lapsed_training_blocks_at_once_with_a_page_saying_what_to_do(client_for, member, project):
    client = client_for(member)
    url = reverse("domains:project-workspace", args=[project.pk])
    assert client.get(url).status_code == 200
    _lapse_training(member)
    response = client.get(url)
    assert response.status_code == 403
    body = response.content.decode()
    assert "renew your information-governance training" in body and reverse("accounts:account") in body
    event = AuditEvent.objects.get(action=AuditAction.DATA_ACCESS_REFUSED)
    assert event.details == {"reason": "not_accredited"} and event.outcome == "denied"


def test_an_agreement_that_is_not_current_blocks_too(member, project):
    ResearcherProfile.objects.filter(user=member).update(agreement_version="2020-1")
    with pytest.raises(DataAccessDenied) as refused:
        project_get_for_data_access(user=member, pk=project.pk)
    assert refused.value.reason is DataAccessReason.NOT_ACCREDITED
    assert "accept the current data access agreement" in str(refused.value)


def test_access_stops_the_day_after_the_end_date(client_for, member, project):
    project.end_date = timezone.localdate()
    project.save()
    assert project_get_for_data_access(user=member, pk=project.pk)
    project.end_date = timezone.localdate() - timedelta(days=1)
    project.save()
    response = client_for(member).get(reverse("domains:project-workspace", args=[project.pk]))
    assert response.status_code == 404
    assert "access to its data stopped the day after" in response.content.decode()


def test_a_project_waiting_for_review_gives_no_access(member, domain):
    project = ProjectFactory(domain=domain, owner=member)
    with pytest.raises(DataAccessDenied) as refused:
        project_get_for_data_access(user=member, pk=project.pk)
    assert refused.value.reason is DataAccessReason.NOT_APPROVED


def test_unknown_project_is_404(member):
    with pytest.raises(Http404):
        project_get_for_data_access(user=member, pk=999_999)
