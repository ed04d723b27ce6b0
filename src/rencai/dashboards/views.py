"""The cockpit page, a chart's .xlsx download and the printable period report."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from rencai.core import audit
from rencai.core.models.audit import AuditAction
from rencai.core.scope import require_perm
from rencai.dashboards import services
from rencai.dashboards.cockpit import CockpitQuery, find_chart
from rencai.dashboards.forms import CockpitFilterForm

PERMISSION = "talents.view_talent"


def _query(request) -> tuple[CockpitFilterForm, CockpitQuery]:
    require_perm(request.user, PERMISSION)
    form = CockpitFilterForm(request.GET or None, user=request.user)
    return form, CockpitQuery(request.user, form.filters() if form.is_bound else {})


@login_required
def cockpit(request):
    form, query = _query(request)
    sections = services.cockpit_data(query)
    return render(request, "dashboards/cockpit.html", {
        "page_title": _("人才驾驶舱"), "form": form, "sections": sections, "query_string": request.GET.urlencode(),
        "scope_label": services.filter_summary(query), "today": query.today,
    })


@login_required
def chart_xlsx(request, key: str):
    form, query = _query(request)
    chart = find_chart(request.user, key)
    if chart is None:
        raise Http404
    data = services.chart_data(chart, query)
    body = services.chart_workbook(data, query)
    audit.record(AuditAction.EXPORT, object_type="dashboard_chart", object_id=key, object_repr=data["title"],
                 message=_("下载统计图数据：%(title)s（%(scope)s）") % {"title": data["title"], "scope": services.filter_summary(query)})
    filename = f"{services.city_name()}-{data['title']}-{query.today:%Y%m%d}.xlsx"
    response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@login_required
def report(request):
    form, query = _query(request)
    sections = services.cockpit_data(query)
    audit.record(AuditAction.EXPORT, object_type="dashboard_report", object_repr=services.report_title(),
                 message=_("打开统计报告（%(scope)s）") % {"scope": services.filter_summary(query)})
    return render(request, "dashboards/report.html", {
        "page_title": services.report_title(), "form": form, "sections": sections,
        "scope_label": services.filter_summary(query), "today": query.today, "query_string": request.GET.urlencode(),
    })
