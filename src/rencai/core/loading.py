"""Loading many rows at once: the database driver's bulk path, and the table settings around it.

What demo data, imports and index rebuilds share:

- ``BulkWriter`` writes the rows of one model with ``executemany`` (SQLite) or ``COPY``
  (PostgreSQL), values prepared as the model's fields would store them (encrypted, hashed, dates
  in the driver's format) without building a model instance per row.
- ``bulk_load`` drops a table's plain indexes (and on PostgreSQL its foreign keys) and builds
  them again at the end, as PostgreSQL's manual advises for populating a database.
- ``sqlite_cache`` enlarges SQLite's page cache while the indexes that stay are filled.
- ``no_gc`` keeps the cycle collector out of a loop that allocates millions of small objects.
- ``checkpoint_later`` lets a large SQLite transaction commit without copying its pages from
  the write-ahead log into the database file first; a background thread does that afterwards.

Bulk writes send no signals and write no change log: the caller audits the load as a whole.
"""

from __future__ import annotations

import gc
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable
from contextlib import contextmanager
from itertools import chain

from django.db import connections, models, router

from rencai.core import crypto
from rencai.core.fields import EncryptedTextField, LookupHashField

# SQLite's page cache while a load writes (KiB): holds the index pages being filled, which
# with the default 2 MB are read back from the file for nearly every insert.
SQLITE_CACHE_KIB = 256 * 1024
# SQLite's page cache while indexes are built after a load (KiB), the size of the pieces its
# sorter sorts in parallel (see _sorting).
SQLITE_SORT_CACHE_KIB = 8 * 1024
# Index entries SQLite's ANALYZE reads per index after a load (0 would read them all).
SQLITE_ANALYSIS_LIMIT = 1000

logger = logging.getLogger(__name__)


class BulkWriter:
    """Writes the rows of one model through the database driver's bulk path.

    ``bulk_create`` spends most of a million-row run preparing each value of each row in Python
    (field by field, twice for the protected numbers, which it validates again); here the values
    are already valid, so a row needs only its encryption (AES-GCM per value, as
    ``EncryptedTextField`` does), the keyed lookup hashes, and the driver's date format. Columns,
    defaults and the protected fields are read from the model, so a new field is written with
    its default. ``with_pk``: the caller gives primary keys (from ``reserve_ids``); otherwise the
    database does.

    ``row`` and ``stored`` touch no connection: a row can be prepared in another process than the
    one that writes it (``imports.pipeline`` does).
    """

    def __init__(self, model, now, *, with_pk: bool = False):
        connection = connections[router.db_for_write(model)]
        self.model = model
        self.connection = connection
        fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        self.attnames = [f.attname for f in fields]
        sqlite = connection.vendor == "sqlite"
        stamp = connection.ops.adapt_datetimefield_value(now)
        self.defaults = []
        self.encrypted, self.hashes, self.dates = [], [], []
        for i, f in enumerate(fields):
            if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add):
                self.defaults.append(stamp)
                continue
            # Django's default: "" for text, None otherwise (a NOT NULL column left out fails loudly).
            self.defaults.append(f.get_default())
            if isinstance(f, EncryptedTextField):
                self.encrypted.append(i)
            elif isinstance(f, LookupHashField):
                source = model._meta.get_field(f.source)
                self.hashes.append((i, self.attnames.index(source.attname), source.kind))
            elif sqlite and isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField):
                self.dates.append(i)
        self.converts = bool(self.encrypted or self.hashes or self.dates)
        self._encrypt = crypto.field_encrypter()
        self._hashers = {kind: crypto.lookup_hasher(kind) for _i, _source, kind in self.hashes}
        self.position = {name: i for i, name in enumerate(self.attnames)}
        quote = connection.ops.quote_name
        self.table, self.columns = model._meta.db_table, [f.column for f in fields]
        # Table and column names come from the model, never from input.
        self.copy_sql = f"COPY {quote(self.table)} ({', '.join(quote(c) for c in self.columns)}) FROM STDIN"

    def reserve_ids(self, n: int) -> list[int]:
        """``n`` primary keys nobody else gets: from the sequence on PostgreSQL; on SQLite after
        the largest in use (the run's transaction holds SQLite's one write lock)."""
        quote = self.connection.ops.quote_name
        table, pk = self.model._meta.db_table, self.model._meta.pk.column
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                               [table, pk, n])
                return [r[0] for r in cursor.fetchall()]
            cursor.execute(f"SELECT COALESCE(MAX({quote(pk)}), 0) FROM {quote(table)}")  # noqa: S608
            first = cursor.fetchone()[0] + 1
        return list(range(first, first + n))

    def row(self, values: dict) -> list:
        """The row in column order, with defaults for what ``values`` leaves out (plain values)."""
        row = self.defaults.copy()
        position = self.position
        for name, value in values.items():
            i = position.get(name)
            if i is not None:
                row[i] = value
        return row

    def stored(self, row: list, *, in_place: bool = False) -> list:
        """``row`` as the database keeps it: protected values encrypted, their lookup hashes
        filled in, dates as text on SQLite (in ``row`` itself with ``in_place``)."""
        stored = row if in_place else row.copy()
        hashers, encrypt = self._hashers, self._encrypt
        for i, source, kind in self.hashes:  # from the plain values, before they are encrypted
            stored[i] = hashers[kind](stored[source]) if stored[source] else ""
        for i in self.encrypted:
            if stored[i]:
                stored[i] = encrypt(stored[i])
        for i in self.dates:
            if stored[i] is not None:
                stored[i] = stored[i].isoformat()
        return stored

    def write(self, rows: Iterable[list], *, prepared: bool = False) -> None:
        """Write plain rows (from ``row``), or with ``prepared`` rows already ``stored``."""
        stored = map(self.stored, rows) if self.converts and not prepared else rows
        if self.connection.vendor == "postgresql":
            with self.connection.cursor() as cursor, cursor.copy(self.copy_sql) as copy:
                for row in stored:
                    copy.write_row(row)
        else:
            sqlite_insert(self.connection, self.table, self.columns, stored if isinstance(stored, list) else list(stored))


