"""Keyset pagination: pages addressed by a cursor on (sort columns, pk), never by OFFSET.

An OFFSET page makes the database walk and discard every row before it, so page 25,000 of a
million-row list costs a thousand times page 1 (DESIGN.md measures 7–22 requests/s against ≈ 200).
A cursor names the last row seen, and the next page is "the rows after it in this order", which
an index answers as quickly on page 25,000 as on page 1.

The ordering is made total by appending the primary key, so rows that share a sort value (two
units with the same kind) are neither skipped nor repeated across pages. NULLs sort as the
greatest value in both directions (ASC NULLS LAST, DESC NULLS FIRST: PostgreSQL's own default,
spelled out so SQLite agrees), which keeps the "after" condition the same on both databases.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from django.db.models import BooleanField, Expression, F, Q

from rencai.core.fields import EncryptedTextField

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 25
# Counting stops here: counting a filtered million-row table costs as much as reading it.
COUNT_LIMIT = 10_000


class InvalidCursor(ValueError):
    """A cursor that was not made by us for this ordering (edited by hand, or from an old page)."""


@dataclass(frozen=True)
class SortKey:
    lookup: str  # an ORM path ending in a concrete column: "name", "region__path", "region_id"
    descending: bool
    field: Any  # the model field at the end of the path, to turn cursor values back into Python
    nullable: bool

    def order_expression(self):
        expression = F(self.lookup)
        if not self.nullable:
            return expression.desc() if self.descending else expression.asc()
        return expression.desc(nulls_first=True) if self.descending else expression.asc(nulls_last=True)


def resolve_sort_key(model, spec: str) -> SortKey:
    """A ``SortKey`` for ``"name"`` / ``"-region__path"``; a relation at the end sorts by its id."""
    descending = spec.startswith("-")
    parts = spec.lstrip("-").replace(".", "__").split("__")
    if parts == ["pk"]:
        parts = [model._meta.pk.name]
    current = model
    nullable = False
    field = None
    for index, part in enumerate(parts):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist as exc:
            raise ValueError(f"{model.__name__} cannot be sorted by {spec!r}") from exc
        if isinstance(field, EncryptedTextField):
            raise ValueError(f"{model.__name__} cannot be sorted by the encrypted field {spec!r}")
        nullable = nullable or bool(getattr(field, "null", False))
        if field.is_relation:
            if field.many_to_many or field.one_to_many:
                raise ValueError(f"{model.__name__} cannot be sorted by the to-many relation {spec!r}")
            if index == len(parts) - 1:
                parts[-1] = field.attname  # "region" -> "region_id": a column, not a model ordering
                field = field.target_field
                break
            current = field.related_model
    return SortKey("__".join(parts), descending, field, nullable)


def _unique_column_sets(model) -> list[set[str]]:
    """Column sets that identify a row: unique fields and unconditional unique constraints."""
    sets = [{f.attname} for f in model._meta.concrete_fields if f.unique and not f.null]
    for constraint in model._meta.total_unique_constraints:
        fields = [model._meta.get_field(name) for name in constraint.fields]
        if not any(f.null for f in fields):
            sets.append({f.attname for f in fields})
    return sets


def sort_keys(model, specs) -> list[SortKey]:
    """The sort keys for ``specs``, with the primary key appended when they do not already
    identify a row (so the order is total and an index on them alone can serve it)."""
    keys = []
    seen = set()
    for spec in specs:
        key = resolve_sort_key(model, spec)
        if key.lookup not in seen:
            keys.append(key)
            seen.add(key.lookup)
    local = {k.lookup for k in keys if "__" not in k.lookup and not k.nullable}
    if any(columns <= local for columns in _unique_column_sets(model)):
        return keys
    pk_name = model._meta.pk.attname
    direction = keys[-1].descending if keys else False
    keys.append(SortKey(pk_name, direction, model._meta.pk, False))
    return keys


def _annotation(index: int) -> str:
    return f"_keyset_{index}"


def _after(key: SortKey, name: str, value) -> Q:
    """Rows strictly after ``value`` in ``key``'s direction (NULL being the greatest value)."""
    if value is None:
        return Q(**{f"{name}__isnull": False}) if key.descending else Q(pk__in=[])
    if key.descending:
        return Q(**{f"{name}__lt": value})
    condition = Q(**{f"{name}__gt": value})
    if key.nullable:
        condition |= Q(**{f"{name}__isnull": True})
    return condition


def _equal(name: str, value) -> Q:
    return Q(**{f"{name}__isnull": True}) if value is None else Q(**{name: value})


