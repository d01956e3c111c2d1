import pytest
from django.core import mail
from django.urls import reverse

from audit.models import AuditAction, AuditEvent
from domains import services
from domains.models import MembershipApplication, MembershipStatus
from domains.permissions import NotAllowed, is_domain_member
from domains.policies import TransitionNotAllowed
from tests.factories.domains import MembershipApplicationFactory, make_lead

pytestmark = pytest.mark.django_db

WHY = "I study inherited epilepsies and want to work with this domain."


def test_apply_creates_a_pending_application_audited_in_the_same_transaction(researcher, domain, lead):
    application = services.membership_apply(domain=domain, justification=WHY, by=researcher)
    assert application.status == MembershipStatus.PENDING
    event = AuditEvent.objects.get(action=AuditAction.MEMBERSHIP_APPLIED)
    assert (event.actor_id, event.target_id) == (researcher.pk, str(application.pk))


def test_apply_tells_the_leads_after_commit(researcher, domain, lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.membership_apply(domain=domain, justification=WHY, by=researcher)
    assert len(callbacks) == 1
    assert mail.outbox[0].to == [lead.email]


def test_no_mail_is_sent_when_the_transaction_rolls_back(researcher, domain, lead, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.membership_apply(domain=domain, justification=WHY, by=researcher)
        raise RuntimeError("boom")
    assert mail.outbox == []
    assert not MembershipApplication.objects.exists()


def test_applying_twice_is_refused(researcher, domain):
    services.membership_apply(domain=domain, justification=WHY, by=researcher)
    with pytest.raises(NotAllowed, match="already applied"):
        services.membership_apply(domain=domain, justification=WHY, by=researcher)


def test_a_short_justification_is_refused(researcher, domain):
    with pytest.raises(NotAllowed, match="at least 20 characters"):
        services.membership_apply(domain=domain, justification="pls", by=researcher)


def test_only_researchers_may_apply(output_checker, domain):
    with pytest.raises(NotAllowed, match="Only researchers"):
        services.membership_apply(domain=domain, justification=WHY, by=output_checker)


def test_lead_approves_and_the_applicant_is_told(researcher, domain, lead, django_capture_on_commit_callbacks):
    application = services.membership_apply(domain=domain, justification=WHY, by=researcher)
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_approve(application=application, by=lead, reason="Welcome")
    application.refresh_from_db()
    assert application.status == MembershipStatus.APPROVED and application.decided_by == lead
    assert is_domain_member(researcher, domain)
    assert mail.outbox[-1].to == [researcher.email] and "Welcome" in mail.outbox[-1].body


def test_rejection_needs_a_reason_and_allows_reapplying(researcher, domain, lead):
    application = services.membership_apply(domain=domain, justification=WHY, by=researcher)
    with pytest.raises(NotAllowed, match="Give a reason"):
        services.membership_reject(application=application, by=lead, reason="  ")
    services.membership_reject(application=application, by=lead, reason="Tell us more about your project.")
    event = AuditEvent.objects.get(action=AuditAction.MEMBERSHIP_REJECTED)
    assert event.details == {
        "domain": domain.slug,
        "from": "pending",
        "to": "rejected",
        "reason": "Tell us more about your project.",
    }
    again = services.membership_apply(domain=domain, justification=WHY, by=researcher)
    assert again.pk != application.pk and again.status == MembershipStatus.PENDING


def test_a_lead_of_another_domain_has_no_power_here(researcher, domain, other_lead):
    application = services.membership_apply(domain=domain, justification=WHY, by=researcher)
    with pytest.raises(NotAllowed, match="Only a lead of Neurology"):
        services.membership_approve(application=application, by=other_lead)


def test_a_lead_cannot_approve_their_own_application(lead, other_domain):
    make_lead(lead, other_domain)
    application = services.membership_apply(domain=other_domain, justification=WHY, by=lead)
    with pytest.raises(NotAllowed, match="your own"):
        services.membership_approve(application=application, by=lead)


def test_applicant_withdraws_a_pending_application_but_not_a_decided_one(researcher, domain, lead):
    application = services.membership_apply(domain=domain, justification=WHY, by=researcher)
    services.membership_withdraw(application=application, by=researcher)
    application.refresh_from_db()
    assert application.status == MembershipStatus.WITHDRAWN and application.closed_at
    with pytest.raises(TransitionNotAllowed, match="withdrawn"):
        services.membership_approve(application=application, by=lead)


def test_revocation_takes_effect_on_the_next_request(client_for, member, domain, lead):
    from tests.factories.domains import ProjectFactory

    project = ProjectFactory(domain=domain, owner=member, status="approved")
    client = client_for(member)
    workspace = reverse("domains:project-workspace", args=[project.pk])
    assert client.get(workspace).status_code == 200
    membership = MembershipApplication.objects.get(applicant=member, domain=domain, status="approved")
    services.membership_revoke(application=membership, by=lead, reason="Left the institution.")
    assert client.get(workspace).status_code == 404
    assert (
        client.get(reverse("domains:project", args=[project.pk])).status_code == 200
    )  # owners still see what they wrote


def test_revoking_needs_a_reason_and_a_lead(member, domain, lead):
    membership = MembershipApplication.objects.get(applicant=member, domain=domain)
    with pytest.raises(NotAllowed, match="Only a lead"):
        services.membership_revoke(application=membership, by=member, reason="x")
    with pytest.raises(NotAllowed, match="Give a reason"):
        services.membership_revoke(application=membership, by=lead, reason="")


def test_application_page_shows_the_history_from_the_audit_trail(client_for, researcher, domain, lead):
    application = services.membership_apply(domain=domain, justification=WHY, by=researcher)
    services.membership_reject(application=application, by=lead, reason="Tell us more.")
    page = client_for(researcher).get(reverse("domains:application", args=[application.pk])).content.decode()
    assert "Applied to join a domain" in page and "Domain application rejected" in page and "Tell us more." in page


def test_lead_decides_in_the_page_and_a_missing_reason_is_shown_next_to_the_field(client_for, domain, lead):
    application = MembershipApplicationFactory(domain=domain)
    url = reverse("domains:application-decide", args=[application.pk])
    response = client_for(lead).post(url, {"decision": "reject", "reason": ""})
    assert response.status_code == 400
    assert 'id="id_reason-error"' in response.content.decode()
    response = client_for(lead).post(url, {"decision": "approve", "reason": ""})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == MembershipStatus.APPROVED


def test_domain_page_shows_the_users_state(client_for, researcher, domain):
    client = client_for(researcher)
    url = reverse("domains:domain", args=[domain.slug])
    assert "You are not a member of this domain." in client.get(url).content.decode()
    response = client.post(url, {"justification": WHY})
    assert response.status_code == 302
    assert "Waiting for a decision" in client.get(url).content.decode()


def test_review_queue_counts_only_the_leads_domains(client_for, domain, other_domain, lead):
    MembershipApplicationFactory.create_batch(2, domain=domain)
    MembershipApplicationFactory(domain=other_domain)
    page = client_for(lead).get(reverse("domains:review-queue")).content.decode()
    assert "Applications to join (2)" in page


def test_directory_groups_domains_by_programme(client_for, researcher):
    from tests.factories.domains import DomainFactory

    DomainFactory(name="Aardvark studies", programme="rare_disease")
    DomainFactory(name="Breast cancer", programme="cancer")
    DomainFactory(name="Zebra cancer", programme="cancer")
    page = client_for(researcher).get(reverse("domains:directory")).content.decode()
    assert page.count("<h2>Cancer</h2>") == 1 and page.count("<h2>Rare disease</h2>") == 1
    assert page.index("Breast cancer") < page.index("Zebra cancer") < page.index("Aardvark studies")


def test_directory_filter_by_programme_answers_htmx_with_the_list_only(client_for, researcher):
    from tests.factories.domains import DomainFactory

    DomainFactory(name="Breast cancer", programme="cancer")
    DomainFactory(name="Neurology", programme="rare_disease")
    response = client_for(researcher).get(
        reverse("domains:directory"), {"programme": "cancer"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert "Breast cancer" in body and "Neurology" not in body and "<html" not in body


def test_directory_filter_with_an_unknown_programme_answers_the_list_with_the_error_as_400(client_for, researcher):
    response = client_for(researcher).get(
        reverse("domains:directory"), {"programme": "astrology"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Choose one of the listed programmes." in body and "<html" not in body
