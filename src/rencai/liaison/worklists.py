"""Worklists (工作清单): whom to contact this week, who is overdue, who is probably lost — per
county and per liaison officer, within the user's data scope.

Every list is a range of one index of ``ContactState`` (followed, region or officer, next due),
so a county's overdue list and its count cost the same at a million talents as at a thousand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rencai.core.models import Region, User
from rencai.liaison.models import ContactState
from rencai.liaison.schedule import LOST_AFTER
from rencai.talents.filters import regions_under
from rencai.talents.forms import liaison_officer_queryset

WEEK, OVERDUE, LOST = "week", "overdue", "lost"
KINDS = {
    WEEK: _("本周待联络"),
    OVERDUE: _("已逾期"),
    LOST: _("疑似失联"),
}
NO_OFFICER = "none"  # the officer filter's value for talents with no liaison officer
# Talents still followed. Django writes ``followed=True`` as a bare ``WHERE followed``, which
# SQLite cannot match to the first column of the worklist indexes (it then reads the whole county
# and sorts it); ``followed IN (true)`` is an equality to both databases.
FOLLOWED = Q(followed__in=[True])


def week_end(today: dt.date) -> dt.date:
    """The Sunday that ends ``today``'s week (weeks run Monday to Sunday)."""
    return today + dt.timedelta(days=6 - today.weekday())


def kind_lookups(kind: str, today: dt.date) -> dict:
    """The schedules on worklist ``kind`` on ``today``, as field lookups."""
    if kind == WEEK:
        return {"next_due__gte": today, "next_due__lte": week_end(today)}
    if kind == OVERDUE:
        return {"next_due__lt": today}
    if kind == LOST:
        return {"failed_attempts__gte": LOST_AFTER}
    raise ValueError(f"unknown worklist {kind!r}")


def kind_condition(kind: str, today: dt.date) -> Q:
    return Q(**kind_lookups(kind, today))


def resolve_filters(user, region_id, officer_id) -> tuple[Region | None, object, dict[str, str]]:
    """The region and liaison officer a worklist asks for (ids as sent, or ``NO_OFFICER``),
    each looked up within what ``user`` covers: ``(region, officer, errors)``, a value not found
    being None with its error named."""
    errors = {}
    region = officer = None
    if region_id not in (None, ""):
        region = user.scope_regions().filter(pk=int(region_id)).first() if str(region_id).isdecimal() else None
        if region is None:
            errors["region"] = _("所选地区不存在，或不在您的数据范围内。")
    if officer_id == NO_OFFICER:
        officer = NO_OFFICER
    elif officer_id not in (None, ""):
        officer = (liaison_officer_queryset(user).filter(pk=int(officer_id)).first()
                   if str(officer_id).isdecimal() else None)
        if officer is None:
            errors["officer"] = _("所选联络员不存在，或不在您的数据范围内。")
    return region, officer, errors


def worklist(user, kind: str, *, region: Region | None = None, officer=None, today: dt.date | None = None):
    """The schedules on worklist ``kind`` that ``user`` may see, soonest due first.

    ``region`` narrows to a region and those under it; ``officer`` to a liaison officer's talents
    (a user, or ``NO_OFFICER`` for talents nobody is assigned to).
    """
    today = today or timezone.localdate()
    queryset = ContactState.objects.restrict(user, "view").filter(FOLLOWED, kind_condition(kind, today))
    if region is not None:
        queryset = queryset.filter(region_id__in=regions_under(region))
    if officer == NO_OFFICER:
        queryset = queryset.filter(liaison_officer__isnull=True)
    elif officer is not None:
        queryset = queryset.filter(liaison_officer=officer)
    return queryset.order_by("next_due", "talent_id")


ORDERING = ("next_due", "talent")


@dataclass
class SummaryRow:
    key: object  # a region or a user (None: nobody assigned)
    label: str
    counts: dict[str, int]


def summary_by_region(user, regions, today: dt.date | None = None) -> list[SummaryRow]:
    """Per region (each with the regions under it): how many talents are on each worklist."""
    today = today or timezone.localdate()
    rows = []
    for region in regions:
        base = ContactState.objects.restrict(user, "view").filter(FOLLOWED, region_id__in=regions_under(region))
        counts = {kind: base.filter(kind_condition(kind, today)).count() for kind in KINDS}
        rows.append(SummaryRow(region, region.name, counts))
    return rows


def summary_by_officer(user, *, region: Region | None = None, today: dt.date | None = None) -> list[SummaryRow]:
    """Per liaison officer of the talents ``user`` may see (and nobody assigned): worklist sizes."""
    today = today or timezone.localdate()
    base = ContactState.objects.restrict(user, "view").filter(FOLLOWED)
    if region is not None:
        base = base.filter(region_id__in=regions_under(region))
    # ``next_due`` is never null, so counting it counts the rows — from the summary index alone
    # (the talent id is not in it on SQLite, where the key of this table is no rowid).
    aggregates = {kind: Count("next_due", filter=kind_condition(kind, today)) for kind in KINDS}
    grouped = base.values("liaison_officer").annotate(**aggregates).order_by("liaison_officer")
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=[g["liaison_officer"] for g in grouped if g["liaison_officer"]])}
    rows = []
    for group in grouped:
        pk = group["liaison_officer"]
        label = names.get(pk, str(_("未分配联络员"))) if pk else str(_("未分配联络员"))
        rows.append(SummaryRow(pk or NO_OFFICER, label, {kind: group[kind] for kind in KINDS}))
    return rows