class RowComparison(Expression):
    """``(a, b, c) > (%s, %s, %s)``: a row-value comparison, which SQLite (3.15+) and PostgreSQL
    both turn into an index range. (Django emulates its own tuple lookups with ORs on SQLite,
    and an OR makes SQLite scan the index from its first entry.)"""

    conditional = True
    output_field = BooleanField()

    def __init__(self, columns, values, operator: str):
        super().__init__()
        if operator not in ("<", ">"):
            raise ValueError(operator)
        self.columns = list(columns)
        self.values = list(values)
        self.operator = operator

    def get_source_expressions(self):
        return self.columns

    def set_source_expressions(self, exprs):
        self.columns = list(exprs)

    def as_sql(self, compiler, connection):
        columns, params = [], []
        for column in self.columns:
            sql, column_params = compiler.compile(column)
            columns.append(sql)
            params.extend(column_params)
        for column, value in zip(self.columns, self.values, strict=True):
            params.append(column.output_field.get_db_prep_value(value, connection, prepared=False))
        placeholders = ", ".join(["%s"] * len(self.values))
        return f"({', '.join(columns)}) {self.operator} ({placeholders})", params


def after_condition(keys: list[SortKey], values: list):
    """Rows after the row whose sort values are ``values``, in lexicographic order of ``keys``.

    When every key runs the same way and none holds NULLs this is one row-value comparison,
    ``(region_id, name) > (%s, %s)``, which both databases answer with an index range scan. The
    general form (mixed directions, NULLs) is the expanded OR, led by a bound on the first key
    so the scan still starts at the cursor instead of at the first row.
    """
    names = [_annotation(i) for i in range(len(keys))]
    if len(keys) > 1 and not any(k.nullable for k in keys) and len({k.descending for k in keys}) == 1:
        return RowComparison([F(name) for name in names], values, "<" if keys[0].descending else ">")
    condition = Q(pk__in=[])
    prefix = Q()
    for name, key, value in zip(names, keys, values, strict=True):
        condition |= prefix & _after(key, name, value)
        prefix &= _equal(name, value)
    first, first_value = keys[0], values[0]
    if len(keys) > 1 and not first.nullable:
        condition &= Q(**{f"{names[0]}__{'lte' if first.descending else 'gte'}": first_value})
    return condition


class _CursorEncoder(DjangoJSONEncoder):
    """Like Django's encoder, but keeps a datetime's microseconds (Django rounds to
    milliseconds, which would skip rows stamped within the same millisecond)."""

    def default(self, o):
        if isinstance(o, dt.datetime):
            return o.isoformat()
        return super().default(o)


def encode_cursor(values: list) -> str:
    raw = json.dumps(values, cls=_CursorEncoder, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, keys: list[SortKey]) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidCursor(cursor) from exc
    if not isinstance(values, list) or len(values) != len(keys):
        raise InvalidCursor(cursor)
    try:
        return [None if value is None else key.field.to_python(value) for key, value in zip(keys, values, strict=True)]
    except Exception as exc:  # noqa: BLE001  (any field's own parse error means the same: not our cursor)
        raise InvalidCursor(cursor) from exc


class ModelRows(list):
    """A page's rows, still knowing their model (django-tables2 reads column names from it)."""

    def __init__(self, rows, model):
        super().__init__(rows)
        self.model = model


@dataclass
class KeysetPage:
    object_list: ModelRows
    per_page: int
    has_next: bool
    has_previous: bool
    next_cursor: str | None
    previous_cursor: str | None
    count: int | None = None  # None: not counted
    count_capped: bool = False  # True: at least ``count`` rows, counting stopped there

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def is_paginated(self) -> bool:
        return self.has_next or self.has_previous


