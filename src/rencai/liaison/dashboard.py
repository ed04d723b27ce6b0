"""The liaison area's section of the cockpit (联络服务): contacts this month against a year
before, open requests, overdue schedules, contacts by channel and by month."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from rencai.dashboards.cockpit import Chart, CockpitQuery, Figure, Item, Section, register_section, start_of
from rencai.dashboards.replica import replicate
from rencai.dashboards.sections import day_periods, month_end, months_back
from rencai.liaison.choices import REQUEST_CLOSED, Channel, RequestStatus
from rencai.liaison.models import ContactRecord, ContactRequest, ContactState
from rencai.liaison.worklists import LOST, OVERDUE, kind_lookups
from rencai.talents.filters import years_ago

# The cockpit filters that narrow the talents; with none of them set, a contact counts when its
# viewer may see it, without a join to its talents.
TALENT_FILTERS = ("kind", "tier", "region", "database", "registered_from", "registered_to")


def _narrowed(query: CockpitQuery) -> bool:
    return any(query.filters.get(name) not in (None, "") for name in TALENT_FILTERS)


def contacts(query: CockpitQuery):
    """The contact records the viewer may see, with at least one talent the filters keep."""
    records = query.tally_of(ContactRecord)
    return records.linked_to("talents", query.tally) if _narrowed(query) else records


def _contact_link(query: CockpitQuery, **params) -> str | None:
    """The contact list with ``params``; None while a talent filter is set: the contact list
    cannot narrow by the cockpit's talent filters, so it would show more than was counted."""
    if _narrowed(query):
        return None
    values = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in params.items() if v is not None}
    return f"{reverse('contactrecord_list')}?{urlencode(values)}"


def _worklist_link(query: CockpitQuery, kind: str) -> str | None:
    return None if _narrowed(query) else f"{reverse('worklist')}?kind={kind}"


def liaison_figures(query: CockpitQuery) -> list[Figure]:
    today = query.today
    month_start = today.replace(day=1)
    last_year_month = years_ago(month_start, 1)
    last_year_day = years_ago(today, 1)
    reached = contacts(query).narrow(reached=True)
    month, month_last_year, year, year_last_year = reached.between("contacted_at", day_periods([
        (month_start, today), (last_year_month, last_year_day), (dt.date(today.year, 1, 1), today),
        (dt.date(today.year - 1, 1, 1), last_year_day)]))
    counts = {"month": month, "month_last_year": month_last_year, "year": year, "year_last_year": year_last_year}
    requests = query.tally_of(ContactRequest).narrow(status__in=[s for s in RequestStatus if s not in REQUEST_CLOSED])
    states = query.tally_of(ContactState).narrow(followed=True)
    if _narrowed(query):
        requests = requests.within("contact", contacts(query))
        states = states.within("talent", query.tally)
    state_counts = {kind: states.narrow(**kind_lookups(kind, today)).count() for kind in (OVERDUE, LOST)}
    same_period = _("去年同期")
    return [
        Figure("contacts_month", _("本月联络"), counts["month"], counts["month_last_year"], same_period,
               _contact_link(query, date_from=month_start, date_to=today, reached="true")),
        Figure("contacts_year", _("今年联络"), counts["year"], counts["year_last_year"], same_period,
               _contact_link(query, date_from=dt.date(today.year, 1, 1), date_to=today, reached="true")),
        Figure("open_requests", _("未办结诉求"), requests.count(), link=_contact_link(query, open_requests="true")),
        Figure("overdue", _("逾期未联络"), state_counts[OVERDUE], link=_worklist_link(query, OVERDUE)),
        Figure("lost", _("疑似失联"), state_counts[LOST], link=_worklist_link(query, LOST)),
    ]


def channels(query: CockpitQuery) -> list[Item]:
    """Contacts made this year, by channel."""
    today = query.today
    first = dt.date(today.year, 1, 1)
    this_year = contacts(query).narrow(reached=True, contacted_at__gte=start_of(first),
                                       contacted_at__lt=start_of(today + dt.timedelta(days=1)))
    rows = this_year.grouped("channel")
    return [Item(str(label), rows[value], _contact_link(query, channel=value, date_from=first, date_to=today, reached="true"))
            for value, label in Channel.choices if rows.get(value)]


def monthly_contacts(query: CockpitQuery) -> list[Item]:
    """Contacts made in each of the last 12 months."""
    months = months_back(query.today, 12)
    counts = contacts(query).narrow(reached=True).between("contacted_at", day_periods([(m, month_end(m)) for m in months]))
    return [Item(f"{m:%Y-%m}", n, _contact_link(query, date_from=m, date_to=month_end(m), reached="true"))
            for m, n in zip(months, counts, strict=True)]


# What the section counts, kept in memory for the cockpit (see dashboards.replica).
replicate(ContactRecord, "region", "channel", "reached", "contacted_at", links=("talents",))
replicate(ContactRequest, "contact", "status")
replicate(ContactState, "region", "followed", "next_due", "failed_attempts")

register_section(Section(
    "liaison", _("联络服务"), order=20, permission="liaison.view_contactrecord", figures=liaison_figures,
    charts=(
        Chart("contact_channel", _("今年联络方式"), "pie", channels),
        Chart("contact_monthly", _("近 12 个月联络次数"), "line", monthly_contacts, wide=True),
    ),
))
