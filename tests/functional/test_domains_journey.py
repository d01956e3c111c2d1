"""In a real browser: a researcher applies to a domain, the lead approves, the
researcher registers a project, the lead approves it, and it appears under
"My projects" and in the public register."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role
from accounts.services import role_grant
from tests.factories.accounts import PASSWORD, UserFactory
from tests.factories.domains import DomainFactory, make_lead
from tests.helpers import totp_code

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _signed_in_page(browser, live_server, user):
    device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/accounts/sign-in/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/two-factor/verify/**")
    page.get_by_label("Six-digit code").fill(totp_code(device))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(live_server.url + "/")
    return page


def test_researcher_joins_a_domain_and_gets_a_project_approved(live_server, browser):
    domain = DomainFactory(slug="neurology", name="Neurology", description="Rare neurological disorders.")
    rosa = UserFactory(email="rosa@example.org", full_name="Rosa Researcher", accredited=True)
    leo = UserFactory(email="leo@example.org", full_name="Leo Lead", accredited=True)
    for user in (rosa, leo):
        role_grant(user=user, role=Role.RESEARCHER, by=None)
    make_lead(leo, domain)
    researcher = _signed_in_page(browser, live_server, rosa)
    lead = _signed_in_page(browser, live_server, leo)

    # The researcher finds the domain and applies.
    researcher.get_by_role("link", name="Domains").click()
    assert researcher.get_by_text("Led by Leo Lead").is_visible()
    researcher.get_by_role("link", name="Neurology").click()
    researcher.get_by_label("Why do you want to join?").fill("I study inherited epilepsies in children.")
    researcher.get_by_role("button", name="Apply to join").click()
    assert researcher.get_by_test_id("application-status").inner_text() == "Waiting for a decision"

    # The lead approves from the queue.
    lead.get_by_role("link", name="Review queue").click()
    lead.get_by_role("link", name="Review", exact=True).click()
    lead.get_by_label("Approve").check()
    lead.get_by_role("button", name="Record decision").click()
    assert lead.get_by_test_id("application-status").inner_text() == "Member"

    # The researcher registers a project.
    researcher.goto(live_server.url + "/domains/neurology/")
    researcher.get_by_role("link", name="Register a project").click()
    researcher.get_by_label("Title").fill("Genes behind childhood epilepsy")
    researcher.get_by_label("Lay summary").fill("We look for genes that cause epilepsy in children.")
    researcher.get_by_label("Aims").fill("Find de novo variants in epilepsy trios.")
    researcher.get_by_label("Data needed").fill("Trio genomes with seizure phenotypes.")
    researcher.get_by_label("Planned outputs").fill("Gene-level counts.")
    researcher.get_by_label("End date").fill((timezone.localdate() + timedelta(days=365)).isoformat())
    researcher.get_by_role("button", name="Submit for review").click()
    assert researcher.get_by_test_id("project-status").inner_text() == "Waiting for review"

    # The lead approves it.
    lead.get_by_role("link", name="Review queue").click()
    lead.get_by_role("row", name="Genes behind childhood epilepsy").get_by_role(
        "link", name="Review", exact=True
    ).click()
    lead.get_by_label("Approve").check()
    lead.get_by_role("button", name="Record decision").click()
    assert lead.get_by_test_id("project-status").inner_text() == "Approved"

    # The researcher sees it under "My projects", and can open its data.
    researcher.get_by_role("navigation").get_by_role("link", name="My projects").click()
    row = researcher.get_by_test_id("my-projects").get_by_role("row", name="Genes behind childhood epilepsy")
    assert "Approved" in row.inner_text()
    row.get_by_role("link", name="Genes behind childhood epilepsy").click()
    researcher.get_by_role("link", name="Open the project's data").click()
    assert researcher.get_by_text("You can work with the data of the current release").is_visible()
    researcher.get_by_role("link", name="Project register").click()
    assert researcher.get_by_role("heading", name="Genes behind childhood epilepsy").is_visible()
