"""A researcher builds a cohort in the browser, sees the count change, saves it and opens its page."""

import re

import pytest
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories.accounts import UserFactory
from tests.factories.domains import ProjectFactory
from tests.functional.browser_session import sign_in_typed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_build_count_save_and_open_a_cohort(live_server, page, prepared_release, settings):
    from participants.models import HpoTerm
    from participants.ontology import ontology_write_tables
    from tests.integration.cohorts.conftest import load_prepared

    settings.DATA_ROOT = prepared_release.data_root
    with transaction.atomic():
        if not HpoTerm.objects.exists():  # transactional tests start from an empty database
            ontology_write_tables()
        load_prepared(prepared_release, name="test-r1")
    user = UserFactory(email="rosa@example.org", full_name="Rosa Researcher", accredited=True)
    device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    project = ProjectFactory(owner=user, status="approved", title="Cardiac genetics")

    sign_in_typed(page, live_server.url, "rosa@example.org", device)
    page.goto(f"{live_server.url}/cohorts/projects/{project.pk}/new/")
    total = page.get_by_test_id("total")
    total.wait_for()
    everyone = total.inner_text()
    assert re.fullmatch(r"[\d,]+", everyone)

    page.get_by_label("Cancer").check()
    page.wait_for_function(
        "previous => document.querySelector('[data-testid=total]')?.innerText !== previous", arg=everyone
    )
    cancer = page.get_by_test_id("total").inner_text()
    assert int(cancer.replace(",", "")) < int(everyone.replace(",", ""))

    page.get_by_label("Cohort name").fill("Cancer participants")
    page.get_by_role("button", name="Save cohort").click()
    page.wait_for_url(re.compile(r".*/cohorts/\d+/$"))
    assert page.get_by_role("heading", name=re.compile("Cancer participants")).is_visible()
    assert page.get_by_test_id("cohort-size").inner_text() == cancer
    assert page.get_by_text("All of: programme is cancer.").is_visible()
