"""Counting rows the same way over the database or over the cockpit's in-memory columns.

A chart asks a ``Tally`` — the rows of one model a viewer may see, narrowed step by step — for
counts. ``QueryTally`` answers with GROUP BY queries (the plain way, and the reference the tests
hold the fast way to); ``ColumnTally`` answers from ``dashboards.replica``'s arrays. Both take
the same narrowing (``narrow(tier=…, created_at__gte=…)``, a small subset of Django's lookups)
and return the same Python values, so a chart is written once::

    talents = query.tally                      # the talents the cockpit's filters keep
    talents.narrow(kind="native").grouped("tier_id")    # {tier id or None: n}
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property

import numpy as np
from django.db.models import Count, Min, Q

from rencai.core.scope import scope_region_ids, user_can
from rencai.dashboards import replica
from rencai.dashboards.replica import NULL_DAY, NULL_MOMENT, Snapshot, split_words, stored, value_of

LOOKUPS = ("exact", "in", "gte", "gt", "lte", "lt", "isnull")


def is_in(data: np.ndarray, values: list[int]) -> np.ndarray:
    """``np.isin(data, values)`` in one gather from a table of the values (a county's few dozen
    regions against five million rows: one pass, not one per region)."""
    values = [v for v in values if v >= 0]
    if not values or max(values) > 50_000_000:
        return np.isin(data, values)
    table = np.zeros(max(values) + 2, dtype=bool)  # the last slot, False, takes every larger value
    table[values] = True
    return np.take(table, data, mode="clip") if data.min(initial=0) >= 0 else np.isin(data, values)


class QueryTally:
    """Counts by queries over ``queryset``."""

    def __init__(self, queryset):
        self.queryset = queryset.order_by()

    def narrow(self, **lookups) -> QueryTally:
        return QueryTally(self.queryset.filter(**lookups))

    def within(self, name: str, other: QueryTally) -> QueryTally:
        """The rows whose reference ``name`` is one of ``other``'s rows."""
        return QueryTally(self.queryset.filter(**{f"{name}__in": other.queryset.values("pk")}))

    def linked_to(self, link: str, other: QueryTally) -> QueryTally:
        """The rows linked (many-to-many ``link``) to at least one of ``other``'s rows."""
        through, own, target = _through(self.queryset.model, link)
        linked = through.objects.filter(**{f"{target}__in": other.queryset.values("pk")}).values(own)
        return QueryTally(self.queryset.filter(pk__in=linked))

    def count(self) -> int:
        return self.queryset.count()

    def grouped(self, name: str) -> dict:
        return dict(self.queryset.values_list(name).annotate(n=Count("pk")).values_list(name, "n"))

    def between(self, name: str, periods: list[tuple]) -> list[int]:
        """Rows with ``name`` in each ``[start, end)`` (None: open), in one pass."""
        conditions = {}
        for i, (start, end) in enumerate(periods):
            q = Q(**{f"{name}__isnull": False})
            if start is not None:
                q &= Q(**{f"{name}__gte": start})
            if end is not None:
                q &= Q(**{f"{name}__lt": end})
            conditions[f"p{i}"] = Count("pk", filter=q)
        counts = self.queryset.aggregate(**conditions)
        return [counts[f"p{i}"] for i in range(len(periods))]

    def earliest(self, name: str):
        return self.queryset.aggregate(first=Min(name))["first"]

    def linked(self, link: str) -> dict[int, int]:
        """``{linked row's id: rows linked to it}`` over ``link``."""
        through, own, target = _through(self.queryset.model, link)
        rows = through.objects.filter(**{f"{own}__in": self.queryset.values("pk")})
        return dict(rows.order_by().values_list(target).annotate(n=Count("pk")).values_list(target, "n"))

    def words(self, name: str) -> Counter:
        """How many rows hold each entry of the free-text list ``name``."""
        separators = replica.spec_for(self.queryset.model).separators
        counter: Counter[str] = Counter()
        for text in self.queryset.values_list(name, flat=True).iterator(chunk_size=5000):
            if text:
                counter.update(split_words(text, separators))
        return counter


def _through(model, link: str):
    m2m = model._meta.get_field(link)
    return m2m.remote_field.through, m2m.m2m_field_name(), m2m.m2m_reverse_field_name()


