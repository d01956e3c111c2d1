"""Concurrent writers cannot fork the chain; the verifier's exit code is what
a shell sees."""

import subprocess
import sys
import threading

import pytest
from django.db import connection, connections, transaction

from audit.models import AuditAction, AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import record
from tests.subprocess_env import child_env

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 8
EVENTS_PER_WRITER = 25


def test_eight_concurrent_writers_leave_a_chain_that_verifies():
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(EVENTS_PER_WRITER):
                with transaction.atomic():
                    record(action=AuditAction.SIGN_IN, actor_email=f"writer{n}@example.org", details={"i": i})
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors
    total = WRITERS * EVENTS_PER_WRITER
    assert AuditEvent.objects.count() == total
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, total + 1))
    assert AuditEvent.objects.values("prev_hash").distinct().count() == total  # no two events share a parent
    report = audit_chain_verify()
    assert report.intact and report.checked == total


def test_audit_verify_command_exits_non_zero_on_a_tampered_chain():
    events = [record(action=AuditAction.SIGN_OUT, actor_email=f"u{i}@example.org") for i in range(3)]
    command = [sys.executable, "manage.py", "audit_verify"]
    intact = subprocess.run(command, env=child_env(), capture_output=True, text=True, timeout=120)
    assert intact.returncode == 0, intact.stderr
    assert "3 event(s) verified" in intact.stdout

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute("UPDATE audit_auditevent SET outcome = 'failure' WHERE id = %s", [events[1].pk])
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")

    broken = subprocess.run(command, env=child_env(), capture_output=True, text=True, timeout=120)
    assert broken.returncode == 1
    assert f"seq={events[1].seq}" in broken.stderr
