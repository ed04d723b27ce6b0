"""The statistics API at /api/dashboards/: one endpoint per chart, and the headline figures.

Every endpoint takes the cockpit's filters as query parameters (``kind``, ``tier``, ``region``,
``database`` by id, ``registered_from`` and ``registered_to`` as dates) and counts within the
caller's data scope, exactly as the page does: a county officer's figures are the county's.
A filter value outside the caller's scope is a 422 that names it.

(No ``from __future__ import annotations``: ninja reads the annotations at import time.)
"""


from django.http import Http404
from ninja import Field, Router, Schema

from rencai.api.auth import require_permission
from rencai.api.errors import ApiValidationError
from rencai.dashboards import services
from rencai.dashboards.cockpit import CockpitQuery, find_chart, sections_for
from rencai.dashboards.forms import CockpitFilterForm
from rencai.talents.models import Talent

router = Router(tags=["人才驾驶舱"])


class ItemOut(Schema):
    label: str
    value: int
    share: float = Field(description="占合计的百分比")
    link: str | None = Field(None, description="对应的人才名单（网页）")


class ChartOut(Schema):
    key: str
    title: str
    kind: str = Field(description="bar、hbar、pie 或 line")
    note: str
    total: int
    items: list[ItemOut]


class ChartInfo(Schema):
    key: str
    title: str
    section: str
    kind: str


class FigureOut(Schema):
    key: str
    label: str
    value: int | float | None
    previous: int | None
    previous_label: str
    change: float | None = Field(None, description="较去年同期的变化（%）")
    link: str | None
    unit: str = Field("", description="单位（比率为 %，计数为空）")


class SectionFigures(Schema):
    key: str
    title: str
    figures: list[FigureOut]



def _query(request) -> CockpitQuery:
    require_permission(request, Talent, "view")
    user = request.auth_user
    form = CockpitFilterForm(request.GET or None, user=user)
    if form.is_bound and not form.is_valid():
        raise ApiValidationError({name: [str(e) for e in errors] for name, errors in form.errors.items()})
    return CockpitQuery(user, form.filters() if form.is_bound else {})


@router.get("/charts/", response=list[ChartInfo], summary="统计图目录")
def list_charts(request):
    require_permission(request, Talent, "view")
    return [{"key": c.key, "title": str(c.title), "section": s.key, "kind": c.kind}
            for s in sections_for(request.auth_user) for c in s.charts]


# The cockpit's filters, read by its form (so the page and the API validate them alike), named in
# the schema here.
FILTERS = {"parameters": [
    {"in": "query", "name": name, "required": False, "schema": schema, "description": description}
    for name, schema, description in (
        ("kind", {"type": "string", "enum": ["native", "local"]}, "人才类别"),
        ("tier", {"type": "integer"}, "人才层次（字典项 id）"),
        ("region", {"type": "integer"}, "所属地区 id（含下级）"),
        ("database", {"type": "integer"}, "人才库 id"),
        ("registered_from", {"type": "string", "format": "date"}, "入库日期从"),
        ("registered_to", {"type": "string", "format": "date"}, "入库日期到"),
    )
]}


@router.get("/charts/{key}/", response=ChartOut, summary="一张统计图的数据", openapi_extra=FILTERS)
def chart(request, key: str):
    query = _query(request)
    found = find_chart(request.auth_user, key)
    if found is None:
        raise Http404
    return services.chart_data(found, query)


@router.get("/figures/", response=list[SectionFigures], summary="驾驶舱头部指标", openapi_extra=FILTERS)
def figures(request):
    query = _query(request)
    return [{"key": s.key, "title": str(s.title),
             "figures": [services.figure_data(f) for f in s.figures(query)] if s.figures else []}
            for s in sections_for(request.auth_user)]
