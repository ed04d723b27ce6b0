"""The cooperation section of the cockpit (省校合作): agreements and projects signed this year
against last year, projects landed, the landing rate, projects by stage, by university and by
county.

The section follows the cockpit's region filter; its talent filters (kind, tier, 库, 入库时间)
say nothing about projects and are not applied. Counted by GROUP BY, not from the in-memory
columns: cooperation records number in the thousands.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from rencai.cooperation.choices import Stage
from rencai.cooperation.figures import figures, scoped
from rencai.dashboards.cockpit import Chart, CockpitQuery, Figure, Item, Section, register_section
from rencai.talents.filters import years_ago


def _scoped(query: CockpitQuery):
    def compute():
        projects, agreements = scoped(query.user)
        if query.filters.get("region"):
            projects = projects.filter(region__in=query.filters["region_ids"])
            agreements = agreements.filter(region__in=query.filters["region_ids"])
        return projects, agreements

    return query.cached(("cooperation",), compute)


def _link(query: CockpitQuery, name: str, **params) -> str:
    if query.filters.get("region"):
        params.setdefault("region", query.filters["region"].pk)
    values = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in params.items() if v not in (None, "")}
    return f"{reverse(name)}?{urlencode(values)}" if values else reverse(name)


def cooperation_figures(query: CockpitQuery) -> list[Figure]:
    today = query.today
    projects, agreements = _scoped(query)
    year_start, last_start, last_day = dt.date(today.year, 1, 1), dt.date(today.year - 1, 1, 1), years_ago(today, 1)

    def between(queryset, name, start, end):
        return queryset.filter(**{f"{name}__gte": start, f"{name}__lte": end}).count()

    _rows, total = figures(projects, agreements, "region")
    same_period = _("去年同期")
    return [
        Figure("agreements_year", _("今年签约协议"), between(agreements, "signed_on", year_start, today),
               between(agreements, "signed_on", last_start, last_day), same_period,
               _link(query, "agreement_list", signed_from=year_start, signed_to=today)),
        Figure("projects_signed_year", _("今年签约项目"), between(projects, "signed_on", year_start, today),
               between(projects, "signed_on", last_start, last_day), same_period,
               _link(query, "project_list", signed_from=year_start, signed_to=today)),
        Figure("projects_landed_year", _("今年落地项目"), between(projects, "landed_on", year_start, today),
               between(projects, "landed_on", last_start, last_day), same_period,
               _link(query, "project_list", landed_from=year_start, landed_to=today)),
        Figure("projects_landed", _("累计落地项目"), total.landed, link=_link(query, "project_list", landed="true")),
        Figure("landing_rate", _("项目落地率"), total.landing_rate if total.landing_rate is not None else 0,
               link=_link(query, "cooperation_figures"), unit="%"),
    ]


def by_stage(query: CockpitQuery) -> list[Item]:
    projects, _agreements = _scoped(query)
    _rows, total = figures(projects, _agreements.none(), "region")
    return [Item(str(label), total.by_stage[value], _link(query, "project_list", stage=value))
            for value, label in Stage.choices if total.by_stage.get(value)]


def by_university(query: CockpitQuery) -> list[Item]:
    """Landed projects by university, the ten with most."""
    projects, agreements = _scoped(query)
    rows, _total = figures(projects, agreements.none(), "university")
    return [Item(r.label, r.landed, _link(query, "project_list", university=r.key, landed="true"))
            for r in rows if r.landed and r.key is not None][:10]


def by_county(query: CockpitQuery) -> list[Item]:
    """Projects by county, with each county's landed share in the figures page."""
    projects, agreements = _scoped(query)
    rows, _total = figures(projects, agreements.none(), "region")
    return [Item(r.label, r.projects, _link(query, "project_list", region=r.key)) for r in rows if r.projects]


register_section(Section(
    "cooperation", _("省校合作"), order=40, permission="cooperation.view_project", figures=cooperation_figures,
    charts=(
        Chart("cooperation_stage", _("项目阶段分布"), "pie", by_stage),
        Chart("cooperation_university", _("落地项目最多的院校"), "hbar", by_university),
        Chart("cooperation_county", _("各县（市、区）合作项目"), "bar", by_county, wide=True),
    ),
))
