"""Each edit form opens with what is saved and, saved unchanged, changes
nothing: dates included (a date the browser cannot read shows empty and
would be saved back empty)."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from accounts.models import ResearcherProfile
from audit.models import AuditAction, AuditEvent
from domains.models import Project, ProjectStatus
from tests.functional.browser_session import signed_in_page

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_account_details_saved_unchanged_change_nothing(persona_world, live_server, browser):
    researcher = persona_world.people["researcher"]
    before = model_to_dict(ResearcherProfile.objects.get(user=researcher))
    page = signed_in_page(browser, live_server, researcher)
    page.goto(live_server.url + "/accounts/")
    date_input = page.get_by_label("Information-governance training completed on")
    assert date_input.input_value() == before["training_completed_on"].isoformat()
    assert page.get_by_label("Institution").input_value() == before["institution"]
    page.get_by_role("button", name="Save details").click()
    page.wait_for_url(live_server.url + "/accounts/")
    assert page.get_by_text("Your details are saved.").is_visible()
    assert model_to_dict(ResearcherProfile.objects.get(user=researcher)) == before
    assert ResearcherProfile.objects.get(user=researcher).is_accredited()
    assert not AuditEvent.objects.filter(action=AuditAction.ACCOUNT_UPDATED).exists()
    page.goto(live_server.url + "/")
    assert page.get_by_text("Accredited: you may work with data").is_visible()


FIELDS = ["title", "lay_summary", "aims", "data_needed", "planned_outputs", "end_date"]


def test_edit_and_resubmit_saved_unchanged_changes_nothing_but_the_status(persona_world, live_server, browser):
    project = persona_world.returned_project
    project.lay_summary = "Two lines\nof plain words."  # as the API stores it
    project.save(update_fields=["lay_summary"])
    before = {name: getattr(project, name) for name in FIELDS}
    page = signed_in_page(browser, live_server, persona_world.people["researcher"])
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_role("link", name="Edit and resubmit").click()
    assert page.get_by_label("End date").input_value() == before["end_date"].isoformat()
    page.get_by_role("button", name="Resubmit for review").click()
    page.wait_for_url(f"{live_server.url}/projects/{project.pk}/")
    saved = Project.objects.get(pk=project.pk)
    assert {name: getattr(saved, name) for name in FIELDS} == before
    assert saved.status == ProjectStatus.SUBMITTED
    assert page.get_by_test_id("project-status").inner_text() == "Waiting for review"
