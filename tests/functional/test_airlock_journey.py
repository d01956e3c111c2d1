"""The airlock in the browser: a researcher asks for the export of a finished
job's result, the automated rules run, two output checkers review it and
approve it, and the researcher downloads the file and its disclosure record.

The exported result is a case-control association table (``JOB_TYPE``, ``RESULT``)."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role
from accounts.services import role_grant
from airlock.models import OutputRequest, RequestFile
from analysis.models import AnalysisJob
from analysis.services import job_submit
from cohorts.services import cohort_create
from participants.models import HpoTerm
from participants.ontology import ontology_write_tables
from portal.celery import app
from tests.factories.accounts import UserFactory
from tests.factories.domains import ProjectFactory
from tests.functional.browser_session import sign_in_typed
from tests.integration.analysis.conftest import data_root  # noqa: F401 - DATA_ROOT for the job and the airlock
from tests.integration.cohorts.conftest import load_prepared

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

JOB_TYPE = "association"
RESULT = "Association"  # the title of the table result to export
# Common variants only, so that every listed variant is above the airlock's AF and AC floors.
PARAMETERS = {"min_maf": 0.25, "min_mac": 20, "n_pcs": 2}


@pytest.fixture
def tasks_in_process():
    """Celery tasks (the release after approval, e-mails) run in the live server's process."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _person(email, name, role=None, **kwargs):
    user = UserFactory(email=email, full_name=name, **kwargs)
    if role is not None:
        role_grant(user=user, role=role, by=None)
    return user, TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


def test_request_export_of_a_result_two_checkers_approve_and_the_author_downloads_it(
    live_server,
    page,
    browser,
    prepared_release,
    data_root,  # noqa: F811
    tasks_in_process,
    tmp_path,
):
    with transaction.atomic():
        if not HpoTerm.objects.exists():  # transactional tests start from an empty database
            ontology_write_tables()
        load_prepared(prepared_release, name="test-r1")
    author, device = _person("rosa@example.org", "Rosa Researcher", Role.RESEARCHER, accredited=True)
    project = ProjectFactory(owner=author, status="approved", title="Cardiac genetics")
    cases_criteria = {"include_all": [{"type": "programme", "values": ["cancer"]}]}
    controls_criteria = {"include_all": [{"type": "programme", "values": ["rare_disease"]}]}
    cases = cohort_create(by=author, project=project, name="Cancer", criteria_json=cases_criteria)
    controls = cohort_create(by=author, project=project, name="Rare disease", criteria_json=controls_criteria)
    inputs = [("cases", cases), ("controls", controls)]
    job = job_submit(by=author, project=project, job_type=JOB_TYPE, inputs=inputs, parameters=PARAMETERS)
    job = AnalysisJob.objects.get(pk=job.pk)
    assert job.status == "succeeded", job.error
    checkers = [_person(f"checker{i}@example.org", f"Checker {i}", Role.OUTPUT_CHECKER) for i in (1, 2)]

    # The researcher asks for the export from the job's page.
    sign_in_typed(page, live_server.url, author.email, device)
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    page.get_by_test_id("request-export").click()
    page.get_by_role("radio", name=f"{RESULT} (table)").check()
    page.get_by_label("Context: what it shows and why it is needed outside").fill("Table 1 of the paper.")
    page.get_by_label("Disclosure controls applied").fill("Counts below 5 hidden; all rounded to 5.")
    page.get_by_role("button", name="Add to the output request").click()
    page.wait_for_url(re.compile(r".*/outputs/\d+/$"))
    request = OutputRequest.objects.get()
    file = RequestFile.objects.get(request=request)
    # Every rule passes but one: a short list of selected variants, some rare, is for a checker to decide.
    assert page.get_by_test_id(f"check-status-{file.name}").inner_text() == "Needs review"
    assert "a checker decides" in page.get_by_test_id("check-variant-lists").inner_text()
    assert (
        "Every model has at least 10 residual degrees of freedom"
        in page.get_by_test_id("check-residual-df").inner_text()
    )
    assert page.get_by_test_id("check-min-cell-count").is_visible()
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_test_id("request-status").filter(has_text="Submitted").wait_for()

    # Two output checkers review it, blind, from their queue; the second approves.
    for n, (checker, checker_device) in enumerate(checkers):
        context = browser.new_context()
        checker_page = context.new_page()
        checker_page.set_default_timeout(15_000)
        sign_in_typed(checker_page, live_server.url, checker.email, checker_device)
        checker_page.get_by_role("link", name="Output review").click()
        checker_page.get_by_test_id(f"queue-row-{request.pk}").get_by_role("link").click()
        assert "blind" in checker_page.get_by_test_id("blind-note").inner_text()
        assert checker_page.get_by_test_id(f"rendered-{file.name}").locator("table").is_visible()
        checker_page.get_by_role("radio", name="Approve").check()
        checker_page.get_by_role("button", name=f"Save my vote on {file.name}").click()
        checker_page.get_by_role("button", name="Submit my review").click()
        checker_page.get_by_test_id("request-status").filter(
            has_text="Reviewed by one" if n == 0 else "Reviewed by two"
        ).wait_for()
        if n == 1:
            assert checker_page.get_by_test_id(f"decision-{file.name}").inner_text() == "Approved"
            checker_page.get_by_role("button", name="Approve and release").click()
            checker_page.get_by_test_id("request-status").filter(has_text="Released").wait_for()
        context.close()

    # The researcher downloads the file and its disclosure record.
    page.goto(f"{live_server.url}/outputs/{request.pk}/")
    page.get_by_test_id("request-status").filter(has_text="Released").wait_for()
    with page.expect_download() as download:
        page.get_by_test_id(f"download-{file.name}").click()
    saved = tmp_path / file.name
    download.value.save_as(saved)
    file.refresh_from_db()
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == file.frozen_sha256 == file.sha256
    with page.expect_download() as download:
        page.get_by_test_id("download-record").click()
    record_path = tmp_path / "record.json"
    download.value.save_as(record_path)
    record = json.loads(record_path.read_text())
    assert record["files"][0]["sha256"] == file.frozen_sha256
    assert {r["reviewer"] for r in record["reviews"]} == {"checker1@example.org", "checker2@example.org"}
    assert {c["rule"] for c in record["files"][0]["checks"]} >= {"min-cell-count", "cohort-differencing", "consent"}
    page.goto(f"{live_server.url}/projects/{project.pk}/outputs/")
    assert file.name in page.get_by_test_id("ledger").inner_text()
    page.screenshot(path=str(tmp_path / "ledger.png"), full_page=True)
