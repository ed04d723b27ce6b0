"""Each talent's liaison schedule (``ContactState``): worked out from its contacts and the
cadence rules, and kept in step with every write that changes one of its inputs.

The arithmetic, for one talent:

- the interval is that of the first active cadence rule (in order) whose conditions the talent
  meets — tier, category, talent database, a blank condition matching anyone — or
  ``CadenceRule.DEFAULT_INTERVAL`` days when none does;
- the last contact is the latest contact record in which the talent was reached; attempts that
  did not reach them after it are counted, and ``LOST_AFTER`` of them in a row flag the talent
  as probably lost (疑似失联) for staff to confirm;
- the next due date is the next contact date the latest record set, if it set one; otherwise the
  last contact's date (or, never reached, the day the talent entered the registry) plus the
  interval.

Talents whose status is 已故 or 已调出 are kept out of the worklists (``followed`` false).

Inputs change in three places: a contact is written (``refresh`` of its talents, in the same
transaction), a talent is written (``talents.signals.talents_changed``: inline for a few, a
background job for a large import), a cadence rule is written (a background job over all).
``refresh_all`` redoes every talent and is safe to run at any time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from operator import itemgetter

from django.db import connections, router, transaction
from django.utils import timezone

from rencai.liaison.models import CadenceRule, ContactRecord, ContactState
from rencai.talents.choices import TalentStatus
from rencai.talents.models import Talent

LOST_AFTER = 3  # failed attempts in a row that flag a talent as probably lost
FOLLOWED_STATUSES = (TalentStatus.IN_CONTACT, TalentStatus.LOST, TalentStatus.RETIRED)
INLINE_LIMIT = 2000  # more talents than this changed at once are refreshed by a background job
BATCH = 900  # ids per query (SQLite's limit on parameters leaves room for the rest)
RANGE_BATCH = 5000  # talents per step of a full refresh, read by id range
UPSERT_ROWS = 100  # schedules per INSERT … ON CONFLICT statement (SQLite allows 999 parameters before 3.32)


class Rules:
    """The active cadence rules, read once: ``interval(tier_id, category_id, database_ids)``."""

    def __init__(self, rules: Iterable[CadenceRule] | None = None):
        if rules is None:
            rules = CadenceRule.objects.filter(is_active=True).order_by("sort_order", "id")
        self.rules = [(r.tier_id, r.category_id, r.database_id, r.interval_days) for r in rules]
        self.needs_databases = any(database for _t, _c, database, _i in self.rules)

    def interval(self, tier_id, category_id, database_ids=()) -> int:
        for tier, category, database, days in self.rules:
            if tier is not None and tier != tier_id:
                continue
            if category is not None and category != category_id:
                continue
            if database is not None and database not in database_ids:
                continue
            return days
        return CadenceRule.DEFAULT_INTERVAL


def local_date(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


def _same(value):
    return value


def schedule_values(talent_row, contacts, database_ids, rules: Rules, *, to_datetime=_same, to_date=_same) -> tuple:
    """The schedule of one talent as a row in ``STATE_COLUMNS`` order: ``talent_row`` =
    (id, region_id, liaison_officer_id, status, tier_id, category_id, created_at); ``contacts`` =
    [(contacted_at, reached, next_contact_date)] in any order. The contacts may come as the
    database driver gives them (``to_datetime``/``to_date`` turn the ones that count into the
    ORM's values), so a full refresh converts one or two per talent rather than every contact."""
    pk, region_id, officer_id, status, tier_id, category_id, created_at = talent_row
    interval = rules.interval(tier_id, category_id, database_ids)
    last_contact = last_attempt = None
    failed = 0
    explicit = None
    for contacted_at, reached, next_date in sorted(contacts, key=itemgetter(0, 1), reverse=True):
        if last_attempt is None:
            last_attempt = to_datetime(contacted_at)
            explicit = next_date
        if reached:
            last_contact = to_datetime(contacted_at)
            break
        failed += 1
    if explicit is not None:
        due = to_date(explicit)
    else:
        base = local_date(last_contact) if last_contact is not None else local_date(created_at)
        due = base + dt.timedelta(days=interval)
    return (pk, region_id, officer_id, status in FOLLOWED_STATUSES, last_contact, last_attempt, failed, interval, due)


STATE_FIELDS = ("region", "liaison_officer", "followed", "last_contact_at", "last_attempt_at", "failed_attempts",
                "interval_days", "next_due")
STATE_COLUMNS = ("talent_id", "region_id", "liaison_officer_id", *STATE_FIELDS[2:])


def state_for(talent_row, contacts, database_ids, rules: Rules) -> ContactState:
    """The schedule of one talent (see ``schedule_values``), as an unsaved ``ContactState``."""
    return ContactState(**dict(zip(STATE_COLUMNS, schedule_values(talent_row, contacts, database_ids, rules),
                                   strict=True)))


TALENT_COLUMNS = ("id", "region_id", "liaison_officer_id", "status", "tier_id", "category_id", "created_at")
_links = ContactRecord.talents.through
_memberships = Talent.databases.through


def _connection():
    return connections[router.db_for_write(ContactState)]


def _raw_converters(connection):
    """How the contacts' raw values become Python ones: SQLite's driver gives naive datetimes in
    UTC (Django's ORM would make each one aware, five million times in a full refresh); PostgreSQL's
    gives them aware."""
    if connection.vendor != "sqlite":
        return _same, _same
    utc = dt.UTC

    def to_datetime(value):
        return value.replace(tzinfo=utc)

    return to_datetime, _same


def _states(talents: list[tuple], contacts, databases: Iterable[tuple], rules: Rules) -> list[tuple]:
    by_talent = defaultdict(list)
    for talent_id, *contact in contacts:
        by_talent[talent_id].append(contact)
    in_databases = defaultdict(set)
    for talent_id, database_id in databases:
        in_databases[talent_id].add(database_id)
    to_datetime, to_date = _raw_converters(_connection())
    return [schedule_values(row, by_talent.get(row[0], ()), in_databases.get(row[0], ()), rules,
                            to_datetime=to_datetime, to_date=to_date) for row in talents]


def _write(states: list[tuple]) -> None:
    """Insert or replace these schedules, many rows per statement (``bulk_create`` with
    ``update_conflicts`` spends most of a full refresh preparing each value of each instance)."""
    if not states:
        return
    connection = _connection()
    ops = connection.ops
    quote = ops.quote_name
    table = quote(ContactState._meta.db_table)
    columns = [quote(c) for c in STATE_COLUMNS]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    per_statement = UPSERT_ROWS
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    to_db_datetime, to_db_date = ops.adapt_datetimefield_value, ops.adapt_datefield_value
    with connection.cursor() as cursor:
        for start in range(0, len(states), per_statement):
            part = states[start:start + per_statement]
            params = []
            for pk, region, officer, followed, last_contact, last_attempt, failed, interval, due in part:
                params += (pk, region, officer, followed, to_db_datetime(last_contact), to_db_datetime(last_attempt),
                           failed, interval, to_db_date(due))
            # Table and column names come from the model, never from input.
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * len(part))} "  # noqa: S608
                f"ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}", params)


