"""From a saved cohort, a researcher runs an allele-frequency job in the
browser, watches its progress bar while a real worker runs it, and opens the plot."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from analysis import registry
from cohorts.services import cohort_create
from participants.models import Gene, HpoTerm
from participants.ontology import ontology_write_tables
from tests.factories.accounts import UserFactory
from tests.factories.domains import ProjectFactory
from tests.functional.browser_session import sign_in_typed
from tests.integration.analysis.conftest import Workers, data_root, workers  # noqa: F401
from tests.integration.cohorts.conftest import load_prepared

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]


def test_run_an_allele_frequency_job_from_a_saved_cohort_and_open_its_plot(
    live_server,
    page,
    prepared_release,
    workers: Workers,  # noqa: F811
    tmp_path,
):
    with transaction.atomic():
        if not HpoTerm.objects.exists():  # transactional tests start from an empty database
            ontology_write_tables()
        release = load_prepared(prepared_release, name="test-r1").release
    user = UserFactory(email="rosa@example.org", full_name="Rosa Researcher", accredited=True)
    device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    project = ProjectFactory(owner=user, status="approved", title="Cardiac genetics")
    cohort = cohort_create(by=user, project=project, name="Cancer participants",
                           criteria_json={"include_all": [{"type": "programme", "values": ["cancer"]}]})  # fmt: skip
    gene = Gene.objects.filter(release=release).order_by("symbol").first().symbol
    assert registry.job_type("allele-frequencies").queue == workers.queue

    sign_in_typed(page, live_server.url, "rosa@example.org", device)
    page.goto(f"{live_server.url}/cohorts/{cohort.pk}/")
    page.get_by_role("link", name="Run an analysis").click()
    page.get_by_role("link", name="Choose allele frequencies").click()
    assert page.get_by_label("Cancer participants (v1, release test-r1)").is_checked()
    page.get_by_label("Gene").fill(gene)
    page.get_by_label("Gene").dispatch_event("change")
    page.get_by_test_id("estimate-time").wait_for()
    assert "with a genome" in page.get_by_test_id("estimate").inner_text()
    page.get_by_role("button", name="Run allele frequencies").click()
    page.wait_for_url(re.compile(r".*/jobs/\d+/$"))
    job_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    bar = page.get_by_role("progressbar", name=f"Progress of job {job_id}")
    assert bar.is_visible() and page.get_by_test_id("job-status").inner_text() == "Queued"
    workers.start(1)  # the worker starts after the page shows the job waiting
    page.get_by_test_id("job-status").filter(has_text="Succeeded").wait_for(timeout=90_000)
    assert page.get_by_role("progressbar", name=f"Progress of job {job_id}").get_attribute("value") == "100"

    plot = page.get_by_test_id("plot-lollipop")
    plot.scroll_into_view_if_needed()
    assert plot.locator("svg").is_visible()
    assert "Allele frequency along" in plot.inner_text()
    page.screenshot(path=str(tmp_path / "job.png"), full_page=True)
    table = page.get_by_test_id("table-allele_frequencies")
    assert "rows" in table.get_by_test_id("table-count").inner_text()
