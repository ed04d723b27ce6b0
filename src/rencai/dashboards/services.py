"""What the page, the API, the .xlsx download and the report share: the cockpit worked out for a
viewer and a set of filters, as plain data."""

from __future__ import annotations

import io

from django.conf import settings
from django.utils.translation import gettext as _

from rencai.core.services.auditlog import spreadsheet_text
from rencai.dashboards.cockpit import Chart, CockpitQuery, Figure, Item, sections_for
from rencai.dashboards.statistics import city_region


def chart_data(chart: Chart, query: CockpitQuery) -> dict:
    items = chart.compute(query)
    total = sum(i.value for i in items)
    return {
        "key": chart.key, "title": str(chart.title), "kind": chart.kind, "note": str(chart.note), "wide": chart.wide,
        "total": total, "items": [item_data(i, total) for i in items],
        # Bars across need room for each label; the others draw in a fixed height.
        "height": max(300, 26 * len(items) + 40) if chart.kind == "hbar" else 300,
    }


def item_data(item: Item, total: int) -> dict:
    """One item; ``share`` is its per cent of the chart's total, to one decimal."""
    share = round(item.value * 100 / total, 1) if total else 0.0
    return {"label": str(item.label), "value": item.value, "share": share, "link": item.link}


def figure_data(figure: Figure) -> dict:
    return {
        "key": figure.key, "label": str(figure.label), "value": figure.value, "previous": figure.previous,
        "previous_label": str(figure.previous_label), "change": figure.change, "link": figure.link,
        "unit": figure.unit,
    }


def cockpit_data(query: CockpitQuery) -> list[dict]:
    """Every section the viewer may see, with its figures and charts."""
    out = []
    for section in sections_for(query.user):
        out.append({
            "key": section.key, "title": str(section.title),
            "figures": [figure_data(f) for f in section.figures(query)] if section.figures else [],
            "charts": [chart_data(c, query) for c in section.charts],
        })
    return out


def city_name() -> str:
    city = city_region()
    return city.name if city else settings.SITE_TITLE


def report_title() -> str:
    return _("%(city)s人才工作统计报告") % {"city": city_name()}


def filter_summary(query: CockpitQuery) -> str:
    """The filters in words, for a download's or report's heading (「全部」 when there are none)."""
    f = query.filters
    parts = []
    if f.get("kind"):
        from rencai.talents.choices import TalentKind

        parts.append(str(TalentKind(f["kind"]).label))
    for name in ("tier", "region", "database"):
        if f.get(name) is not None:
            parts.append(str(f[name]))
    if f.get("registered_from") or f.get("registered_to"):
        start = f.get("registered_from")
        end = f.get("registered_to")
        parts.append(_("入库 %(start)s 至 %(end)s") % {
            "start": start.isoformat() if start else "…", "end": end.isoformat() if end else "…"})
    return "，".join(parts) or _("全部")


def chart_workbook(chart: dict, query: CockpitQuery) -> bytes:
    """One chart's data as an .xlsx workbook: a heading, then 项目 / 人数 / 占比."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = chart["title"][:31].replace("/", "、")
    sheet.append([f"{city_name()} · {chart['title']}"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([_("范围：%(scope)s；统计日期：%(day)s") % {"scope": filter_summary(query), "day": query.today.isoformat()}])
    sheet.append([])
    sheet.append([_("项目"), _("人数"), _("占比")])
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    total = chart["total"]
    for item in chart["items"]:
        sheet.append([spreadsheet_text(item["label"]), item["value"], (item["value"] / total) if total else 0])
        sheet.cell(row=sheet.max_row, column=3).number_format = "0.0%"
    sheet.append([_("合计"), total, 1 if total else 0])
    sheet.cell(row=sheet.max_row, column=3).number_format = "0.0%"
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    if chart["note"]:
        sheet.append([chart["note"]])
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 12
    sheet.column_dimensions["C"].width = 10
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
