"""core.loading: many rows per statement on SQLite, every row written once, in order."""

from __future__ import annotations

import pytest
from django.db import connection

from rencai.core.loading import sqlite_insert
from rencai.talents.models import TalentSearchTerm
from rencai.talents.tests.helpers import make_talent

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's insert path")
@pytest.mark.parametrize("count", [0, 1, 1999, 2000, 2001, 4321])
def test_sqlite_insert_writes_every_row_once_whatever_the_batch(city_admin, count):
    talent = make_talent(city_admin)
    TalentSearchTerm.objects.filter(talent=talent).delete()
    rows = [(f"词{i:05d}", talent.pk, i % 6) for i in range(count)]
    sqlite_insert(connection, "talents_talentsearchterm", ["term", "talent_id", "kind"], rows)
    written = list(TalentSearchTerm.objects.filter(talent=talent).order_by("id").values_list("term", "talent_id", "kind"))
    assert written == rows


def _wal_database(path):
    from django.db.utils import ConnectionHandler

    handler = ConnectionHandler({"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path),
                                         "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL"}}})
    return handler["default"]


def _checkpoint_threads():
    import threading

    return [t for t in threading.enumerate() if t.name == "sqlite-checkpoint"]


def test_checkpoint_later_commits_first_and_copies_the_log_afterwards(tmp_path):
    from rencai.core.loading import checkpoint_later

    path = tmp_path / "wal.sqlite3"
    database = _wal_database(path)
    with database.cursor() as cursor:
        cursor.execute("CREATE TABLE t (v BLOB)")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    empty = path.stat().st_size
    with checkpoint_later(database):
        with database.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint")
            assert cursor.fetchone()[0] == 0
            cursor.execute("BEGIN")
            cursor.executemany("INSERT INTO t VALUES (randomblob(4000))", [()] * 2000)  # about 2,000 pages
            cursor.execute("COMMIT")
        # Committed, and the pages are still only in the log: the commit copied nothing.
        assert path.stat().st_size == empty
    for thread in _checkpoint_threads():
        thread.join(30)
    assert path.stat().st_size > 2000 * 4000  # the background checkpoint copied them
    with database.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 1000  # as before
        cursor.execute("SELECT count(*) FROM t")
        assert cursor.fetchone()[0] == 2000
    database.close()


def test_checkpoint_later_inside_a_transaction_leaves_the_checkpoint_to_its_commit(tmp_path):
    """Inside an outer transaction nothing is committed at the end: no thread, the setting back."""
    from rencai.core.loading import checkpoint_later

    database = _wal_database(tmp_path / "wal.sqlite3")
    database.set_autocommit(False)
    with checkpoint_later(database):
        assert database.in_atomic_block is False
        database.in_atomic_block = True  # as inside transaction.atomic()
    database.in_atomic_block = False
    database.rollback()
    assert _checkpoint_threads() == []
    with database.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 1000
    database.close()