def sqlite_insert(connection, table: str, columns: list[str], rows: list) -> None:
    """Insert ``rows`` (sequences in ``columns`` order) into an SQLite table, many rows per
    statement: ``executemany`` binds and steps once per row, which for a narrow row (a search
    term) costs three times the insert itself. ``table`` and ``columns`` come from models, never
    from input."""
    import sqlite3

    connection.ensure_connection()
    raw = connection.connection
    try:
        limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except AttributeError:  # Python before 3.11
        limit = 999
    per_statement = max(1, min(limit // len(columns), 2000))
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES "  # noqa: S608
    one = "(" + ", ".join("?" * len(columns)) + ")"
    full = head + ", ".join([one] * per_statement)
    whole = len(rows) - len(rows) % per_statement
    for start in range(0, whole, per_statement):
        raw.execute(full, list(chain.from_iterable(rows[start:start + per_statement])))
    if whole < len(rows):
        raw.executemany(head + one, rows[whole:])


@contextmanager
def bulk_load(connection, models_, *, keep: Iterable[tuple[str, ...]] = (), unique: Iterable[tuple[str, ...]] = (),
              analyze=()):
    """Fill the tables of ``models_`` the way PostgreSQL's manual advises ("Populating a Database").

    The plain (non-unique) secondary indexes are dropped and built again at the end: sorting a
    million rows once is many times faster than keeping two dozen indexes up to date row by
    row. ``keep`` names the column lists of plain indexes that stay, because the load reads
    through them as it goes (an import matches each chunk by ID number). On PostgreSQL the
    foreign keys of these tables are dropped too and added again at the end, where one join
    checks them all; otherwise every row queues one check per foreign key (tens of millions at
    a million talents, run one by one at commit). Unique indexes and checks stay, so uniqueness
    is enforced as rows go in, except for the unique indexes on the column lists ``unique``
    names: a caller that checks those values itself (an import into an empty registry sees
    every ID number of the file) sets them aside too, and a duplicate still fails the load when
    they are built again. SQLite checks its foreign keys as rows go in, cheaply, and cannot
    drop them. ``analyze``: the models whose tables get fresh planner statistics at the end.
    Everything happens inside the caller's transaction, so a failure leaves the schema as it was
    (and, on PostgreSQL, other sessions wait for these tables until the load commits).
    """
    postgres = connection.vendor == "postgresql"
    kept = {tuple(columns) for columns in keep}
    unique = {tuple(columns) for columns in unique}
    indexes, foreign_keys = [], []
    with connection.cursor() as cursor:
        if postgres:
            # No table may be altered with checks still queued for it (Django's foreign keys are
            # DEFERRABLE INITIALLY DEFERRED): run what is queued now, then defer again.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for model in models_:
            table = model._meta.db_table
            if postgres:
                cursor.execute(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
                    "AND i.tablename = %s AND NOT EXISTS ("
                    "SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || "
                    "quote_ident(i.indexname))::regclass)", [table])
                found = cursor.fetchall()
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname", [table])
                foreign_keys += [(table, name, definition) for name, definition in cursor.fetchall()]
            else:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                    [table])
                found = cursor.fetchall()
            columns = {name: tuple(c["columns"]) for name, c in
                       connection.introspection.get_constraints(cursor, table).items()}
            indexes += [(name, sql) for name, sql in found if columns.get(name) not in kept and (
                not sql.upper().startswith("CREATE UNIQUE") or columns.get(name) in unique)]
        quote = connection.ops.quote_name
        for table, name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _sql in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    with connection.cursor() as cursor, _sorting(connection):
        if postgres:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _name, sql in indexes:
            cursor.execute(sql)
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        if analyze:
            # Statistics for the planner, the tables having perhaps grown tenfold; on SQLite from
            # a sample of each index, as SQLite advises for ``PRAGMA optimize`` (a full ANALYZE
            # reads every index again: seconds at a million rows).
            if not postgres:
                cursor.execute(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
            for model in analyze:
                cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")
            if not postgres:
                cursor.execute("PRAGMA analysis_limit = 0")


@contextmanager
def _sorting(connection):
    """On SQLite, while indexes are built: a small page cache and helper threads. SQLite's sorter
    then sorts the entries in pieces the size of the cache, on several threads, and merges them;
    with a cache big enough to hold them all it sorts them in one piece on one thread (the search
    index of a million talents: 5 s against 14 s)."""
    if connection.vendor != "sqlite":
        yield
        return
    with sqlite_cache(connection, SQLITE_SORT_CACHE_KIB):
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA threads = 0")


@contextmanager
def sqlite_cache(connection, kib: int = SQLITE_CACHE_KIB):
    """On SQLite, a page cache of ``kib`` that holds the indexes being filled (the talent table
    has two dozen; with the default 2 MB every insert into a large one reads its pages back from
    the file). Nothing on PostgreSQL."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = {-int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {previous}")


@contextmanager
def no_gc():
    """Millions of small tuples would set off the cycle collector again and again, each time
    walking every object alive (a third of a load's time); they hold no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def checkpoint_later(connection):
    """On SQLite in WAL mode: the transaction inside commits without its checkpoint, which a
    background thread runs afterwards on a connection of its own.

    SQLite copies a committed transaction's pages from the write-ahead log into the database file
    (and syncs the file) in the COMMIT that pushes the log past its limit: for a million-row load,
    gigabytes copied while the user waits, though the commit is durable once the log is synced.
    The copy (a PASSIVE checkpoint) then runs beside readers and writers, and whatever it leaves
    the next checkpoint takes. Nothing changes on PostgreSQL, on SQLite outside WAL mode, or
    when the transaction is rolled back (there is nothing to copy).
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        wal = cursor.fetchone()[0].lower() == "wal"
        cursor.execute("PRAGMA wal_autocheckpoint")
        previous = int(cursor.fetchone()[0])
        if wal:
            cursor.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        yield
    finally:
        if wal:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA wal_autocheckpoint = {previous}")
            if not connection.in_atomic_block:
                name = str(connection.settings_dict["NAME"])
                threading.Thread(target=_checkpoint, args=(name,), name="sqlite-checkpoint").start()


def _checkpoint(name: str) -> None:
    try:
        with sqlite3.connect(name, timeout=60) as database:
            database.execute("PRAGMA wal_checkpoint(PASSIVE)")
        database.close()
    except sqlite3.Error:
        logger.warning("background checkpoint failed; the next checkpoint will copy the log", exc_info=True)
