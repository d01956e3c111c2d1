"""The audit table refuses changes in the database itself, and the verifier
catches a row changed behind the triggers' back."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit.models import AuditAction, AuditEvent
from audit.services import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    return [record(action=AuditAction.SIGN_IN, actor_email=f"user{i}@example.org", details={"i": i}) for i in range(4)]


def test_orm_save_of_existing_event_is_refused(events):
    event = events[1]
    event.actor_email = "forger@example.org"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.save()


def test_orm_delete_is_refused(events):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        events[0].delete()


def test_queryset_update_and_delete_are_refused(events):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().update(outcome="failure")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 4


def test_raw_sql_update_and_delete_are_refused(events):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_email = 'x@example.org'")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
    assert set(AuditEvent.objects.values_list("actor_email", flat=True)) == {f"user{i}@example.org" for i in range(4)}


def test_audit_verify_passes_on_an_intact_chain(events, capsys):
    call_command("audit_verify")
    assert "4 event(s) verified" in capsys.readouterr().out


def _behind_the_triggers_back(sql: str, params: list) -> None:
    """What a superuser could do: switch the triggers off, change a row, switch them on."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def test_audit_verify_names_a_row_altered_with_triggers_disabled(events):
    target = events[2]
    _behind_the_triggers_back(
        "UPDATE audit_auditevent SET actor_email = %s WHERE id = %s", ["someone-else@example.org", target.pk]
    )
    with pytest.raises(CommandError, match=rf"seq={target.seq} \(id={target.pk}\).*altered") as error:
        call_command("audit_verify")
    assert error.value.returncode == 1


def test_audit_verify_detects_a_deleted_row(events):
    _behind_the_triggers_back("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match=rf"seq={events[2].seq}.*missing"):
        call_command("audit_verify")


def test_record_refuses_secrets_in_details():
    with pytest.raises(ValueError, match="secrets"):
        record(action=AuditAction.SIGN_IN, details={"password": "hunter2"})
    assert AuditEvent.objects.count() == 0


def test_record_refuses_unknown_action():
    with pytest.raises(ValueError, match="Unknown audit action"):
        record(action="made.up")
