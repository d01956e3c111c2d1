"""The embedded demo database (SQLite): a withdrawal recorded from a provider's
list takes effect in every release, and the register refuses changes there
too; checked end to end in child processes."""

import sqlite3
import subprocess
import sys

import pytest

from tests.subprocess_env import child_env

LOAD = """
from datetime import date
from participants.loader import ReleaseRows, release_load
people = [dict(participant_id=p, programme="rare_disease", sex="female", year_of_birth=1980, genetic_ancestry="EUR",
               recruiting_centre="Wessex GMC", consent_status="consenting", consent_month="2018-05",
               vital_status="alive", death_month="", family_id="", relationship_to_proband="",
               affection_status="affected") for p in ("P1", "P2", "P3")]
for name in ("v1", "v2"):
    release_load(rows=ReleaseRows(name=name, release_date=date(2025, 7, 1), genome_build="GRCh38", format_version=1,
                                  checksum="0" * 64, sample_index={}, participants=people))
"""
CHECK = """
from participants.models import DataRelease
from participants.selectors import release_usable
for release in DataRelease.objects.order_by("name"):
    usable = sorted(release_usable(release).values_list("participant_id", flat=True))
    print(release.name, usable, release.counts["consenting_by"]["sex"], release.withdrawals_version)
"""


def _manage(tmp_path, *args, check=True):
    env = child_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}", DEBUG="true", PORTAL_VAR_DIR=str(tmp_path)
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args], env=env, capture_output=True, text=True, timeout=300, check=check
    )


@pytest.mark.django_db
def test_sqlite_records_a_withdrawal_list_and_refuses_changes_to_the_register(tmp_path):
    _manage(tmp_path, "migrate", "--no-input", "-v", "0")
    _manage(tmp_path, "shell", "-c", LOAD)
    bad = tmp_path / "bad.tsv"
    bad.write_text("participant_id\twithdrawal_month\nP2\t2025-06\nP9\t2025-06\n")
    refused = _manage(tmp_path, "record_withdrawals", str(bad), check=False)
    assert refused.returncode == 1
    assert "bad.tsv:3 [participant_id]: participant P9 is not in any data release" in refused.stderr
    good = tmp_path / "good.tsv"
    good.write_text("participant_id\twithdrawal_month\nP2\t2025-06\n")
    assert "1 withdrawal(s) recorded from good.tsv." in _manage(tmp_path, "record_withdrawals", str(good)).stdout

    assert _manage(tmp_path, "shell", "-v", "0", "-c", CHECK).stdout.splitlines() == [
        "v1 ['P1', 'P3'] {'female': 2} 1",
        "v2 ['P1', 'P3'] {'female': 2} 1",
    ]
    db = sqlite3.connect(tmp_path / "embedded.sqlite3")
    for statement in (
        "UPDATE participants_registeredwithdrawal SET withdrawal_month = '2030-01'",
        "DELETE FROM participants_registeredwithdrawal",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(statement)
    db.rollback()
    assert db.execute("SELECT participant_id, withdrawal_month FROM participants_registeredwithdrawal").fetchall() == [
        ("P2", "2025-06")
    ]
    db.close()
