from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from domains import services
from domains.models import ProjectStatus
from domains.permissions import NotAllowed
from domains.policies import TransitionNotAllowed
from tests.factories.domains import ProjectFactory, add_to_project, ensure_member

pytestmark = pytest.mark.django_db


def _fields(**overrides):
    fields = {
        "title": "Epilepsy genes",
        "lay_summary": "Looking for genes behind childhood epilepsy.",
        "aims": "Find them.",
        "data_needed": "Trio genomes.",
        "planned_outputs": "Gene-level counts.",
        "end_date": timezone.localdate() + timedelta(days=365),
    }
    return {**fields, **overrides}


def test_a_member_registers_a_project_and_is_its_first_member(member, domain, lead):
    project = services.project_register(domain=domain, by=member, **_fields())
    assert project.status == ProjectStatus.SUBMITTED
    assert list(project.memberships.values_list("user", flat=True)) == [member.pk]
    assert AuditEvent.objects.filter(action=AuditAction.PROJECT_SUBMITTED, target_id=str(project.pk)).exists()


def test_only_members_of_the_domain_may_register(researcher, domain):
    with pytest.raises(NotAllowed, match="Join Neurology first"):
        services.project_register(domain=domain, by=researcher, **_fields())


@pytest.mark.parametrize(
    ("end_date", "message"),
    [(timedelta(days=0), "in the future"), (timedelta(days=6 * 366), "at most 5 years")],
)
def test_end_date_must_be_sensible(member, domain, end_date, message):
    with pytest.raises(NotAllowed, match=message):
        services.project_register(domain=domain, by=member, **_fields(end_date=timezone.localdate() + end_date))


