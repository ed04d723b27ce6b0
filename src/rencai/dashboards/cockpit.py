"""The cockpit's building blocks: sections of charts and headline figures, and the query they
all answer.

Every area adds its own ``Section`` (``register_section``) with the charts and figures it
computes from a ``CockpitQuery``: the viewer, the cockpit's filters and, from them, the talents
in the viewer's data scope that the filters keep. The page, the statistics API, the .xlsx
download of a chart and the printed report all read the same sections, so a new area is one
small module::

    register_section(Section("liaison", "联络服务", order=20, permission="liaison.view_contactrecord",
                             figures=liaison_figures, charts=(Chart("contact_channels", …), …)))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from rencai.dashboards import replica, tally
from rencai.talents.filters import LATEST_DAY
from rencai.talents.filters import start_of_day as start_of
from rencai.talents.models import Talent

__all__ = ["Chart", "CockpitQuery", "Figure", "Item", "Section", "register_section", "start_of"]

ChartKind = str  # "bar" (categories along x), "hbar" (long labels, bars across), "pie", "line"


@dataclass(frozen=True)
class Item:
    """One bar, slice or point: its label, its count, and the talent list it drills down to."""

    label: str
    value: int
    link: str | None = None


@dataclass(frozen=True)
class Figure:
    """A headline figure, with the same figure a year before when there is one to compare."""

    key: str
    label: str
    value: int | float | None  # None: nothing to count it from (a rate of nothing), shown 「—」
    previous: int | None = None
    previous_label: str = ""
    link: str | None = None
    unit: str = ""  # shown after the value ("%" for a rate); a count has none

    @property
    def change(self) -> float | None:
        """The change against ``previous`` in per cent (None when there is nothing to compare)."""
        if self.previous is None or self.previous == 0:
            return None
        return round((self.value - self.previous) * 100 / self.previous, 1)


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    kind: ChartKind
    compute: Callable[[CockpitQuery], list[Item]]
    note: str = ""
    wide: bool = False  # takes a whole row of the page


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    order: int
    permission: str
    charts: tuple[Chart, ...] = ()
    figures: Callable[[CockpitQuery], list[Figure]] | None = None

    def visible_to(self, user) -> bool:
        return user.has_perm(self.permission)


_SECTIONS: dict[str, Section] = {}


def register_section(section: Section) -> None:
    _SECTIONS[section.key] = section


def sections_for(user) -> list[Section]:
    return sorted((s for s in _SECTIONS.values() if s.visible_to(user)), key=lambda s: (s.order, s.key))


def find_chart(user, key: str) -> Chart | None:
    for section in sections_for(user):
        for chart in section.charts:
            if chart.key == key:
                return chart
    return None


# --- the query --------------------------------------------------------------------------------------
# The cockpit's filter names as the talent list knows them, for drill-down links.
LIST_PARAMETERS = {
    "kind": "kind", "tier": "tier", "region": "region", "database": "databases",
    "registered_from": "registered_from", "registered_to": "registered_to",
}


# Narrowed by ``period_link`` to the filters' own period before they reach ``talent_link``.
PERIOD_PARAMETERS = ("registered_from", "registered_to")


@dataclass
class CockpitQuery:
    """What every chart is computed from: ``user`` and the cleaned cockpit filters.

    Charts count through ``tally`` (the talents) and ``tally_of`` (another model's rows), which
    answer from the in-memory columns (``dashboards.replica``) or, with ``fresh`` (or the
    setting ``COCKPIT_COLUMNS`` off), by GROUP BY queries over the database; the two give the
    same figures.
    """

    user: object
    filters: dict = field(default_factory=dict)
    today: dt.date = field(default_factory=timezone.localdate)
    fresh: bool = False

    @cached_property
    def snapshot(self) -> replica.Snapshot | None:
        if self.fresh or not settings.COCKPIT_COLUMNS:
            return None
        return replica.replica().current()

    def tally_of(self, model):
        """The rows of ``model`` the viewer may see (worked out once per query)."""
        return self.cached(("rows", model), lambda: tally.root(model, self.user, self.snapshot))

    def cached(self, key, compute: Callable[[], object]):
        """``compute()``, once per query (the viewer's rows, reference data the charts share)."""
        memo = self.__dict__.setdefault("_memo", {})
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    @cached_property
    def tally(self):
        """The talents in the viewer's scope that the filters keep."""
        return self.tally_of(Talent).narrow(**self.talent_lookups())

    def talent_lookups(self) -> dict:
        f = self.filters
        lookups = {}
        if f.get("kind"):
            lookups["kind"] = f["kind"]
        if f.get("tier"):
            lookups["tier"] = f["tier"].pk
        if f.get("region"):
            lookups["region__in"] = f["region_ids"]
        if f.get("database"):
            lookups["databases"] = f["database"].pk
        if f.get("registered_from"):
            lookups["created_at__gte"] = start_of(f["registered_from"])
        if f.get("registered_to"):
            lookups["created_at__lt"] = start_of(min(f["registered_to"], LATEST_DAY) + dt.timedelta(days=1))
        return lookups

    def list_parameters(self) -> dict[str, str]:
        """The cockpit filters as talent-list parameters."""
        out = {}
        for name, param in LIST_PARAMETERS.items():
            value = self.filters.get(name)
            if value in (None, ""):
                continue
            out[param] = value.isoformat() if isinstance(value, dt.date) else str(getattr(value, "pk", value))
        return out

    def period_link(self, start: dt.date, end: dt.date) -> str:
        """The talent list of those entered from ``start`` to ``end``, within the filters' own
        入库 period (a link never widens what the cockpit counted)."""
        since, until = self.filters.get("registered_from"), self.filters.get("registered_to")
        return self.talent_link(registered_from=max(start, since) if since else start,
                                registered_to=min(end, until) if until else end)

    def talent_link(self, **extra) -> str | None:
        """The talent list with the cockpit's filters and ``extra`` (a chart's own value); None
        when the value would replace a filter of the same name with another (the 库 chart under
        a 库 filter): such a list would hold talents the chart did not count."""
        params = self.list_parameters()
        for key, value in extra.items():
            if value is None:
                continue
            text = value.isoformat() if isinstance(value, dt.date) else str(value)
            if key in params and params[key] != text and key not in PERIOD_PARAMETERS:
                return None
            params[key] = text
        return f"{reverse('talent_list')}?{urlencode(params)}"
