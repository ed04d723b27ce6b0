"""The cockpit's in-memory columns: the tables it counts, held as numpy arrays per process and
kept equal to the database on every request.

A GROUP BY over a million talents costs SQLite seconds, and the cockpit needs two dozen of them;
counting the same rows in arrays costs milliseconds. The arrays are a copy, so they must never
be stale: every write to a replicated table — by the ORM, a bulk import, a merge, raw SQL — is
recorded by database triggers in ``dashboards_change`` (``models.Change``), and each cockpit
request first reads what changed since its last look and re-reads just those rows.

What "since its last look" means is the one subtle part:

- **SQLite** lets one writer commit at a time, so the log's own id grows in commit order: the
  mark is the largest log id read. Rows a table appends with a new id (an import's million) are
  not logged at all, to keep imports fast: they are found by their id being above the largest
  the copy holds. A row inserted with an id the table has used before (an undone merge puts a
  talent back) is logged.
- **PostgreSQL** transactions commit in any order, so each log row carries the writing
  transaction's id, and the mark is the oldest transaction still running when the copy last
  looked (``pg_snapshot_xmin``): everything older had committed or vanished and was seen; the
  rest is read again, which is harmless, since a row is always re-read as it is now.

A request works on an immutable ``Snapshot``: a refresh that finds changes copies the arrays
it changes, so a cockpit being computed in another thread never sees half an update.

Areas declare what they replicate with ``replicate(Model, fields…)``; ``dashboards.tally``
counts over it. ``install_triggers`` (run after every migrate) writes the triggers.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import DatabaseError, connections, models

logger = logging.getLogger(__name__)

NULL_REF = 0  # a missing reference (ids start at 1)
NULL_DAY = np.iinfo(np.int32).min
NULL_MOMENT = np.iinfo(np.int64).min
EPOCH = dt.date(1970, 1, 1)

CHUNK = 50_000  # rows fetched at a time
KEYS_PER_QUERY = 2_000  # ids in one ``IN (…)``
RELOAD_SHARE = 0.2  # re-read the whole table when more of its rows than this changed
RELOAD_MIN = 1000  # (and more rows than this)
MAX_IDLE = 3600  # seconds: a copy not refreshed for longer is rebuilt (the log may be pruned)
# Seconds the change log is kept: far longer than MAX_IDLE, and than any transaction stays open
# (a log row's time is its transaction's start, and it must outlive the commit until every copy
# has read it).
LOG_KEPT = 24 * 3600
PRUNE_EVERY = 600  # seconds between prunes by one process

CHANGE_TABLE = "dashboards_change"


# --- what is replicated -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    name: str  # the field's name: "tier", "created_at"
    column: str  # its database column: "tier_id"
    kind: str  # "ref", "code", "int", "bool", "day", "moment", "words"


@dataclass
class Spec:
    model: type[models.Model]
    columns: dict[str, Column]
    links: dict[str, tuple[type[models.Model], str, str]] = field(default_factory=dict)  # name: (through, own, other)
    separators: str = ""

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def key(self) -> str:
        return self.model._meta.pk.column

    @property
    def sequential(self) -> bool:
        """Whether new rows take ids above every id before (AUTOINCREMENT on SQLite)."""
        return isinstance(self.model._meta.pk, models.AutoField | models.BigAutoField | models.SmallAutoField)

    def column(self, name: str) -> Column:
        try:
            return self.columns[name]
        except KeyError:
            if name.endswith("_id") and name[:-3] in self.columns:
                return self.columns[name[:-3]]
            if name == "pk":
                return self.columns[self.model._meta.pk.name]
            raise KeyError(f"{self.table} has no replicated column {name!r}") from None


_SPECS: dict[type[models.Model], Spec] = {}


def _kind(model_field: models.Field, words: tuple[str, ...]) -> str:
    if model_field.name in words:
        return "words"
    if model_field.is_relation:
        return "ref"
    if isinstance(model_field, models.BooleanField):
        return "bool"
    if isinstance(model_field, models.DateTimeField):
        return "moment"
    if isinstance(model_field, models.DateField):
        return "day"
    if isinstance(model_field, models.IntegerField | models.AutoField | models.BigAutoField):
        return "int"
    if isinstance(model_field, models.CharField | models.TextField):
        return "code"
    raise TypeError(f"cannot replicate {model_field!r}")


def replicate(model: type[models.Model], *names: str, words: tuple[str, ...] = (), links: tuple[str, ...] = (),
              separators: str = "；;，,、/") -> Spec:
    """Keep ``names`` of ``model`` in memory (and its primary key); ``words`` are free-text lists
    counted entry by entry; ``links`` are many-to-many fields whose link tables are kept too."""
    meta = model._meta
    columns = {}
    for name in (meta.pk.name, *names, *words):
        f = meta.get_field(name)
        columns[name] = Column(name, f.column, _kind(f, words))
    spec = Spec(model, columns, separators=separators)
    for name in links:
        m2m = meta.get_field(name)
        through = m2m.remote_field.through
        own, other = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
        replicate(through, own, other)
        spec.links[name] = (through, own, other)
    _SPECS[model] = spec
    return spec


def spec_for(model: type[models.Model]) -> Spec:
    return _SPECS[model]


def specs() -> list[Spec]:
    return list(_SPECS.values())


def split_words(text: str, separators: str) -> set[str]:
    """The distinct entries of a free-text list (研究方向: 人工智能；材料、新能源)."""
    table = str.maketrans({s: "；" for s in separators})
    return {w.strip() for w in text.translate(table).split("；") if w.strip()}


# --- triggers ------------------------------------------------------------------------------------------
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION rencai_log_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO dashboards_change (table_name, row_id, xid) VALUES (TG_TABLE_NAME, 0, pg_current_xact_id()::text::bigint);
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE format('INSERT INTO dashboards_change (table_name, row_id, xid) '
                       'SELECT %L, %I, pg_current_xact_id()::text::bigint FROM changed_rows', TG_TABLE_NAME, TG_ARGV[0]);
    ELSE
        -- the ids a statement inserted or deleted, as one range: re-read whole, never missed
        EXECUTE format('INSERT INTO dashboards_change (table_name, row_id, row_end, xid) '
                       'SELECT %L, min(%I), max(%I), pg_current_xact_id()::text::bigint FROM changed_rows '
                       'HAVING count(*) > 0', TG_TABLE_NAME, TG_ARGV[0], TG_ARGV[0]);
    END IF;
    RETURN NULL;
END $$;
"""


