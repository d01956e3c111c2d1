"""Make the audit table append-only in the database itself: UPDATE and DELETE
are refused by triggers on PostgreSQL and on SQLite alike."""

from django.db import migrations

from audit.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [
        append_only(
            table="audit_auditevent", function="audit_refuse_change", trigger_prefix="audit", what="audit events are"
        )
    ]
