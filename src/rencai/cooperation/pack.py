"""The scheduling-meeting pack (调度会材料): one .xlsx of what a 调度会 goes through.

Sheets: the figures by county and by university (agreements, projects by stage, landing rate,
amounts); every project still under way with its latest report; the reports owed and not
submitted; the rectifications not closed; the agreements about to expire. Everything is what
the user may see. A small styled workbook, written with openpyxl.
"""

from __future__ import annotations

import datetime as dt
import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from rencai.cooperation import figures as coop_figures
from rencai.cooperation import services
from rencai.cooperation.choices import REPORTING_STAGES, Stage
from rencai.cooperation.models import Problem, Report
from rencai.core.services.auditlog import spreadsheet_text

HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
LATE_FILL = PatternFill("solid", fgColor="F8D7DA")
BOLD = Font(bold=True)


def _append(sheet, values: list) -> None:
    """One row; text the office typed (names, reports, problems) never starts a formula."""
    sheet.append([spreadsheet_text(v) if isinstance(v, str) else v for v in values])


def _sheet(workbook: Workbook, title: str, heading: str, headers: list[str], widths: list[int] | None = None):
    sheet = workbook.create_sheet(title)
    sheet.append([heading])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(headers)
    for cell in sheet[2]:
        cell.font, cell.fill = BOLD, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for index, width in enumerate(widths or [14] * len(headers), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A3"
    return sheet


def _figure_rows(sheet, rows, total) -> None:
    for row in (*rows, total):
        _append(sheet, [row.label, row.agreements, float(row.agreement_amount), row.projects,
                      *(row.by_stage[s] for s in Stage.values), row.signed, row.landed,
                      row.landing_rate if row.landing_rate is not None else "—", float(row.project_amount),
                      float(row.landed_amount)])
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD


def _figure_headers(first: str) -> list[str]:
    return [first, _("协议数"), _("协议金额（万元）"), _("项目数"), *(str(label) for _v, label in Stage.choices),
            _("已签约"), _("已落地"), _("落地率（%）"), _("项目投资额（万元）"), _("落地项目投资额（万元）")]


def build(user, projects, agreements, *, today: dt.date) -> bytes:
    """The pack as .xlsx bytes, from ``projects`` and ``agreements`` (already restricted)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    stamp = f"{today:%Y-%m-%d}"
    widths = [22, 8, 14, 8, *([8] * len(Stage.values)), 8, 8, 10, 16, 18]

    for grouping, title in (("region", _("按县区汇总")), ("university", _("按院校汇总"))):
        rows, total = coop_figures.figures(projects, agreements, grouping)
        sheet = _sheet(workbook, title, _("省校合作%(title)s（截至 %(date)s）") % {"title": title, "date": stamp},
                       _figure_headers(str(coop_figures.GROUPINGS[grouping][0])), widths)
        _figure_rows(sheet, rows, total)

    under_way = list(projects.filter(stage__in=REPORTING_STAGES).select_related("region", "university")
                     .order_by("region__path", "stage", "name"))
    latest = {}
    for report in Report.objects.filter(project__in=[p.pk for p in under_way]).order_by("project", "-period"):
        latest.setdefault(report.project_id, report)
    owed = {}
    for missing in services.missing_reports(projects, today):
        owed.setdefault(missing.project.pk, []).append(missing.period)
    sheet = _sheet(workbook, _("在建项目进度"), _("在建项目进度（截至 %(date)s）") % {"date": stamp},
                   [_("县区"), _("项目名称"), _("合作院校"), _("承接企业"), _("阶段"), _("进入阶段日期"), _("投资额（万元）"),
                    _("包联领导"), _("责任单位"), _("最近报告期"), _("完成进度（%）"), _("本期工作"), _("存在问题"),
                    _("未报期数")],
                   [10, 30, 18, 20, 8, 12, 12, 14, 18, 10, 10, 40, 30, 8])
    for project in under_way:
        report = latest.get(project.pk)
        _append(sheet, [project.region.name, project.name, str(project.university or ""), project.enterprise,
                      project.get_stage_display(), project.stage_on, float(project.amount or 0), project.leader,
                      project.responsible_unit, f"{report.period:%Y-%m}" if report else "",
                      report.percent_done if report else "", report.work if report else "",
                      report.blockers if report else "", len(owed.get(project.pk, []))])
        if owed.get(project.pk):
            sheet.cell(sheet.max_row, 14).fill = LATE_FILL
        sheet.cell(sheet.max_row, 6).number_format = "yyyy-mm-dd"

    sheet = _sheet(workbook, _("未报调度"), _("应报未报的调度报告（截至 %(date)s）") % {"date": stamp},
                   [_("县区"), _("项目名称"), _("阶段"), _("报告期"), _("应报截止日期"), _("逾期天数"), _("责任单位")],
                   [10, 30, 8, 10, 12, 8, 20])
    for missing in services.missing_reports(projects, today):
        project = missing.project
        _append(sheet, [project.region.name, project.name, project.get_stage_display(), f"{missing.period:%Y-%m}",
                      missing.deadline, (today - missing.deadline).days, project.responsible_unit])
        sheet.cell(sheet.max_row, 5).number_format = "yyyy-mm-dd"

    problems = (Problem.objects.restrict(user, "view").filter(closed_on__isnull=True,
                                                               supervision__project__in=projects)
                .select_related("supervision__project__region").order_by("deadline", "id"))
    sheet = _sheet(workbook, _("整改问题"), _("未整改的督导问题（截至 %(date)s）") % {"date": stamp},
                   [_("县区"), _("项目名称"), _("督导日期"), _("督导人员"), _("问题"), _("整改期限"), _("是否逾期")],
                   [10, 30, 12, 14, 50, 12, 8])
    for problem in problems:
        supervision = problem.supervision
        late = problem.deadline < today
        _append(sheet, [supervision.project.region.name, supervision.project.name, supervision.on, supervision.inspector,
                      problem.description, problem.deadline, _("逾期") if late else ""])
        for column in (3, 6):
            sheet.cell(sheet.max_row, column).number_format = "yyyy-mm-dd"
        if late:
            sheet.cell(sheet.max_row, 7).fill = LATE_FILL

    sheet = _sheet(workbook, _("协议到期提醒"), _("即将到期的合作协议（截至 %(date)s）") % {"date": stamp},
                   [_("县区"), _("协议名称"), _("合作院校"), _("签约方"), _("签约日期"), _("到期日期"), _("剩余天数")],
                   [10, 36, 18, 20, 12, 12, 8])
    for agreement in services.expiring_agreements(agreements, today).select_related("region", "university"):
        _append(sheet, [agreement.region.name, agreement.title, str(agreement.university), agreement.partner,
                      agreement.signed_on, agreement.expires_on, (agreement.expires_on - today).days])
        for column in (5, 6):
            sheet.cell(sheet.max_row, column).number_format = "yyyy-mm-dd"

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