def trigger_sql(spec: Spec, vendor: str) -> list[str]:
    """The statements that make every write to ``spec``'s table leave its row ids in the log."""
    table, key = spec.table, spec.key
    name = f"rencai_log_{table}"
    if vendor == "postgresql":
        out = []
        for event, rows in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            trigger = f"{name}_{event.lower()}"
            out += [f'DROP TRIGGER IF EXISTS {trigger} ON "{table}"',
                    f'CREATE TRIGGER {trigger} AFTER {event} ON "{table}" REFERENCING {rows} TABLE AS changed_rows '
                    f"FOR EACH STATEMENT EXECUTE FUNCTION rencai_log_changes('{key}')"]
        out += [f'DROP TRIGGER IF EXISTS {name}_truncate ON "{table}"',
                f'CREATE TRIGGER {name}_truncate AFTER TRUNCATE ON "{table}" '
                f"FOR EACH STATEMENT EXECUTE FUNCTION rencai_log_changes('{key}')"]
        return out
    if vendor == "sqlite":
        log = f"INSERT INTO {CHANGE_TABLE} (table_name, row_id) VALUES ('{table}', %s.\"{key}\")"  # noqa: S608  (names from model meta)
        # A new row with an id above every earlier one is found by its id; the sequence still
        # holds the highest id before this row while the trigger runs.
        fresh = (f" WHEN NEW.\"{key}\" <= COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0)"  # noqa: S608  (names from model meta)
                 if spec.sequential else "")
        watched = [c.column for c in spec.columns.values() if c.column != key]
        changed = " OR ".join(f'OLD."{c}" IS NOT NEW."{c}"' for c in watched) or "0"
        cols = ", ".join(f'"{c}"' for c in watched)
        return [
            f"DROP TRIGGER IF EXISTS {name}_insert", f"DROP TRIGGER IF EXISTS {name}_update",
            f"DROP TRIGGER IF EXISTS {name}_delete",
            f'CREATE TRIGGER {name}_insert AFTER INSERT ON "{table}"{fresh} BEGIN {log % "NEW"}; END',
            f'CREATE TRIGGER {name}_update AFTER UPDATE OF {cols} ON "{table}" WHEN {changed} BEGIN {log % "NEW"}; END',
            f'CREATE TRIGGER {name}_delete AFTER DELETE ON "{table}" BEGIN {log % "OLD"}; END',
        ]
    raise NotImplementedError(f"the cockpit's change log does not support {vendor}")