def test_return_edit_resubmit_approve(member, domain, lead, django_capture_on_commit_callbacks):
    project = services.project_register(domain=domain, by=member, **_fields())
    with django_capture_on_commit_callbacks(execute=True):
        services.project_return(project=project, by=lead, reason="Say which phenotypes.")
    assert mail.outbox[-1].to == [member.email] and "Say which phenotypes." in mail.outbox[-1].body
    services.project_resubmit(project=project, by=member, **_fields(data_needed="Trios with HP:0001250."))
    project.refresh_from_db()
    assert project.status == ProjectStatus.SUBMITTED and project.data_needed == "Trios with HP:0001250."
    services.project_approve(project=project, by=lead)
    project.refresh_from_db()
    assert project.status == ProjectStatus.APPROVED and project.approved_on == timezone.localdate()
    actions = list(
        AuditEvent.objects.filter(target_type="domains.project", target_id=str(project.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["project.submitted", "project.returned", "project.resubmitted", "project.approved"]


def test_nobody_reviews_their_own_project(lead, domain):
    ensure_member(lead, domain)
    project = services.project_register(domain=domain, by=lead, **_fields())
    with pytest.raises(NotAllowed, match="you work on"):
        services.project_approve(project=project, by=lead)


def test_a_lead_of_another_domain_cannot_review(member, domain, other_lead):
    project = services.project_register(domain=domain, by=member, **_fields())
    with pytest.raises(NotAllowed, match="Only a lead of Neurology"):
        services.project_approve(project=project, by=other_lead)


def test_an_approved_project_cannot_be_edited(member, domain, lead):
    project = ProjectFactory(domain=domain, owner=member, status="approved")
    with pytest.raises(TransitionNotAllowed):
        services.project_resubmit(project=project, by=member, **_fields())


def test_owner_adds_only_domain_members(member, domain, researcher, applicant):
    project = ProjectFactory(domain=domain, owner=member, status="approved")
    with pytest.raises(NotAllowed, match="not a member of Neurology"):
        services.project_member_add(project=project, user=researcher, by=member)
    ensure_member(applicant, domain)
    services.project_member_add(project=project, user=applicant, by=member)
    assert project.memberships.filter(user=applicant).exists()


def test_members_cannot_be_added_after_the_end_date(member, domain, applicant):
    project = ProjectFactory(domain=domain, owner=member, status="approved")
    project.end_date = timezone.localdate() - timedelta(days=1)
    project.save()
    ensure_member(applicant, domain)
    with pytest.raises(NotAllowed, match="before its end date"):
        services.project_member_add(project=project, user=applicant, by=member)


def test_add_member_with_htmx_returns_the_member_list(client_for, member, domain, applicant):
    project = ProjectFactory(domain=domain, owner=member, status="approved")
    ensure_member(applicant, domain)
    response = client_for(member).post(
        reverse("domains:project-member-add", args=[project.pk]), {"user": applicant.pk}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="project-members">') and applicant.display_name in body


def test_the_system_closes_projects_past_their_end_date(member, domain):
    ended = ProjectFactory(domain=domain, owner=member, status="approved")
    ended.end_date = timezone.localdate() - timedelta(days=1)
    ended.save()
    current = ProjectFactory(domain=domain, owner=member, status="approved")
    assert services.projects_close_ended() == [ended]
    assert services.projects_close_ended() == []  # safe to run twice
    ended.refresh_from_db()
    current.refresh_from_db()
    assert (ended.status, current.status) == (ProjectStatus.CLOSED, ProjectStatus.APPROVED)
    assert AuditEvent.objects.get(action=AuditAction.PROJECT_CLOSED).actor_id is None


def test_register_lists_approved_projects_only(client_for, researcher, member, domain):
    ProjectFactory(domain=domain, owner=member, status="approved", title="Visible project")
    ProjectFactory(domain=domain, owner=member, title="Hidden project")
    page = client_for(researcher).get(reverse("domains:project-register")).content.decode()
    assert "Visible project" in page and "Hidden project" not in page


def test_my_projects_lists_projects_i_own_or_work_on_only(client_for, member, domain, applicant):
    mine = ProjectFactory(domain=domain, owner=member, status="approved", title="Mine")
    ProjectFactory(domain=domain, title="Theirs")
    ensure_member(applicant, domain)
    add_to_project(applicant, mine)
    page = client_for(applicant).get(reverse("domains:my-projects")).content.decode()
    assert "Mine" in page and "Theirs" not in page


def test_project_form_errors_are_next_to_the_fields(client_for, member, domain):
    response = client_for(member).post(reverse("domains:project-new", args=[domain.slug]), {"title": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Give the project a title." in body and 'id="id_title-error"' in body and "Give an end date." in body


def test_the_edit_form_renders_the_end_date_as_a_date_input_reads_it(member, domain, client_for):
    project = ProjectFactory(domain=domain, owner=member, status=ProjectStatus.RETURNED)
    body = client_for(member).get(reverse("domains:project-edit", args=[project.pk])).content.decode()
    assert f'type="date" name="end_date" value="{project.end_date.isoformat()}"' in body


def test_the_register_is_public_and_shows_only_what_is_published(client, member, domain):
    ProjectFactory(
        domain=domain, owner=member, status="approved", title="Visible project", aims="Private aims of the team"
    )
    ProjectFactory(domain=domain, owner=member, title="Hidden project")
    response = client.get(reverse("domains:project-register"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Visible project" in page and "Hidden project" not in page
    assert "Private aims" not in page and member.email not in page and member.full_name not in page
    assert reverse("accounts:sign-in") in page  # the signed-out navigation


def test_the_data_link_is_shown_only_to_who_may_open_it(client_for, member, lead, domain):
    project = ProjectFactory(domain=domain, owner=member, status="approved")
    workspace = reverse("domains:project-workspace", args=[project.pk])
    assert workspace in client_for(member).get(reverse("domains:project", args=[project.pk])).content.decode()
    assert client_for(member).get(workspace).status_code == 200
    assert workspace not in client_for(lead).get(reverse("domains:project", args=[project.pk])).content.decode()
    assert client_for(lead).get(workspace).status_code == 404


def test_add_member_with_htmx_and_no_choice_answers_the_section_with_the_error_as_400(client_for, member, domain):
    project = ProjectFactory(domain=domain, owner=member, status="approved")
    response = client_for(member).post(
        reverse("domains:project-member-add", args=[project.pk]), {"user": ""}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert body.lstrip().startswith('<section class="card" id="project-members">')
    assert "Choose who to add." in body and "<html" not in body
