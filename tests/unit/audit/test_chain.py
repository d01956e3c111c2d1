from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from audit.chain import GENESIS_HASH, canonical_content, compute_hash, event_hash, verify_events


@dataclass
class Event:
    id: int
    seq: int
    occurred_at: datetime
    actor_id: int | None
    actor_email: str
    action: str
    target_type: str
    target_id: str
    outcome: str
    request_id: str
    ip_address: str | None
    details: dict
    prev_hash: str
    hash: str = ""


def make_chain(n: int) -> list[Event]:
    events, prev = [], GENESIS_HASH
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(1, n + 1):
        event = Event(
            i,
            i,
            start + timedelta(seconds=i),
            i,
            f"u{i}@example.org",
            "auth.sign_in",
            "accounts.user",
            str(i),
            "success",
            f"req{i}",
            "10.0.0.1",
            {"n": i, "b": [1, 2]},
            prev,
        )
        event.hash = event_hash(event)
        prev = event.hash
        events.append(event)
    return events


def test_canonical_content_is_independent_of_key_order_and_timezone():
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    common = {
        "seq": 1,
        "actor_id": None,
        "actor_email": "",
        "action": "a",
        "target_type": "",
        "target_id": "",
        "outcome": "success",
        "request_id": "",
        "ip_address": None,
    }
    a = canonical_content(occurred_at=when, details={"x": 1, "y": 2}, **common)
    b = canonical_content(occurred_at=when.astimezone(), details={"y": 2, "x": 1}, **common)
    assert a == b


def test_compute_hash_covers_previous_hash():
    assert compute_hash("a" * 64, "content") != compute_hash("b" * 64, "content")


def test_verify_events_intact_chain_reports_count():
    report = verify_events(make_chain(5))
    assert report.intact and report.checked == 5


def test_verify_events_altered_content_names_that_event():
    events = make_chain(5)
    events[2] = replace(events[2], details={"n": 999, "b": [1, 2]})
    report = verify_events(events)
    assert not report.intact
    assert report.broken.seq == 3
    assert "altered" in report.broken.reason


def test_verify_events_rehashed_row_breaks_the_next_link():
    events = make_chain(5)
    forged = replace(events[1], actor_email="someone-else@example.org")
    forged.hash = event_hash(forged)
    events[1] = forged
    report = verify_events(events)
    assert report.broken.seq == 3
    assert "previous-hash" in report.broken.reason


def test_verify_events_missing_row_is_detected():
    events = make_chain(5)
    del events[1]
    report = verify_events(events)
    assert report.broken.seq == 3
    assert "missing" in report.broken.reason


def test_verify_events_empty_chain_is_intact():
    assert verify_events([]).intact