class ColumnTally:
    """Counts over the in-memory columns of one model: ``mask`` marks the rows kept; ``whole``
    says they are all the table's rows, counted without the mask (an absent row is 0 in every
    column, so its share of a count is known). Counts over the whole table are kept with the
    table's version (``Table.histogram``); most rows kept are counted as the whole table's less
    the rows left out."""

    def __init__(self, snapshot: Snapshot, model, mask: np.ndarray, *, whole: bool = False):
        self.snapshot, self.model, self.mask, self.whole = snapshot, model, mask, whole
        self.table = snapshot.table(model)
        self._narrowed: dict = {}  # the narrower tallies asked for, by how

    def _with(self, mask) -> ColumnTally:
        return ColumnTally(self.snapshot, self.model, mask)

    @cached_property
    def rows(self) -> np.ndarray:
        """The kept rows' ids: gathering a column by them is faster than by the mask."""
        return np.flatnonzero(self.mask)

    @cached_property
    def left_out(self) -> np.ndarray:
        """The table's rows not kept."""
        return np.flatnonzero(self.table.present & ~self.mask)

    def _counts(self, key: str, minlength: int = 1) -> np.ndarray:
        """How many kept rows hold each value of the (non-negative) array ``key``."""
        table = self.table
        whole = table.histogram(key, minlength)
        if self.whole:
            return whole.copy()
        if 2 * len(self.rows) > table.rows:
            return whole - np.bincount(table.data[key].take(self.left_out), minlength=len(whole))
        return np.bincount(table.data[key].take(self.rows), minlength=max(minlength, 1))

    def narrow(self, **lookups) -> ColumnTally:
        key = repr(sorted(lookups.items()))
        if key in self._narrowed:  # sections ask for the same rows more than once
            return self._narrowed[key]
        mask = self.mask
        for name_op, value in lookups.items():
            name, _sep, op = name_op.partition("__")
            op = op or "exact"
            if op not in LOOKUPS:
                raise ValueError(f"unsupported lookup {name_op!r}")
            if name in self.table.spec.links:
                mask = mask & self._linked_mask(name, value, op)
                continue
            mask = mask & self._condition(name, op, value)
        self._narrowed[key] = narrowed = self._with(mask) if lookups else self
        return narrowed

    def _condition(self, name: str, op: str, value) -> np.ndarray:
        table = self.table
        column = table.spec.column(name)
        data = table.data[column.name]
        null = {"day": NULL_DAY, "moment": NULL_MOMENT}.get(column.kind, replica.NULL_REF)
        if op == "isnull":
            if column.kind == "code":
                return data == table.vocab[column.name].find(None) if value else data != table.vocab[column.name].find(None)
            return (data == null) if value else (data != null)
        if op == "in":
            return is_in(data, [stored(table, column, v) for v in value])
        if op == "exact":
            return data == stored(table, column, value)
        bound = stored(table, column, value)
        if column.kind in replica.BUCKETS and op in ("gte", "lt"):
            unit, first, count = replica.BUCKETS[column.kind]
            edge, rest = divmod(bound - first, unit)
            if not rest and 1 <= edge < count - 1:  # compare the 32-bit buckets: half the bytes
                buckets = table.data[replica.bucket_name(column.name)]
                return buckets > edge if op == "gte" else (buckets <= edge) & (buckets > 0)
        kept = data != null if column.kind in ("day", "moment", "ref") else True
        compare = {"gte": np.greater_equal, "gt": np.greater, "lte": np.less_equal, "lt": np.less}[op]
        return compare(data, bound) & kept

    def _linked_mask(self, link: str, value, op: str) -> np.ndarray:
        through, own, target = self.table.spec.links[link]
        links = self.snapshot.table(through)
        targets = links.data[target]
        if op == "exact":
            chosen = targets == stored(links, links.spec.column(target), value)
        elif op == "in":
            chosen = is_in(targets, [stored(links, links.spec.column(target), v) for v in value])
        else:
            raise ValueError(f"unsupported lookup {link}__{op}")
        hit = np.zeros(self.table.capacity, dtype=bool)
        hit[np.minimum(links.data[own][chosen & links.present], len(hit) - 1)] = True  # (a row read later)
        hit[0] = hit[-1] = False
        return hit

    def within(self, name: str, other: ColumnTally) -> ColumnTally:
        """The rows whose reference ``name`` is one of ``other``'s rows."""
        if ("within", name, other) not in self._narrowed:
            refs = self.table.data[self.table.spec.column(name).name]
            self._narrowed["within", name, other] = self._with(self.mask & np.take(other.mask, refs, mode="clip"))
        return self._narrowed["within", name, other]

    def linked_to(self, link: str, other: ColumnTally) -> ColumnTally:
        """The rows linked (many-to-many ``link``) to at least one of ``other``'s rows."""
        if ("linked", link, other) not in self._narrowed:
            through, own, target = self.table.spec.links[link]
            links = self.snapshot.table(through)
            chosen = np.take(other.mask, links.data[target], mode="clip")  # an absent link points at 0
            hit = np.zeros(self.table.capacity, dtype=bool)
            hit[np.minimum(links.data[own][chosen], len(hit) - 1)] = True
            hit[0] = hit[-1] = False
            self._narrowed["linked", link, other] = self._with(self.mask & hit)
        return self._narrowed["linked", link, other]

    def count(self) -> int:
        return self.table.rows if self.whole else int(np.count_nonzero(self.mask))

    def grouped(self, name: str) -> dict:
        table = self.table
        column = table.spec.column(name)
        if column.kind in replica.BUCKETS:
            found, counts = np.unique(table.data[column.name][self.mask], return_counts=True)
        else:
            counts = self._counts(column.name)
            if column.kind == "code":
                counts[0] = 0  # no row
            found = np.flatnonzero(counts)
            counts = counts[found]
        return {value_of(table, column, v): int(n) for v, n in zip(found.tolist(), counts.tolist(), strict=True)}

    def between(self, name: str, periods: list[tuple]) -> list[int]:
        table = self.table
        column = table.spec.column(name)
        bounds = sorted({stored(table, column, b) for period in periods for b in period if b is not None})
        unit, first, count = replica.BUCKETS[column.kind]
        if all((b - first) % unit == 0 and 1 <= (b - first) // unit < count - 1 for b in bounds):
            # Every bound is a bucket's edge: one bincount of the buckets counts every period.
            running = np.cumsum(self._counts(replica.bucket_name(column.name), minlength=count))
            below = {b: int(running[(b - first) // unit]) for b in bounds}  # with the missing, in bucket 0
            missing, total = int(running[0]), int(running[-1])
        else:
            below, missing, total = self._below(table, column, bounds)

        def under(bound) -> int:
            return missing if bound is None else below[stored(table, column, bound)]

        return [(total if end is None else under(end)) - under(start) for start, end in periods]

    def _below(self, table, column, bounds: list[int]) -> tuple[dict[int, int], int, int]:
        """For each bound, the rows under it (the missing included), the missing, all rows."""
        values = table.data[column.name][self.mask]
        # Every row falls between two of the periods' bounds; a period's count is a difference
        # of the running totals at its two bounds. A missing value is below every bound.
        slots = np.bincount(np.searchsorted(np.array(bounds, dtype=values.dtype), values, side="right"),
                            minlength=len(bounds) + 1)
        below = dict(zip(bounds, np.cumsum(slots)[:-1].tolist(), strict=True))
        missing = int(np.count_nonzero(values == (NULL_DAY if column.kind == "day" else NULL_MOMENT)))
        return below, missing, len(values)

    def earliest(self, name: str):
        table = self.table
        column = table.spec.column(name)
        buckets = self._counts(replica.bucket_name(column.name))
        buckets[0] = 0  # the missing
        filled = np.flatnonzero(buckets)
        if not len(filled):
            return None
        unit, first, _count = replica.BUCKETS[column.kind]
        values = table.data[column.name]
        if 1 < filled[0] < len(buckets) - 1:  # the earliest value lies in the first filled bucket: look there
            lo = first + (int(filled[0]) - 1) * unit
            inside = values[self.mask & (values >= lo) & (values < lo + unit)]
        else:  # the buckets of everything before or after the range
            inside = values[self.mask & (values != (NULL_DAY if column.kind == "day" else NULL_MOMENT))]
        return value_of(table, column, int(inside.min()))

    def linked(self, link: str) -> dict[int, int]:
        through, own, target = self.table.spec.links[link]
        links = self.snapshot.table(through)
        if self.whole:
            counts = links.histogram(target)  # an absent link is 0, like a missing reference
        else:
            counts = np.bincount(links.data[target][links.present & np.take(self.mask, links.data[own], mode="clip")],
                                 minlength=1)
        counts = counts.copy()
        counts[0] = 0
        found = np.flatnonzero(counts)
        return dict(zip(found.tolist(), counts[found].tolist(), strict=True))

    def words(self, name: str) -> Counter:
        table = self.table
        if self.whole:
            counts = table.word_histogram()
        else:
            chosen = table.word_alive & np.take(self.mask, table.word_rows, mode="clip")
            counts = np.bincount(table.word_ids[chosen], minlength=len(table.words.values))
        found = np.flatnonzero(counts)
        return Counter({table.words.values[i]: int(counts[i]) for i in found.tolist()})


def root(model, user, snapshot: Snapshot | None):
    """The rows of ``model`` that ``user`` may see: from the columns of ``snapshot``, or by
    queries when there is none."""
    if snapshot is None:
        return QueryTally(model.objects.restrict(user, "view"))
    table = snapshot.table(model)
    if not user_can(user, model, "view"):
        return ColumnTally(snapshot, model, np.zeros(table.capacity, dtype=bool))
    if getattr(model, "region_scope_field", None) is None or user.sees_all_regions:
        return ColumnTally(snapshot, model, table.present, whole=True)
    return ColumnTally(snapshot, model, table.present & _in_scope(snapshot, model, user))


def _in_scope(snapshot: Snapshot, model, user, scope_field: str | None = None):
    """The rows whose ``region_scope_field`` lies within what ``user`` covers (a path of
    references, as ``core.scope`` follows it)."""
    scope_field = scope_field or getattr(model, "region_scope_field", None)
    table = snapshot.table(model)
    if scope_field is None or user.sees_all_regions:
        return np.ones(table.capacity, dtype=bool)
    head, _sep, rest = scope_field.partition("__")
    refs = table.data[table.spec.column(head).name]
    if not rest:
        return is_in(refs, scope_region_ids(user))
    related = model._meta.get_field(head).related_model
    return np.take(_in_scope(snapshot, related, user, rest) & snapshot.table(related).present, refs, mode="clip")