def _contacts(**talent_lookup):
    """The contacts of the talents ``talent_lookup`` names, as the driver gives them:
    [(talent_id, contacted_at, reached, next_contact_date)]."""
    queryset = _links.objects.filter(**talent_lookup).values_list(
        "talent_id", "contactrecord__contacted_at", "contactrecord__reached", "contactrecord__next_contact_date")
    sql, params = queryset.query.sql_with_params()
    with _connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def refresh(talent_ids: Iterable[int], rules: Rules | None = None) -> int:
    """Work out the schedule of these talents again (those deleted meanwhile are skipped)."""
    ids = sorted(set(talent_ids))
    rules = rules or Rules()
    done = 0
    with transaction.atomic():
        for start in range(0, len(ids), BATCH):
            part = ids[start:start + BATCH]
            talents = list(Talent.objects.filter(pk__in=part).values_list(*TALENT_COLUMNS))
            databases = (_memberships.objects.filter(talent_id__in=part).values_list("talent_id", "talentdatabase_id")
                         if rules.needs_databases else ())
            states = _states(talents, _contacts(talent_id__in=part), databases, rules)
            _write(states)
            done += len(states)
    return done


def refresh_range(first: int, last: int, rules: Rules | None = None,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Work out the schedule of every talent with an id in [first, last], a range at a time."""
    rules = rules or Rules()
    done = 0
    start = first
    while start <= last:
        end = min(start + RANGE_BATCH, last + 1)
        window = {"talent_id__gte": start, "talent_id__lt": end}
        with transaction.atomic():
            talents = list(Talent.objects.filter(pk__gte=start, pk__lt=end).order_by().values_list(*TALENT_COLUMNS))
            databases = (_memberships.objects.filter(**window).values_list("talent_id", "talentdatabase_id")
                         if rules.needs_databases else ())
            states = _states(talents, _contacts(**window), databases, rules)
            _write(states)
        done += len(states)
        if progress is not None:
            progress(end - first, last - first + 1)
        start = end
    return done


def refresh_all(progress: Callable[[int, int], None] | None = None) -> int:
    """Work out every talent's schedule again (after a change of the cadence rules, or at will)."""
    bounds = Talent.objects.order_by("pk").values_list("pk", flat=True)
    first, last = bounds.first(), bounds.last()
    if first is None:
        return 0
    return refresh_range(first, last, progress=progress)


def talents_changed(ids: list[int]) -> None:
    """A write changed these talents: refresh them now, or — many at once, as a large import
    does — in a background job once the write has committed."""
    if not ids:
        return
    if len(ids) <= INLINE_LIMIT:
        refresh(ids)
        return
    from rencai.core.jobs import enqueue

    first, last = min(ids), max(ids)
    transaction.on_commit(lambda: enqueue("liaison.refresh", {"first": first, "last": last},
                                          title=f"更新联络计划（{len(ids):,} 人）"))


def queue_refresh_all() -> None:
    """Refresh every schedule in the background (the cadence rules changed)."""
    from rencai.core.jobs import enqueue

    enqueue("liaison.refresh", {"all": True}, title="按新的联络周期更新联络计划")
