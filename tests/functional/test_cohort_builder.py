"""The cohort builder in Chromium: an error answer shows in the count panel
and keeps every criterion (DEBUG on and off), the count stays in view at
390 px, terms are found by name or synonym, bar charts draw every value inside
them, and Refine then Save gives the same definition."""

import re

import pytest
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from cohorts.models import Cohort
from tests.factories.accounts import UserFactory
from tests.factories.domains import ProjectFactory
from tests.functional.browser_session import sign_in_typed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def researcher_in_builder(live_server, page, prepared_release, settings):
    from participants.models import HpoTerm
    from participants.ontology import ontology_write_tables
    from tests.integration.cohorts.conftest import load_prepared

    settings.DATA_ROOT = prepared_release.data_root
    with transaction.atomic():
        if not HpoTerm.objects.exists():
            ontology_write_tables()
        load_prepared(prepared_release, name="test-r1")
    user = UserFactory(email="bea@example.org", full_name="Bea Builder", accredited=True)
    device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    project = ProjectFactory(owner=user, status="approved", title="Epilepsy genetics")
    sign_in_typed(page, live_server.url, "bea@example.org", device)
    builder = f"{live_server.url}/cohorts/projects/{project.pk}/new/"
    page.goto(builder)
    page.get_by_test_id("total").wait_for()
    return page, builder, project


@pytest.mark.parametrize("debug", [True, False])
def test_an_error_answer_shows_in_the_count_panel_and_keeps_every_criterion(researcher_in_builder, settings, debug):
    settings.DEBUG = debug
    page, builder, _ = researcher_in_builder
    page.goto(builder)
    page.get_by_test_id("total").wait_for()
    page.get_by_label("Cancer").check()
    page.get_by_label("Has HPO terms").fill("Seizure")
    page.get_by_label("Has HPO terms").dispatch_event("change")
    errors = page.get_by_test_id("count-errors")
    errors.wait_for()
    assert "write HPO ids as HP: and seven digits" in errors.inner_text()
    assert page.url == builder
    assert page.get_by_role("navigation", name="Main").is_visible()
    assert page.get_by_label("Cancer").is_checked()
    assert page.get_by_label("Has HPO terms").input_value() == "Seizure"
    page.get_by_label("Has HPO terms").fill("HP:0001250")
    page.get_by_label("Has HPO terms").dispatch_event("change")
    page.get_by_test_id("total").wait_for()
    assert page.get_by_label("Cancer").is_checked()


def test_the_count_stays_in_view_on_a_narrow_screen(researcher_in_builder):
    page, builder, _ = researcher_in_builder
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(builder)
    page.get_by_test_id("total").wait_for()
    homozygous = page.get_by_label("Genotype")
    homozygous.scroll_into_view_if_needed()
    page.get_by_label("Carries a variant in gene").fill("TTN")
    page.get_by_label("Carries a variant in gene").dispatch_event("change")
    page.wait_for_function("() => document.querySelector('[data-testid=count]').innerText.includes('TTN')")
    box = page.get_by_test_id("count-panel").bounding_box()
    assert box["y"] < 844 and box["y"] + 60 <= 844, box  # its top, with the total, is on screen
    wide = page.evaluate("""() => [...document.querySelectorAll('#builder *')]
        .filter(e => e.getBoundingClientRect().right > 391).map(e => e.tagName + '#' + e.id + '.' + e.className)""")
    assert wide == [], wide  # nothing of the builder runs off a 390 px screen


def test_terms_are_found_by_name_and_added_with_a_click(researcher_in_builder):
    page, _, _ = researcher_in_builder
    page.get_by_label("Find HPO terms by name").fill("seizure")
    first = page.get_by_test_id("term-match").first
    first.wait_for()
    assert first.inner_text().startswith("HP:0001250 Seizure")
    first.get_by_role("button", name="Add").click()
    assert page.get_by_label("Has HPO terms").input_value() == "HP:0001250"
    page.wait_for_function("() => document.querySelector('[data-testid=count]').innerText.includes('HP:0001250')")


def test_terms_are_found_by_synonym_as_you_type(researcher_in_builder):
    page, _, _ = researcher_in_builder
    page.get_by_label("Find HPO terms by name or synonym").press_sequentially("epilep", delay=30)
    match = page.get_by_test_id("term-match").filter(has_text="HP:0001250")
    match.wait_for()
    assert "Seizure" in match.inner_text() and "Epilep" in match.get_by_text("also called").inner_text()
    match.get_by_role("button", name="Add").click()
    assert page.get_by_label("Has HPO terms").input_value() == "HP:0001250"


def test_refine_then_save_unchanged_gives_the_same_definition(researcher_in_builder, live_server):
    page, _, _ = researcher_in_builder
    page.get_by_label("Rare disease").check()
    page.get_by_label("Female").check()
    page.get_by_label("Not in a family").check()
    page.get_by_label("Has HPO terms").fill("HP:0000707, HP:0000478")
    page.get_by_label("Terms needed").select_option("any")
    page.get_by_label("Carries a variant in gene").fill("TTN")
    page.get_by_label("Loss of function").check()
    page.get_by_label("II", exact=True).check()
    page.get_by_label("Cohort name").fill("Nervous or eye, TTN")
    page.get_by_label("Save it even if no participant matches").check()
    page.get_by_role("button", name="Save cohort").click()
    page.wait_for_url(re.compile(r".*/cohorts/\d+/$"))
    first = Cohort.objects.get()
    page.get_by_test_id("refine").click()
    page.get_by_test_id("refining").wait_for()
    assert page.get_by_label("Female").is_checked() and page.get_by_label("Not in a family").is_checked()
    assert page.get_by_label("Carries a variant in gene").input_value() == "TTN"
    page.get_by_test_id("total").wait_for()
    page.get_by_label("Save it even if no participant matches").check()
    page.get_by_role("button", name="Save cohort").click()
    page.wait_for_url(re.compile(r".*/cohorts/\d+/$"))
    second = Cohort.objects.exclude(pk=first.pk).get()
    assert second.definition == first.definition
    assert second.name == first.name


def test_every_bar_chart_label_and_value_is_drawn_inside_the_chart(page):
    """The largest count a release can give, and a long label, are drawn inside the SVG's view box."""
    from django.template.loader import render_to_string

    from disclosure.rules import SafeCount

    rows = [("Haematological malignancy", SafeCount(100_000, "100,000")), ("Male", SafeCount(None, "<5"))]
    rows.append(("Unknown", SafeCount(5, "5")))
    svg = render_to_string("cohorts/_bars.html", {"rows": rows, "title": "Participants"})
    page.set_content(
        f"<!doctype html><style>.bars text {{ font-size: 12px; }}</style><div style='width:300px'>{svg}</div>"
    )
    width = page.evaluate("() => document.querySelector('svg.bars').viewBox.baseVal.width")
    box = "t => [t.textContent, t.getBBox().x, t.getBBox().width]"
    script = f"[...document.querySelectorAll('svg.bars text')].map({box})"
    boxes = page.evaluate(f"() => {script}")
    assert len(boxes) == 6
    for text, x, w in boxes:
        assert x >= 0 and x + w <= width, (text, x, w, width)