def install_triggers(using: str = "default") -> None:
    connection = connections[using]
    tables = set(connection.introspection.table_names())
    if CHANGE_TABLE not in tables:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(PG_FUNCTION)
        for spec in specs():
            if spec.table in tables:
                for statement in trigger_sql(spec, connection.vendor):
                    cursor.execute(statement)


# --- reading rows -----------------------------------------------------------------------------------------
def _select(column: Column, vendor: str) -> str:
    c = f'"{column.column}"'
    if column.kind in ("ref", "int"):
        return f"COALESCE({c}, 0)"
    if column.kind == "bool":
        return f"CAST({c} AS INTEGER)"
    if column.kind == "day":
        if vendor == "sqlite":
            return f"COALESCE(CAST(julianday({c}) - 2440587.5 AS INTEGER), {NULL_DAY})"
        return f"COALESCE({c} - DATE '1970-01-01', {NULL_DAY})"
    if column.kind == "moment":
        if vendor == "sqlite":
            # The whole seconds only: both functions round a fraction to the millisecond, which
            # would put 23:59:59.9996 on the next day.
            if sqlite3.sqlite_version_info >= (3, 38):  # unixepoch(): twice as fast as strftime
                return f"COALESCE(unixepoch(substr({c}, 1, 19)), {NULL_MOMENT})"
            return f"COALESCE(CAST(strftime('%%s', substr({c}, 1, 19)) AS INTEGER), {NULL_MOMENT})"
        return f"COALESCE(CAST(floor(EXTRACT(EPOCH FROM {c})) AS BIGINT), {NULL_MOMENT})"
    return c


# References are 64-bit: numpy gathers and counts by machine-sized indices, and converts any other
# first (twice the time on five million links). Codes and dates are 32-bit: half the bytes.
DTYPES = {"ref": np.int64, "int": np.int32, "bool": np.int8, "day": np.int32, "moment": np.int64, "code": np.int32}
NUMERIC = ("ref", "int", "bool", "day", "moment")

# Dates and moments are also held as buckets (days from 1900, hours from 1970, to 2100; 0 for
# none), so the rows in any number of periods that start and end on bucket edges (a day; an
# hour, which a midnight in a whole-hour time zone is) are one bincount: (unit, first, buckets).
BUCKETS = {"day": (1, (dt.date(1900, 1, 1) - EPOCH).days, (dt.date(2100, 1, 1) - dt.date(1900, 1, 1)).days + 1),
           "moment": (3600, 0, (dt.date(2100, 1, 1) - EPOCH).days * 24 + 1)}


def bucket_name(name: str) -> str:
    return f"{name}#bucket"


