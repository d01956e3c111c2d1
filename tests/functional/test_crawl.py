"""The browser crawl: as every persona, every page reachable from the
navigation and from the pages themselves, over demo-like data (the demo's
sixteen domains, applications, projects in each state, a loaded release and
saved cohorts). On every page: no 5xx, the site's navigation, no request to
another host, no console error, no horizontal overflow at 390 px wide.

Nothing here lists the pages: a page another app adds is crawled as soon as
a page links to it."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.functional.browser_session import signed_in_page
from tests.functional.crawl import NARROW, crawl

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

CRAWLED = ("researcher", "lead", "checker", "governance", "admin", "other_member", "outsider", "anonymous")


@pytest.fixture
def demo_world(persona_world, prepared_release, settings):
    """The persona world, the demo's domains, a loaded release and saved cohorts."""
    from cohorts.services import cohort_create
    from domains.demo import seed_demo_domains
    from domains.services import membership_apply
    from participants.models import HpoTerm
    from participants.ontology import ontology_write_tables
    from tests.integration.cohorts.conftest import load_prepared

    settings.DATA_ROOT = prepared_release.data_root
    with transaction.atomic():
        if not HpoTerm.objects.exists():  # transactional tests start from an empty database
            ontology_write_tables()
        load_prepared(prepared_release, name="test-r1")
    seed_demo_domains()
    world = persona_world
    membership_apply(
        domain=world.other_domain,
        justification="I study skeletal dysplasias in children and adults.",
        by=world.people["researcher"],
    )
    project, owner = world.approved_project, world.approved_project.owner
    cohort_create(by=owner, project=project, name="Cancer participants",
                  criteria_json={"include_all": [{"type": "programme", "values": ["cancer"]}]})  # fmt: skip
    cohort_create(by=owner, project=project, name="Women",
                  criteria_json={"include_all": [{"type": "sex", "values": ["female"]}]})  # fmt: skip
    return world


def test_every_page_each_persona_can_reach_is_whole_and_fits_a_phone(demo_world, live_server, browser):
    """One world for every persona (loading the release is the slow part)."""
    findings, visited = [], {}
    for persona in CRAWLED:
        user = demo_world.people[persona]
        start = ["/"] if user else ["/projects/register/", "/accounts/sign-in/"]
        page = signed_in_page(browser, live_server, user, viewport=NARROW)
        report = crawl(browser, live_server.url, persona, page=page, start=start)
        visited[persona] = len(report.visited)
        findings += report.findings
    print("pages crawled:", visited)
    assert all(count >= 8 for persona, count in visited.items() if persona != "anonymous"), visited
    assert visited["anonymous"] >= 2, visited
    assert findings == [], "\n" + "\n".join(str(f) for f in findings)
