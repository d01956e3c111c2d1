"""A researcher runs a case-control association on two saved cohorts in the
browser, a real worker runs it, and the Manhattan plot opens on the job page."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from analysis import registry
from cohorts.services import cohort_create
from participants.models import HpoTerm
from participants.ontology import ontology_write_tables
from tests.factories.accounts import UserFactory
from tests.factories.domains import ProjectFactory
from tests.functional.browser_session import sign_in_typed
from tests.integration.analysis.conftest import Workers, data_root, workers  # noqa: F401
from tests.integration.cohorts.conftest import RELEASE, load_prepared

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]


def test_run_an_association_on_two_saved_cohorts_and_open_its_manhattan_plot(
    live_server,
    page,
    prepared_release,
    workers: Workers,  # noqa: F811
    tmp_path,
):
    with transaction.atomic():
        if not HpoTerm.objects.exists():  # transactional tests start from an empty database
            ontology_write_tables()
        load_prepared(prepared_release, name=RELEASE)
    user = UserFactory(email="rosa@example.org", full_name="Rosa Researcher", accredited=True)
    device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    project = ProjectFactory(owner=user, status="approved", title="Cancer genetics")
    cases = cohort_create(by=user, project=project, name="Cancer participants",
                          criteria_json={"include_all": [{"type": "programme", "values": ["cancer"]}]})  # fmt: skip
    cohort_create(by=user, project=project, name="Rare disease participants",
                  criteria_json={"include_all": [{"type": "programme", "values": ["rare_disease"]}]})  # fmt: skip
    assert registry.job_type("association").queue == workers.queue
    workers.start(1)

    sign_in_typed(page, live_server.url, "rosa@example.org", device)
    page.goto(f"{live_server.url}/cohorts/{cases.pk}/")
    page.get_by_role("link", name="Run an analysis").click()
    page.get_by_role("link", name="Choose case-control association").click()
    controls = page.get_by_role("group", name="Controls")
    controls.get_by_label("Rare disease participants (v1, release test-r1)").check()
    cases_group = page.get_by_role("group", name="Cases")
    if not cases_group.get_by_label("Cancer participants (v1, release test-r1)").is_checked():
        cases_group.get_by_label("Cancer participants (v1, release test-r1)").check()
    page.get_by_label("Principal components").fill("2")
    page.get_by_role("button", name="Run case-control association").click()
    page.wait_for_url(re.compile(r".*/jobs/\d+/$"))
    page.get_by_test_id("job-status").filter(has_text="Succeeded").wait_for(timeout=180_000)

    plot = page.get_by_test_id("plot-manhattan")
    plot.scroll_into_view_if_needed()
    assert plot.locator("svg").first.is_visible()
    assert "Manhattan plot" in plot.inner_text()
    assert page.get_by_test_id("plot-qq").locator("svg").first.is_visible()
    page.screenshot(path=str(tmp_path / "association.png"), full_page=True)
    assert "rows" in page.get_by_test_id("table-association").get_by_test_id("table-count").inner_text()