def buckets_of(kind: str, values: np.ndarray) -> np.ndarray:
    unit, first, count = BUCKETS[kind]
    wide = values.astype(np.int64)
    null = NULL_DAY if kind == "day" else NULL_MOMENT
    return np.where(wide == null, 0, np.clip((wide - first) // unit + 1, 1, count - 1)).astype(np.int32)


ABSENT = object()  # what a code 0 stands for: no row
WORD_SIGNATURE = "#signature"  # the array of each row's words' hash


class Vocabulary:
    """Text values as small integers from 1, in order of first sight (the ids only ever grow);
    0 is an absent row's, so that every column of an absent row is 0."""

    def __init__(self):
        self.ids: dict[Any, int] = {}
        self.values: list[Any] = [ABSENT]

    def id(self, value) -> int:
        got = self.ids.get(value)
        if got is None:
            got = self.ids[value] = len(self.values)
            self.values.append(value)
        return got

    def find(self, value) -> int:
        return self.ids.get(value, -1)


class Table:
    """One replicated table: a column array per field, indexed by the row's id; ``present``
    marks the ids that exist, and an id that does not is 0 in every column. Slot 0 (no
    reference) and the last slot are never present, so a reference can index any array
    (clipped) without a check.

    A table is not changed once a request may count on it: ``updated`` makes the next version,
    sharing every array the change leaves alone."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.present = np.zeros(2, dtype=bool)
        self.data: dict[str, np.ndarray] = {}
        self.vocab: dict[str, Vocabulary] = {}
        self.word_rows = np.zeros(0, dtype=np.int64)  # (row id, word id) per distinct word of a row
        self.word_ids = np.zeros(0, dtype=np.int32)
        self.word_alive = np.zeros(0, dtype=bool)
        self.words = Vocabulary()
        self.max_key = 0
        self.rows = 0
        self.histograms: dict[str, np.ndarray] = {}
        for c in spec.columns.values():
            if c.kind == "words":
                self.data[WORD_SIGNATURE] = np.zeros(2, dtype=np.int64)  # which words a row holds
                continue
            if self._is_own_id(c):
                continue
            self.data[c.name] = np.zeros(2, dtype=DTYPES[c.kind])
            if c.kind == "code":
                self.vocab[c.name] = Vocabulary()
            if c.kind in BUCKETS:
                self.data[bucket_name(c.name)] = np.zeros(2, dtype=np.int32)

    def _is_own_id(self, column: Column) -> bool:
        return column.column == self.spec.key and column.kind == "int"

    def word_histogram(self) -> np.ndarray:
        """How many rows hold each word, over the whole table (once per version)."""
        if "#words" not in self.histograms:
            self.histograms["#words"] = np.bincount(self.word_ids[self.word_alive], minlength=len(self.words.values))
        return self.histograms["#words"]

    def histogram(self, key: str, minlength: int = 1) -> np.ndarray:
        """How many rows hold each value of the (non-negative) array ``key``, over the whole
        table: worked out once, then carried from version to version by ``updated``."""
        counts = self.histograms.get(key)
        if counts is None or len(counts) < minlength:
            counts = np.bincount(self.data[key], minlength=max(minlength, 1))
            counts[0] -= self.capacity - self.rows  # the absent rows' zeros
            self.histograms[key] = counts
        return counts

    @property
    def capacity(self) -> int:
        return len(self.present)

    def _grow(self, key: int) -> bool:
        """Make room for id ``key`` (new arrays); whether it had to."""
        if key + 1 < self.capacity:
            return False
        size = max(key + 2, int(self.capacity * 1.5) + 1024)
        present = np.zeros(size, dtype=bool)
        present[: self.capacity] = self.present
        self.present = present
        self.data = dict(self.data)
        for name, array in self.data.items():
            grown = np.zeros(size, dtype=array.dtype)
            grown[: len(array)] = array
            self.data[name] = grown
        return True

    # -- reading rows in
    def select_sql(self, vendor: str) -> str:
        spec = self.spec
        cols = ", ".join(_select(c, vendor) for c in spec.columns.values())
        return f'SELECT {cols} FROM "{spec.table}"'  # noqa: S608  (names from model meta)

    def _parse(self, rows: list[tuple]) -> tuple[np.ndarray, dict[str, np.ndarray], list[tuple[int, ...]]]:
        """Fetched rows (in ``spec.columns`` order, the key first) as ``(ids, {array: values},
        [each row's word ids])``."""
        spec_columns = list(self.spec.columns.values())
        if all(c.kind in NUMERIC for c in spec_columns):
            matrix = np.array(rows, dtype=np.int64).reshape(len(rows), len(spec_columns))  # numbers only: one conversion
            columns = [matrix[:, i] for i in range(matrix.shape[1])]
        else:
            columns = list(zip(*rows, strict=True)) if rows else [() for _c in spec_columns]
        keys = np.asarray(columns[0], dtype=np.int64)
        values: dict[str, np.ndarray] = {}
        words: list[tuple[int, ...]] = []
        for c, column in zip(spec_columns, columns, strict=True):
            if self._is_own_id(c):
                continue  # the arrays' index
            if c.kind == "words":
                words = [self._word_ids(text) for text in column]
                values[WORD_SIGNATURE] = np.fromiter(map(hash, words), dtype=np.int64, count=len(words))
                continue
            if c.kind == "code":
                values[c.name] = np.fromiter(map(self.vocab[c.name].id, column), dtype=np.int32, count=len(keys))
            elif isinstance(column, np.ndarray):
                values[c.name] = column.astype(DTYPES[c.kind])
            else:
                values[c.name] = np.fromiter(column, dtype=DTYPES[c.kind], count=len(keys))
            if c.kind in BUCKETS:
                values[bucket_name(c.name)] = buckets_of(c.kind, values[c.name])
        return keys, values, words

    def _word_ids(self, text) -> tuple[int, ...]:
        return tuple(sorted(map(self.words.id, split_words(text, self.spec.separators)))) if text else ()

    def _add_words(self, keys: np.ndarray, words: list[tuple[int, ...]]) -> None:
        counts = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        flat = np.fromiter((i for ids in words for i in ids), dtype=np.int32, count=int(counts.sum()))
        self.word_rows = np.concatenate([self.word_rows, np.repeat(keys, counts)])
        self.word_ids = np.concatenate([self.word_ids, flat])
        self.word_alive = np.concatenate([self.word_alive, np.ones(len(flat), dtype=bool)])

    def write(self, rows: list[tuple]) -> None:
        """Read rows into a table being built (a whole load)."""
        if not rows:
            return
        keys, values, words = self._parse(rows)
        self._grow(int(keys.max()))
        self.max_key = max(self.max_key, int(keys.max()))
        for name, column in values.items():
            self.data[name][keys] = column
        if words:
            self._add_words(keys, words)
        self.rows += int(np.count_nonzero(~self.present[keys]))
        self.present[keys] = True
        self.histograms = {}

    def keys_between(self, lo: int, hi: int) -> np.ndarray:
        """The ids held from ``lo`` to ``hi``."""
        lo, hi = max(lo, 0), min(hi, self.capacity - 1)
        return np.flatnonzero(self.present[lo:hi + 1]).astype(np.int64) + lo if hi >= lo else np.zeros(0, np.int64)

    def updated(self, rows: list[tuple], touched: np.ndarray) -> Table:
        """The next version: the ids ``touched`` as ``rows`` hold them now (one not among the
        rows is gone). Only the arrays whose values change are copied, and the whole-table
        counts are carried over, corrected by the touched rows alone."""
        new = Table.__new__(Table)
        new.__dict__.update(self.__dict__)
        new.data, new.histograms = dict(self.data), dict(self.histograms)
        fetched, values, words = self._parse(rows)
        order = np.argsort(fetched, kind="stable")
        fetched = fetched[order]
        touched = np.union1d(touched.astype(np.int64), fetched)
        if not len(touched):
            return self
        grown = new._grow(int(touched.max()))
        new.max_key = max(self.max_key, int(fetched.max()) if len(fetched) else 0)
        was = np.take(self.present, touched, mode="clip")  # the last slot is never present
        now = np.isin(touched, fetched)
        for name, array in new.data.items():
            old = np.take(self.data[name], touched, mode="clip")  # an absent row is 0
            current = np.zeros(len(touched), dtype=array.dtype)
            current[now] = values[name][order]
            if not np.array_equal(old, current):
                target = array if grown else array.copy()
                target[touched] = current
                new.data[name] = target
            counts = self.histograms.get(name)
            if counts is not None and name != WORD_SIGNATURE:
                counts = np.concatenate([counts, np.zeros(max(0, int(current.max(initial=0)) + 1 - len(counts)),
                                                          dtype=counts.dtype)])
                np.subtract.at(counts, old[was], 1)
                np.add.at(counts, current[now], 1)
                new.histograms[name] = counts
        if not np.array_equal(was, now):
            new.present = new.present if grown else new.present.copy()
            new.present[touched] = now
            new.rows = self.rows + int(np.count_nonzero(now)) - int(np.count_nonzero(was))
        if WORD_SIGNATURE in new.data:
            signatures = np.take(self.data[WORD_SIGNATURE], touched, mode="clip")
            changed = touched[signatures != np.take(new.data[WORD_SIGNATURE], touched, mode="clip")]
            if len(changed):
                new.histograms.pop("#words", None)
                marked = np.zeros(new.capacity, dtype=bool)
                marked[changed] = True
                new.word_alive = self.word_alive & ~marked[np.minimum(self.word_rows, new.capacity - 1)]
                by_key = dict(zip(fetched.tolist(), (words[i] for i in order.tolist()), strict=True))
                kept = [k for k in changed.tolist() if k in by_key]
                new._add_words(np.array(kept, dtype=np.int64), [by_key[k] for k in kept])
                dead = len(new.word_alive) - int(np.count_nonzero(new.word_alive))
                if dead > 1024 and dead * 2 > len(new.word_alive):
                    keep = new.word_alive
                    new.word_rows, new.word_ids, new.word_alive = new.word_rows[keep], new.word_ids[keep], keep[keep]
        return new


# --- the copy and its refresh -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """The replicated tables as one request counts them."""

    tables: dict[type[models.Model], Table]

    def table(self, model) -> Table:
        return self.tables[model]

    @property
    def nbytes(self) -> int:
        """The arrays' size in bytes."""
        return sum(a.nbytes for t in self.tables.values()
                   for a in (t.present, t.word_rows, t.word_ids, t.word_alive, *t.data.values()))


class Replica:
    """The copy of every replicated table for one database, in this process."""

    def __init__(self, using: str = "default"):
        self.using = using
        self.lock = threading.Lock()
        self.snapshot: Snapshot | None = None
        self.mark: int | None = None
        self.refreshed_at = 0.0
        self.pruned_at = time.monotonic()  # the first prune comes PRUNE_EVERY after start
        self.loads = 0  # whole copies read (the first, and after a long idle)
        self.table_loads = 0  # single tables read whole again (after many changes)

    def reset(self) -> None:
        with self.lock:
            self.snapshot, self.mark = None, None
            self.loads = self.table_loads = 0
            self.pruned_at = time.monotonic()

    def current(self) -> Snapshot:
        """The tables as they are in the database now."""
        with self.lock:
            now = time.monotonic()
            if self.snapshot is None or now - self.refreshed_at > MAX_IDLE or set(self.snapshot.tables) != set(_SPECS):
                self._load()
            else:
                self._refresh()
            self.refreshed_at = now
            prune = now - self.pruned_at > PRUNE_EVERY
            if prune:
                self.pruned_at = now
            snapshot = self.snapshot
        if prune:  # beside the request, never in its way: on SQLite a DELETE waits for a writer
            threading.Thread(target=self._prune_beside, name="cockpit-log-prune", daemon=True).start()
        return snapshot

    # -- the two backends' marks
    def _read_mark(self, cursor) -> int:
        """Where the next refresh starts reading the log (see the module's notes)."""
        if connections[self.using].vendor == "postgresql":
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint", [])
        else:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {CHANGE_TABLE}", [])  # noqa: S608  (names from model meta)
        return int(cursor.fetchone()[0])

    def _read_log(self, cursor) -> tuple[dict[str, tuple[set[int], list[tuple[int, int]]]], int]:
        """``({table: (ids, [(first id, last id), …])}, the next mark)`` from the change log."""
        if connections[self.using].vendor == "postgresql":
            mark = self._read_mark(cursor)
            cursor.execute(f"SELECT table_name, row_id, row_end FROM {CHANGE_TABLE} WHERE xid >= %s", [self.mark])  # noqa: S608  (names from model meta)
            rows = cursor.fetchall()
        else:
            cursor.execute(f"SELECT id, table_name, row_id, row_end FROM {CHANGE_TABLE} WHERE id > %s", [self.mark])  # noqa: S608  (names from model meta)
            fetched = cursor.fetchall()
            mark = max((r[0] for r in fetched), default=self.mark)
            rows = [r[1:] for r in fetched]
            if not fetched and self._read_mark(cursor) < self.mark:
                return {}, -1  # the log went back (a restored file): read everything again
        changed: dict[str, tuple[set[int], list[tuple[int, int]]]] = {}
        for table, row_id, row_end in rows:
            ids, ranges = changed.setdefault(table, (set(), []))
            if row_end is None:
                ids.add(row_id)
            else:
                ranges.append((row_id, row_end))
        return changed, mark

    def _load(self) -> None:
        started = time.perf_counter()
        connection = connections[self.using]
        tables = {}
        with connection.cursor() as cursor:
            mark = self._read_mark(cursor)
            for model, spec in _SPECS.items():
                tables[model] = _read_whole(cursor, spec, connection.vendor)
        self.snapshot, self.mark = Snapshot(tables), mark
        self.loads += 1
        logger.info("cockpit columns loaded in %.1f s, %.0f MB (%s)", time.perf_counter() - started,
                    self.snapshot.nbytes / 2**20, ", ".join(f"{t.spec.table} {t.rows}" for t in tables.values()))

    def _refresh(self) -> None:
        connection = connections[self.using]
        vendor = connection.vendor
        with connection.cursor() as cursor:
            changed, mark = self._read_log(cursor)
            if mark < 0:
                self._load()
                return
            tables = dict(self.snapshot.tables)
            for model, old in self.snapshot.tables.items():
                keys, ranges = changed.get(old.spec.table, (set(), []))
                ranges = _merged(ranges)
                size = len(keys) + sum(hi - lo + 1 for lo, hi in ranges)
                reload_all = 0 in keys or size > max(RELOAD_MIN, RELOAD_SHARE * old.rows)
                new_rows = []
                if vendor == "sqlite" and old.spec.sequential and not reload_all:
                    cursor.execute(f'{old.select_sql(vendor)} WHERE "{old.spec.key}" > %s', [old.max_key])
                    new_rows = cursor.fetchall()
                    reload_all = len(new_rows) > max(RELOAD_MIN, RELOAD_SHARE * old.rows)
                if reload_all:
                    self.table_loads += 1
                    tables[model] = _read_whole(cursor, old.spec, vendor)
                    continue
                if not keys and not ranges and not new_rows:
                    continue
                key = old.spec.key
                fetched = {row[0]: row for row in new_rows}  # read first: the logged rows, read later, win
                touched = [np.array(sorted(keys), dtype=np.int64)]
                for lo, hi in ranges:
                    touched.append(old.keys_between(lo, hi))
                    cursor.execute(f'{old.select_sql(vendor)} WHERE "{key}" BETWEEN %s AND %s', [lo, hi])
                    while rows := cursor.fetchmany(CHUNK):
                        fetched.update((row[0], row) for row in rows)
                ordered = sorted(keys)
                for i in range(0, len(ordered), KEYS_PER_QUERY):
                    part = ordered[i:i + KEYS_PER_QUERY]
                    marks = ", ".join(["%s"] * len(part))
                    cursor.execute(f'{old.select_sql(vendor)} WHERE "{key}" IN ({marks})', part)
                    fetched.update((row[0], row) for row in cursor.fetchall())
                tables[model] = old.updated(list(fetched.values()), np.concatenate(touched))
        self.snapshot, self.mark = Snapshot(tables), mark

    def _prune(self) -> None:
        """Drop the log's rows older than ``LOG_KEPT`` (one statement: no row is read); on
        PostgreSQL only those of transactions that have ended."""
        from django.utils import timezone

        connection = connections[self.using]
        cutoff = connection.ops.adapt_datetimefield_value(timezone.now() - dt.timedelta(seconds=LOG_KEPT))
        try:
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute(f"DELETE FROM {CHANGE_TABLE} WHERE created_at < %s "  # noqa: S608  (a constant name)
                                   "AND xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint", [cutoff])
                else:
                    cursor.execute(f"DELETE FROM {CHANGE_TABLE} WHERE created_at < %s", [cutoff])  # noqa: S608
        except DatabaseError:  # a writer held the database past the busy timeout: next time
            logger.warning("the cockpit's change log was not pruned this time", exc_info=True)

    def _prune_beside(self) -> None:
        try:
            self._prune()
        finally:
            connections.close_all()  # this thread's own connection


def _read_whole(cursor, spec: Spec, vendor: str) -> Table:
    table = Table(spec)
    cursor.execute(table.select_sql(vendor), [])
    while rows := cursor.fetchmany(CHUNK):
        table.write(rows)
    return table


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching id ranges as one."""
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


_REPLICAS: dict[str, Replica] = {}
_REPLICAS_LOCK = threading.Lock()


def replica(using: str = "default") -> Replica:
    with _REPLICAS_LOCK:
        if using not in _REPLICAS:
            _REPLICAS[using] = Replica(using)
        return _REPLICAS[using]


def reset() -> None:
    """Drop every copy (tests do, after a rollback the log cannot show)."""
    for r in list(_REPLICAS.values()):
        r.reset()


# --- values as the arrays hold them ---------------------------------------------------------------------------
def stored(table: Table, column: Column, value) -> int:
    """``value`` (a lookup's) as ``column`` holds it; -1 for text the column never held."""
    kind = column.kind
    if kind == "ref" or kind == "int":
        if value is None:
            return NULL_REF
        return int(getattr(value, "pk", value))
    if kind == "bool":
        return int(bool(value))
    if kind == "code":
        return table.vocab[column.name].find(value)
    if kind == "day":
        if value is None:
            return NULL_DAY
        if isinstance(value, dt.datetime):
            value = value.date()
        return (value - EPOCH).days
    if kind == "moment":
        if value is None:
            return NULL_MOMENT
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            raise TypeError("compare a moment with a datetime")
        return math.ceil(value.timestamp())  # lookups' bounds are whole seconds
    raise TypeError(f"no lookups on {kind} columns")


def value_of(table: Table, column: Column, stored_value: int):
    """The other way: what a stored value stands for."""
    from django.utils import timezone

    if column.kind == "ref":
        return None if stored_value == NULL_REF else int(stored_value)
    if column.kind == "code":
        return table.vocab[column.name].values[stored_value]
    if column.kind == "day":
        return None if stored_value == NULL_DAY else EPOCH + dt.timedelta(days=int(stored_value))
    if column.kind == "moment":
        return None if stored_value == NULL_MOMENT else dt.datetime.fromtimestamp(int(stored_value), tz=timezone.get_current_timezone())
    if column.kind == "bool":
        return bool(stored_value)
    return int(stored_value)
