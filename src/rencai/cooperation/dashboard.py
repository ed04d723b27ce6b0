"""The cooperation section of the cockpit (省校合作): agreements and projects signed this year
against last year, projects landed, the landing rate, projects by stage, by university and by
county.

The section follows the cockpit's region filter; its talent filters (kind, tier, 库, 入库时间)
say nothing about projects and are not applied. It counts through the tallies like every
section, from the in-memory columns kept for it below.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from rencai.cooperation.choices import Stage
from rencai.cooperation.models import Agreement, Project, University
from rencai.core.models import Region
from rencai.dashboards.cockpit import Chart, CockpitQuery, Figure, Item, Section, register_section
from rencai.dashboards.replica import replicate
from rencai.talents.filters import years_ago

ONE_DAY = dt.timedelta(days=1)


def _rows(query: CockpitQuery, model):
    """The viewer's agreements or projects, in the cockpit's region."""
    def compute():
        rows = query.tally_of(model)
        return rows.narrow(region__in=query.filters["region_ids"]) if query.filters.get("region") else rows

    return query.cached(("cooperation", model), compute)


def _link(query: CockpitQuery, name: str, **params) -> str:
    if query.filters.get("region"):
        params.setdefault("region", query.filters["region"].pk)
    values = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in params.items() if v not in (None, "")}
    return f"{reverse(name)}?{urlencode(values)}" if values else reverse(name)


def landing_rate(signed: int, landed: int) -> float | None:
    """Landed ÷ signed in per cent, to one place (None, shown 「—」, with nothing signed), as
    ``figures.Row`` has it."""
    return round(100 * landed / signed, 1) if signed else None


def cooperation_figures(query: CockpitQuery) -> list[Figure]:
    today = query.today
    agreements, projects = _rows(query, Agreement), _rows(query, Project)
    year_start, last_start, last_day = dt.date(today.year, 1, 1), dt.date(today.year - 1, 1, 1), years_ago(today, 1)
    periods = [(year_start, today + ONE_DAY), (last_start, last_day + ONE_DAY)]
    agreed, agreed_before = agreements.between("signed_on", periods)
    signed, signed_before = projects.between("signed_on", periods)
    landed, landed_before = projects.between("landed_on", periods)
    signed_all = projects.narrow(signed_on__isnull=False).count()
    landed_all = projects.narrow(landed_on__isnull=False).count()
    same_period = _("去年同期")
    return [
        Figure("agreements_year", _("今年签约协议"), agreed, agreed_before, same_period,
               _link(query, "agreement_list", signed_from=year_start, signed_to=today)),
        Figure("projects_signed_year", _("今年签约项目"), signed, signed_before, same_period,
               _link(query, "project_list", signed_from=year_start, signed_to=today)),
        Figure("projects_landed_year", _("今年落地项目"), landed, landed_before, same_period,
               _link(query, "project_list", landed_from=year_start, landed_to=today)),
        Figure("projects_landed", _("累计落地项目"), landed_all, link=_link(query, "project_list", landed="true")),
        Figure("landing_rate", _("项目落地率"), landing_rate(signed_all, landed_all),
               link=_link(query, "cooperation_figures"), unit="%"),
    ]


def by_stage(query: CockpitQuery) -> list[Item]:
    counts = _rows(query, Project).grouped("stage")
    return [Item(str(label), counts[value], _link(query, "project_list", stage=value))
            for value, label in Stage.choices if counts.get(value)]


def by_university(query: CockpitQuery) -> list[Item]:
    """Landed projects by university, the ten with most."""
    counts = {pk: n for pk, n in _rows(query, Project).narrow(landed_on__isnull=False).grouped("university").items()
              if pk is not None and n}
    names = dict(University.objects.filter(pk__in=counts).values_list("pk", "name"))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], names.get(item[0], "")))[:10]
    return [Item(names.get(pk, "—"), n, _link(query, "project_list", university=pk, landed="true")) for pk, n in ranked]


def by_county(query: CockpitQuery) -> list[Item]:
    """Projects by the region they are filed under, in the regions' order."""
    counts = {pk: n for pk, n in _rows(query, Project).grouped("region").items() if n}
    regions = Region.objects.filter(pk__in=counts).order_by("path")
    return [Item(region.name, counts[region.pk], _link(query, "project_list", region=region.pk)) for region in regions]


# What the section counts, kept in memory for the cockpit (see dashboards.replica).
replicate(Agreement, "region", "signed_on")
replicate(Project, "region", "university", "stage", "signed_on", "landed_on")

register_section(Section(
    "cooperation", _("省校合作"), order=40, permission="cooperation.view_project", figures=cooperation_figures,
    charts=(
        Chart("cooperation_stage", _("项目阶段分布"), "pie", by_stage),
        Chart("cooperation_university", _("落地项目最多的院校"), "hbar", by_university),
        Chart("cooperation_county", _("各县（市、区）合作项目"), "bar", by_county, wide=True),
    ),
))
