"""The embedded demo database (SQLite) has the same append-only triggers and
the same verifier; checked end to end in child processes."""

import sqlite3
import subprocess
import sys

import pytest

from tests.subprocess_env import child_env


def _manage(tmp_path, *args, check=True):
    env = child_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}", DEBUG="true", PORTAL_VAR_DIR=str(tmp_path)
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args], env=env, capture_output=True, text=True, timeout=300, check=check
    )


@pytest.mark.django_db
def test_sqlite_triggers_refuse_changes_and_verifier_catches_tampering(tmp_path):
    _manage(tmp_path, "migrate", "--no-input", "-v", "0")
    _manage(
        tmp_path,
        "shell",
        "-c",
        "from audit.services import record; from audit.models import AuditAction\n"
        "for i in range(3): record(action=AuditAction.SIGN_IN, actor_email=f'u{i}@example.org')",
    )
    assert "3 event(s) verified" in _manage(tmp_path, "audit_verify").stdout

    db = sqlite3.connect(tmp_path / "embedded.sqlite3")
    for statement in ("UPDATE audit_auditevent SET actor_email = 'x'", "DELETE FROM audit_auditevent"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(statement)
    db.rollback()

    # Behind the triggers' back: drop them, alter a row, put them back.
    db.executescript(
        "DROP TRIGGER audit_no_update;"
        "UPDATE audit_auditevent SET actor_email = 'someone-else@example.org' WHERE seq = 2;"
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_auditevent "
        "BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END;"
    )
    db.close()
    result = _manage(tmp_path, "audit_verify", check=False)
    assert result.returncode == 1
    assert "seq=2" in result.stderr