class KeysetPaginator:
    """Pages of ``queryset`` in the order of ``ordering`` (field specs such as ``"-name"``).

    ``page(after=cursor)`` reads forwards from a cursor, ``page(before=cursor)`` backwards; with
    neither it is the first page. One query per page (plus the capped count when asked for).
    """

    def __init__(self, queryset, ordering, per_page: int = DEFAULT_PAGE_SIZE, *, index: str | None = None):
        self.model = queryset.model
        self.keys = sort_keys(self.model, ordering)
        self.per_page = per_page
        self.base = queryset
        annotations = {_annotation(i): F(key.lookup) for i, key in enumerate(self.keys)}
        self.queryset = queryset.annotate(**annotations)
        # The name of an index on exactly this ordering (see ``_fetch``).
        self.index = index
        self._counted: dict[int, tuple[int, bool]] = {}

    def _fetch(self, queryset, limit: int) -> list:
        """The first ``limit`` rows of ``queryset`` (ordered, past the cursor).

        SQLite's planner, given a filter on an indexed column (a kind, an education level, a
        birth-date range), reads every matching row through that index and sorts them all, even
        when a third of the table matches: seconds at a million rows. Walking the index of the
        ordering instead finds a page of such a filter after a few hundred rows. So when the
        filter keeps many rows (the capped count says so) and the ordering has its ``index``, the
        page's ids are read with ``INDEXED BY`` that index, then their rows as usual. A filter that
        keeps few rows is left to the planner: its own index and a small sort are the fast way.
        PostgreSQL's planner weighs the LIMIT itself.
        """
        connection = connections[queryset.db]
        if not self.index or connection.vendor != "sqlite" or not self.count()[1]:
            return list(queryset[:limit])
        sql, params = queryset.values_list("pk", flat=True)[:limit].query.sql_with_params()
        table = connection.ops.quote_name(self.model._meta.db_table)
        sql = sql.replace(f"FROM {table}", f"FROM {table} INDEXED BY {connection.ops.quote_name(self.index)}", 1)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
        rows = {row.pk: row for row in queryset.filter(pk__in=ids)}
        return [rows[pk] for pk in ids if pk in rows]

    def _ordered(self, reverse: bool):
        expressions = []
        for key in self.keys:
            flipped = SortKey(key.lookup, key.descending != reverse, key.field, key.nullable)
            expressions.append(flipped.order_expression())
        return self.queryset.order_by(*expressions)

    def _cursor_of(self, row) -> str:
        return encode_cursor([getattr(row, _annotation(i)) for i in range(len(self.keys))])

    def _reversed_keys(self) -> list[SortKey]:
        return [SortKey(k.lookup, not k.descending, k.field, k.nullable) for k in self.keys]

    def page(self, *, after: str | None = None, before: str | None = None) -> KeysetPage:
        if before:
            values = decode_cursor(before, self.keys)
            rows = self._fetch(self._ordered(reverse=True).filter(after_condition(self._reversed_keys(), values)), self.per_page + 1)
            more = len(rows) > self.per_page
            rows = list(reversed(rows[: self.per_page]))
            has_previous, has_next = more, True
        else:
            queryset = self._ordered(reverse=False)
            if after:
                queryset = queryset.filter(after_condition(self.keys, decode_cursor(after, self.keys)))
            rows = self._fetch(queryset, self.per_page + 1)
            has_next = len(rows) > self.per_page
            rows = rows[: self.per_page]
            has_previous = bool(after)
        if not rows:
            # Stepped past either end (the last rows were deleted meanwhile): nothing to link to.
            has_next = has_previous = False
        return KeysetPage(
            object_list=ModelRows(rows, self.model),
            per_page=self.per_page,
            has_next=has_next,
            has_previous=has_previous,
            next_cursor=self._cursor_of(rows[-1]) if rows and has_next else None,
            previous_cursor=self._cursor_of(rows[0]) if rows and has_previous else None,
        )

    def count(self, limit: int = COUNT_LIMIT) -> tuple[int, bool]:
        """How many rows there are, counting no further than ``limit``: (count, capped)."""
        if limit not in self._counted:
            total = self.base.order_by().values("pk")[: limit + 1].count()
            self._counted[limit] = (min(total, limit), total > limit)
        return self._counted[limit]


class RankedPaginator:
    """Pages of a queryset in its own order (search results ranked best first), by position.

    A ranking is not a column an index can range over, so the cursor names an offset. That is
    what a search wants: people read the first pages of a ranked list, not page 25,000. Same
    interface as ``KeysetPaginator``.
    """

    def __init__(self, queryset, per_page: int = DEFAULT_PAGE_SIZE):
        self.model = queryset.model
        self.base = queryset
        self.per_page = per_page

    @staticmethod
    def _offset(cursor: str) -> int:
        values = decode_cursor(cursor, [SortKey("offset", False, _OFFSET_FIELD, False)])
        if not isinstance(values[0], int) or values[0] < 0:
            raise InvalidCursor(cursor)
        return values[0]

    def page(self, *, after: str | None = None, before: str | None = None) -> KeysetPage:
        if before:
            start = max(self._offset(before) - self.per_page, 0)
        elif after:
            start = self._offset(after)
        else:
            start = 0
        rows = list(self.base[start: start + self.per_page + 1])
        has_next = len(rows) > self.per_page
        rows = rows[: self.per_page]
        has_previous = start > 0
        if not rows:
            has_next = has_previous = False
        return KeysetPage(
            object_list=ModelRows(rows, self.model),
            per_page=self.per_page,
            has_next=has_next,
            has_previous=has_previous,
            next_cursor=encode_cursor([start + self.per_page]) if has_next else None,
            previous_cursor=encode_cursor([start]) if has_previous else None,
        )

    def count(self, limit: int = COUNT_LIMIT) -> tuple[int, bool]:
        total = self.base.order_by().values("pk")[: limit + 1].count()
        return min(total, limit), total > limit


class _OffsetField:
    """Reads an offset back from a cursor (the ``field`` of the one ``SortKey`` it holds)."""

    @staticmethod
    def to_python(value):
        return int(value)


_OFFSET_FIELD = _OffsetField()
