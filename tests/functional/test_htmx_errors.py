"""An htmx request's error answer is shown in place, with DEBUG on and off:
the page stays, what the user typed stays, and the message says what is
wrong (static/js/htmx-errors.js)."""

from __future__ import annotations

import pytest

from tests.functional.browser_session import signed_in_page

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

DEBUG = pytest.mark.parametrize("debug", [True, False], ids=["DEBUG on", "DEBUG off"])


def _audit_page(browser, live_server, persona_world):
    page = signed_in_page(browser, live_server, persona_world.people["governance"])
    page.goto(live_server.url + "/governance/audit/")
    return page


@DEBUG
def test_reversed_dates_in_the_audit_filter_show_the_error_in_place(
    debug, settings, persona_world, live_server, browser
):
    settings.DEBUG = debug
    page = _audit_page(browser, live_server, persona_world)
    page.get_by_label("Actor e-mail contains").fill("gus")
    page.get_by_label("From").fill("2026-05-02")
    with page.expect_response(lambda r: "/governance/audit/" in r.url and r.status == 400):
        page.get_by_label("Until").fill("2026-05-01")
    error = page.locator("#events").get_by_text("The end date is before the start date.")
    error.wait_for()
    assert page.get_by_role("heading", name="Audit trail").is_visible()
    assert page.get_by_test_id("site-nav").is_visible()
    assert page.get_by_label("From").input_value() == "2026-05-02"
    assert page.get_by_label("Until").input_value() == "2026-05-01"
    assert page.get_by_label("Actor e-mail contains").input_value() == "gus"

    # Corrected, the list comes back and the error goes.
    with page.expect_response(lambda r: "/governance/audit/" in r.url and r.status == 200):
        page.get_by_label("Until").fill("2026-05-03")
    page.locator("#events").get_by_text("No events match these filters.").wait_for()
    assert page.locator("#events").get_by_text("The end date is before").count() == 0


@DEBUG
def test_a_server_error_under_htmx_shows_a_message_and_keeps_the_page(
    debug, settings, persona_world, live_server, browser, monkeypatch
):
    settings.DEBUG = debug
    page = _audit_page(browser, live_server, persona_world)

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("audit.views.audit_events_for_user", broken)
    with page.expect_response(lambda r: "/governance/audit/" in r.url and r.status == 500):
        page.get_by_label("Actor e-mail contains").fill("gus")
        page.get_by_label("Actor e-mail contains").press("Enter")
    alert = page.locator(".htmx-error")
    alert.wait_for()
    assert "Something went wrong on our side (error 500)" in alert.inner_text()
    assert "database went away" not in page.content()
    assert page.get_by_role("heading", name="Audit trail").is_visible()
    assert page.get_by_label("Actor e-mail contains").input_value() == "gus"
    assert page.locator("#events table").count() == 1  # the list shown before stays

    monkeypatch.undo()
    with page.expect_response(lambda r: "/governance/audit/" in r.url and r.status == 200):
        page.get_by_role("button", name="Filter").click()
    page.wait_for_function("() => !document.querySelector('.htmx-error')")


@DEBUG
def test_an_unknown_programme_in_the_directory_filter_shows_the_error_in_place(
    debug, settings, persona_world, live_server, browser
):
    settings.DEBUG = debug
    page = signed_in_page(browser, live_server, persona_world.people["researcher"])
    page.goto(live_server.url + "/domains/")
    # A choice the page never offers (an old bookmark's, a crafted one).
    page.eval_on_selector("#id_programme", "s => s.add(new Option('Astrology', 'astrology'))")
    with page.expect_response(lambda r: "/domains/" in r.url and r.status == 400):
        page.get_by_label("Programme").select_option("astrology")
    page.locator("#domain-list").get_by_text("Choose one of the listed programmes.").wait_for()
    assert page.get_by_role("heading", name="Research domains").is_visible()
    assert page.get_by_label("Programme").input_value() == "astrology"


@DEBUG
def test_adding_a_member_without_a_choice_shows_the_error_in_the_members_section(
    debug, settings, persona_world, live_server, browser
):
    settings.DEBUG = debug
    project = persona_world.approved_project
    page = signed_in_page(browser, live_server, persona_world.people["researcher"])
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    with page.expect_response(lambda r: "/members/" in r.url and r.status == 400):
        page.get_by_role("button", name="Add to project").click()
    page.locator("#project-members").get_by_text("Choose who to add.").wait_for()
    assert page.get_by_role("heading", name=project.title).is_visible()
    assert page.url == f"{live_server.url}/projects/{project.pk}/"

    page.get_by_label("Add a member of the domain").select_option(label=persona_world.colleague.display_name)
    with page.expect_response(lambda r: "/members/" in r.url and r.status == 200):
        page.get_by_role("button", name="Add to project").click()
    page.locator("#project-members").get_by_text(persona_world.colleague.display_name).wait_for()
    assert page.locator("#project-members").get_by_text("Choose who to add.").count() == 0
