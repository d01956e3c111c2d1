"""Append-only tables enforced by the database itself: UPDATE and DELETE are
refused by triggers, on PostgreSQL and on SQLite alike. Migrations call
:func:`append_only` for each such table (the audit trail, the withdrawal
register), so the triggers are written once."""

from __future__ import annotations

from django.db import migrations


def append_only(*, table: str, function: str, trigger_prefix: str, what: str) -> migrations.RunPython:
    """A migration operation that makes ``table`` append-only.

    ``function`` names the PostgreSQL trigger function, ``trigger_prefix`` the
    two triggers (``<prefix>_no_update``, ``<prefix>_no_delete``), and ``what``
    starts the refusal message ("audit events are append-only: ...")."""
    no_update, no_delete = f"{trigger_prefix}_no_update", f"{trigger_prefix}_no_delete"
    postgres_forward = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{what} append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {no_update} BEFORE UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
CREATE TRIGGER {no_delete} BEFORE DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
"""
    postgres_backward = f"""
DROP TRIGGER IF EXISTS {no_update} ON {table};
DROP TRIGGER IF EXISTS {no_delete} ON {table};
DROP FUNCTION IF EXISTS {function}();
"""
    sqlite_forward = [
        f"""CREATE TRIGGER {no_update} BEFORE UPDATE ON {table}
        BEGIN SELECT RAISE(ABORT, '{what} append-only: UPDATE refused'); END;""",
        f"""CREATE TRIGGER {no_delete} BEFORE DELETE ON {table}
        BEGIN SELECT RAISE(ABORT, '{what} append-only: DELETE refused'); END;""",
    ]
    sqlite_backward = [f"DROP TRIGGER IF EXISTS {no_update};", f"DROP TRIGGER IF EXISTS {no_delete};"]

    def run(schema_editor, statements_by_vendor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements_by_vendor:
            raise RuntimeError(f"No append-only triggers written for the {vendor} database.")
        for statement in statements_by_vendor[vendor]:
            schema_editor.execute(statement, params=None)

    def forward(apps, schema_editor):
        run(schema_editor, {"postgresql": [postgres_forward], "sqlite": sqlite_forward})

    def backward(apps, schema_editor):
        run(schema_editor, {"postgresql": [postgres_backward], "sqlite": sqlite_backward})

    return migrations.RunPython(forward, backward)
