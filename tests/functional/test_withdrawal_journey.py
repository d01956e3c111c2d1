"""A governance reviewer records a withdrawal in the browser; the researcher's
saved cohort holding that participant is flagged and smaller at once."""

import re

import pytest
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role
from accounts.services import role_grant
from tests.factories.accounts import UserFactory
from tests.factories.domains import ProjectFactory
from tests.functional.browser_session import sign_in_typed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_recorded_withdrawal_flags_the_saved_cohort_at_once(
    live_server, browser, prepared_release, settings, tmp_path
):
    from cohorts.models import CohortMember
    from cohorts.services import cohort_create
    from participants.models import HpoTerm, RegisteredWithdrawal
    from participants.ontology import ontology_write_tables
    from tests.integration.cohorts.conftest import load_prepared

    settings.DATA_ROOT = prepared_release.data_root
    with transaction.atomic():
        if not HpoTerm.objects.exists():  # transactional tests start from an empty database
            ontology_write_tables()
        load_prepared(prepared_release, name="test-r1")
    researcher = UserFactory(email="rosa@example.org", full_name="Rosa Researcher", accredited=True)
    researcher_device = TOTPDevice.objects.create(user=researcher, name="Phone", confirmed=True)
    project = ProjectFactory(owner=researcher, status="approved", title="Cancer genomics")
    cohort = cohort_create(
        by=researcher, project=project, name="Cancer participants",
        criteria_json={"include_all": [{"type": "programme", "values": ["cancer"]}]},
    )  # fmt: skip
    leaver = CohortMember.objects.filter(cohort=cohort).select_related("participant").first().participant
    reviewer = UserFactory(email="gov@example.org", full_name="Gita Governance")
    role_grant(user=reviewer, role=Role.GOVERNANCE_REVIEWER, by=None)
    reviewer_device = TOTPDevice.objects.create(user=reviewer, name="Phone", confirmed=True)

    governance = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_typed(governance, live_server.url, "gov@example.org", reviewer_device)
    governance.goto(f"{live_server.url}/governance/withdrawals/")
    governance.get_by_label("Participant id").fill("NOBODY123")
    governance.get_by_label("Month of withdrawal").fill("2025-06")
    governance.get_by_role("button", name="Check").click()
    assert governance.get_by_text("Participant NOBODY123 is not in any data release").is_visible()
    governance.screenshot(path=str(tmp_path / "register-error.png"), full_page=True)

    governance.get_by_label("Participant id").fill(leaver.participant_id)
    governance.get_by_label("Month of withdrawal").fill("2025-06")
    governance.get_by_role("button", name="Check").click()
    assert governance.get_by_test_id("confirm-participant").inner_text() == leaver.participant_id
    assert governance.get_by_test_id("confirm-releases").inner_text() == "release test-r1"
    governance.screenshot(path=str(tmp_path / "register-confirm.png"), full_page=True)
    governance.get_by_role("button", name="Record the withdrawal").click()
    governance.wait_for_url(f"{live_server.url}/governance/withdrawals/")
    assert governance.get_by_text("Saved cohorts flagged: 1").is_visible()
    row = governance.get_by_role("row", name=re.compile(leaver.participant_id))
    assert "2025-06" in row.inner_text() and "test-r1" in row.inner_text() and "Governance page" in row.inner_text()
    governance.screenshot(path=str(tmp_path / "register-recorded.png"), full_page=True)
    assert RegisteredWithdrawal.objects.get().participant_id == leaver.participant_id

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_typed(page, live_server.url, "rosa@example.org", researcher_device)
    page.goto(f"{live_server.url}/cohorts/{cohort.pk}/")
    assert page.get_by_role("alert").get_by_text(re.compile("withdrew consent after it was saved")).is_visible()
    cohort.refresh_from_db()
    assert cohort.withdrawn_members == 1
    from disclosure.policy import current_policy
    from disclosure.rules import safe_count

    assert page.get_by_test_id("cohort-size").inner_text() == safe_count(cohort.member_count, current_policy()).label
    page.screenshot(path=str(tmp_path / "cohort-flagged.png"), full_page=True)

    # The register is not the researcher's to see.
    assert page.goto(f"{live_server.url}/governance/withdrawals/").status == 404
