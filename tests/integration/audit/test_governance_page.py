import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditAction, AuditEvent
from audit.services import record

pytestmark = pytest.mark.django_db
AUDIT_LOG = reverse("audit:log")


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", 302),
        ("outsider", 404),
        ("researcher", 404),
        ("output_checker", 404),
        ("administrator", 404),
        ("governance_reviewer", 200),
    ],
)
def test_audit_log_access(request, client_for, persona, expected):
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    response = client_for(user).get(AUDIT_LOG)
    assert response.status_code == expected


def test_audit_log_filters_by_action_and_actor(client_for, governance_reviewer):
    record(action=AuditAction.SIGN_IN, actor_email="alice@example.org")
    record(action=AuditAction.SIGN_IN_FAILED, actor_email="bob@example.org")
    record(action=AuditAction.SIGN_IN_FAILED, actor_email="alice@example.org")
    client = client_for(governance_reviewer)
    response = client.get(AUDIT_LOG, {"action": AuditAction.SIGN_IN_FAILED, "actor": "alice"})
    events = list(response.context["page"])
    assert [(e.action, e.actor_email) for e in events] == [(AuditAction.SIGN_IN_FAILED, "alice@example.org")]


def test_audit_log_rejects_reversed_dates_with_a_message(client_for, governance_reviewer):
    response = client_for(governance_reviewer).get(AUDIT_LOG, {"since": "2026-05-02", "until": "2026-05-01"})
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()


def test_reading_the_audit_log_is_itself_audited(client_for, governance_reviewer):
    client_for(governance_reviewer).get(AUDIT_LOG, {"action": AuditAction.SIGN_IN})
    event = AuditEvent.objects.filter(action=AuditAction.AUDIT_VIEWED).get()
    assert event.actor_id == governance_reviewer.pk
    assert event.details["filters"] == {"action": "auth.sign_in"}


def test_htmx_request_gets_only_the_table(client_for, governance_reviewer):
    response = client_for(governance_reviewer).get(AUDIT_LOG, HTTP_HX_REQUEST="true")
    assert "<table" in response.content.decode() and "<html" not in response.content.decode()


def test_audit_log_query_count_does_not_grow_with_events(client_for, governance_reviewer):
    client = client_for(governance_reviewer)
    for i in range(5):
        record(action=AuditAction.SIGN_IN, actor_email=f"u{i}@example.org")
    with CaptureQueriesContext(connection) as few:
        client.get(AUDIT_LOG)
    for i in range(40):
        record(action=AuditAction.SIGN_IN, actor_email=f"v{i}@example.org")
    with CaptureQueriesContext(connection) as many:
        client.get(AUDIT_LOG)
    assert len(many) == len(few)


def test_the_last_page_ends_with_the_oldest_event_and_the_count_matches(client_for, governance_reviewer):
    from audit.views import PAGE_SIZE

    for i in range(PAGE_SIZE + 1):
        record(action=AuditAction.SIGN_IN, actor_email=f"p{i}@example.org")
    oldest = AuditEvent.objects.order_by("seq").first()
    total = AuditEvent.objects.count()
    response = client_for(governance_reviewer).get(AUDIT_LOG, {"page": "2"})
    page = response.context["page"]
    assert page.paginator.count == total
    assert [event.seq for event in page][-1] == oldest.seq
    assert f"{total} events" in response.content.decode()


def test_long_details_are_folded_and_short_ones_shown(client_for, governance_reviewer):
    record(action=AuditAction.SIGN_IN, actor_email="short@example.org", details={"step": "x"})
    record(action=AuditAction.SIGN_IN, actor_email="long@example.org", details={"rows": list(range(400))})
    body = client_for(governance_reviewer).get(AUDIT_LOG).content.decode()
    assert body.count('<details class="fold">') == 1
    assert "<code>{&quot;step&quot;: &quot;x&quot;}</code>" in body


def test_an_htmx_filter_with_reversed_dates_answers_its_partial_with_the_error(client_for, governance_reviewer):
    response = client_for(governance_reviewer).get(
        AUDIT_LOG, {"since": "2026-05-02", "until": "2026-05-01"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "<html" not in body and "The end date is before the start date." in body
