"""Writing cooperation records, and the rules that follow them: the stage flow of a project, the
scheduling periods and their missing reports, overdue rectifications, expiring agreements, and
turning a liaison lead or a visit's follow-up into a project in one step.

Every write re-checks data scope inside its transaction (``check_in_scope``): a county officer
cannot file a project under another county, nor hang a report on a project they cannot see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.cooperation.choices import (
    REPORTING_STAGES,
    STAGE_DATE_FIELDS,
    TRANSITIONS,
    AgreementStatus,
    FollowUpStatus,
    Stage,
)
from rencai.cooperation.models import (
    Agreement,
    AgreementDocument,
    CooperationDatabase,
    FollowUp,
    Problem,
    Project,
    Report,
    StageChange,
)
from rencai.core.models import Region
from rencai.core.scope import check_in_scope, region_in_scope
from rencai.liaison.choices import LeadKind, LeadStatus
from rencai.liaison.models import Lead
from rencai.liaison.services import save_lead

# The stages a project may be recorded in when it is first entered: as a talk, or already signed.
START_STAGES = (Stage.NEGOTIATING, Stage.SIGNED)
DOCUMENT_TYPES = {".pdf", ".ofd", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".jpg", ".jpeg", ".png", ".zip"}


def _today() -> dt.date:
    return timezone.localdate()


def check_links(obj, user) -> None:
    """Every record ``obj`` points to that has a data scope (an agreement, a visit, a project, a
    talent, a lead …) must be one ``user`` may see: no one links another county's records."""
    errors = {}
    links = [f for f in obj._meta.concrete_fields if (f.many_to_one or f.one_to_one)
             and getattr(f.related_model, "region_scope_field", None) is not None]
    # A link kept as it was is not re-checked: a county's project may hang off a city agreement
    # its officer cannot open, and editing the project must not break the link.
    saved = (type(obj)._base_manager.filter(pk=obj.pk).values(*(f.attname for f in links)).first() or {}
             if obj.pk is not None and links else {})
    for field in links:
        related = field.related_model
        value = getattr(obj, field.attname, None)
        if value is None or saved.get(field.attname) == value:
            continue
        if not related.objects.restrict(user, "view").filter(pk=value).exists():
            errors[field.name] = [_("所选%(model)s不存在，或不在您的数据范围内。") % {"model": related._meta.verbose_name}]
    if errors:
        raise ValidationError(errors)


def save(obj, *, user, m2m: dict | None = None):
    """Validate ``obj``, re-check the user may write it where it now is and may see what it links
    to, save it and set its many-to-many fields (``m2m``: name → objects); one transaction."""
    with transaction.atomic():
        obj.full_clean()
        check_in_scope(user, obj, "add" if obj.pk is None else "change")
        check_links(obj, user)
        obj.save()
        for name, values in (m2m or {}).items():
            getattr(obj, name).set(values)
    return obj


def delete(obj, *, user) -> None:
    with transaction.atomic():
        check_in_scope(user, obj, "delete")
        obj.delete()


def default_databases(kind: str) -> list[CooperationDatabase]:
    return list(CooperationDatabase.objects.filter(kind=kind, is_default=True, is_active=True))


# --- agreements ----------------------------------------------------------------------------------------------
def save_agreement(agreement: Agreement, *, user, classes=None, today: dt.date | None = None) -> Agreement:
    """An agreement whose term has run out is 到期 (unless it was terminated); one given a later
    expiry date, or none (长期有效), is 有效 again."""
    today = today or _today()
    if agreement.status != AgreementStatus.TERMINATED:
        expired = agreement.expires_on is not None and agreement.expires_on < today
        agreement.status = AgreementStatus.EXPIRED if expired else AgreementStatus.ACTIVE
    return save(agreement, user=user, m2m=None if classes is None else {"classes": classes})


def expiring_agreements(queryset, today: dt.date | None = None, days: int | None = None):
    """The 有效 agreements of ``queryset`` whose term ends within ``days`` (到期提醒), soonest first."""
    today = today or _today()
    days = settings.AGREEMENT_EXPIRY_WARNING_DAYS if days is None else days
    return queryset.filter(status=AgreementStatus.ACTIVE, expires_on__gte=today,
                           expires_on__lte=today + dt.timedelta(days=days)).order_by("expires_on", "id")


def mark_expired_agreements(today: dt.date | None = None) -> int:
    """Set 到期 on every 有效 agreement whose term has ended (the daily job); returns how many."""
    today = today or _today()
    count = 0
    with transaction.atomic():
        for agreement in Agreement.objects.select_for_update().filter(status=AgreementStatus.ACTIVE,
                                                                      expires_on__lt=today):
            agreement.status = AgreementStatus.EXPIRED
            agreement.save(update_fields=["status", "updated_at"])
            count += 1
    return count


def check_document(upload) -> None:
    """A document must be of an office type and at most ``DOCUMENT_MAX_MB``."""
    name = (upload.name or "").lower()
    suffix = name[name.rfind("."):] if "." in name else ""
    if suffix not in DOCUMENT_TYPES:
        raise ValidationError({"file": [_("不支持该文件类型（%(suffix)s）；可上传 %(types)s。") % {
            "suffix": suffix or _("无扩展名"), "types": "、".join(sorted(DOCUMENT_TYPES))}]})
    if upload.size > settings.DOCUMENT_MAX_MB * 1024 * 1024:
        raise ValidationError({"file": [_("文件过大：最大 %(mb)s MB。") % {"mb": settings.DOCUMENT_MAX_MB}]})


def add_document(agreement: Agreement, upload, *, title: str, user) -> AgreementDocument:
    """Store ``upload`` as a document of ``agreement``: checked first, written only then, and
    removed again if the record cannot be saved (no stray file left behind)."""
    check_document(upload)
    max_title = AgreementDocument._meta.get_field("title").max_length
    document = AgreementDocument(agreement=agreement, title=(title or upload.name)[:max_title], size=upload.size)
    document.full_clean(exclude=["file"])
    with transaction.atomic():
        check_in_scope(user, agreement, "change")
        document.file.save(upload.name, upload, save=False)
        try:
            document.save()
        except Exception:
            document.file.delete(save=False)
            raise
    return document


# --- projects and their stages -------------------------------------------------------------------------------
def _fill_from_sources(project: Project) -> None:
    """A project of an agreement takes its university and region unless given its own."""
    if project.agreement_id is not None:
        if project.university_id is None:
            project.university_id = project.agreement.university_id
        if project.region_id is None:
            project.region_id = project.agreement.region_id


def create_project(project: Project, *, user, stage: str = Stage.NEGOTIATING, on: dt.date | None = None,
                   databases=None) -> Project:
    """Enter a new project at ``stage`` (洽谈 or 签约) reached ``on``; it joins the default 项目库."""
    on = on or _today()
    if stage not in START_STAGES:
        raise ValidationError({"stage": [_("新项目只能从洽谈或签约阶段开始录入。")]})
    if on > _today():
        raise ValidationError({"stage_on": [_("日期不能晚于今天。")]})
    _fill_from_sources(project)
    project.stage, project.stage_on = stage, on
    if stage == Stage.SIGNED:
        project.signed_on = on
    with transaction.atomic():
        save(project, user=user, m2m={"databases": databases if databases is not None
                                      else default_databases("project")})
        StageChange.objects.create(project=project, from_stage="", to_stage=stage, on=on, by=_user_or_none(user))
    return project


def update_project(project: Project, *, user, databases=None) -> Project:
    """Save edits of a project's own fields (its stage moves only through ``move``)."""
    _fill_from_sources(project)
    return save(project, user=user, m2m=None if databases is None else {"databases": databases})


def allowed_moves(project: Project) -> tuple[str, ...]:
    return TRANSITIONS[project.stage]


def move(project: Project, to_stage: str, *, user, on: dt.date | None = None, note: str = "") -> Project:
    """Move ``project`` to ``to_stage`` on the day ``on``: only a step ``TRANSITIONS`` allows, on
    or after the day of its current stage and not in the future; 终止 needs a reason. The step is
    kept in the stage history and the project's change log."""
    on = on or _today()
    note = (note or "").strip()
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        check_in_scope(user, locked, "change")
        if to_stage not in Stage.values:
            raise ValidationError({"to_stage": [_("未知的项目阶段。")]})
        if to_stage not in TRANSITIONS[locked.stage]:
            raise ValidationError({"to_stage": [_("项目不能从“%(from)s”转到“%(to)s”。") % {
                "from": locked.get_stage_display(), "to": Stage(to_stage).label}]})
        if on > _today():
            raise ValidationError({"on": [_("日期不能晚于今天。")]})
        if on < locked.stage_on:
            raise ValidationError({"on": [_("日期不能早于进入“%(stage)s”阶段的日期（%(date)s）。") % {
                "stage": locked.get_stage_display(), "date": f"{locked.stage_on:%Y-%m-%d}"}]})
        if to_stage == Stage.TERMINATED and not note:
            raise ValidationError({"note": [_("终止项目须说明原因。")]})
        from_stage = locked.stage
        locked.stage, locked.stage_on = to_stage, on
        date_field = STAGE_DATE_FIELDS.get(to_stage)
        if date_field and getattr(locked, date_field) is None:
            setattr(locked, date_field, on)
        if to_stage == Stage.TERMINATED:
            locked.termination_reason = note
        locked.save(update_fields=["stage", "stage_on", "termination_reason", "updated_at", "updated_by",
                                   *([date_field] if date_field else [])])
        StageChange.objects.create(project=locked, from_stage=from_stage, to_stage=to_stage, on=on, note=note,
                                   by=_user_or_none(user))
    return locked


def _user_or_none(user):
    return user if getattr(user, "is_authenticated", False) else None


# --- leads and follow-ups become projects --------------------------------------------------------------------
def convert_lead(lead: Lead, *, user, name: str = "", university=None, on: dt.date | None = None) -> Project:
    """Turn a liaison lead into a project (洽谈) in one step: its title, description and region
    carry over, the lead is marked 已转化 and points to the project."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        check_in_scope(user, lead, "change")
        if Project.objects.filter(lead=lead).exists():
            raise ValidationError(_("该线索已转为合作项目。"))
        if lead.status == LeadStatus.CLOSED:
            raise ValidationError(_("已关闭的线索不能转为项目。"))
        project = Project(name=(name or lead.title)[:200], region_id=lead.region_id, description=lead.description,
                          university=university, lead=lead)
        create_project(project, user=user, on=on)
        lead.status = LeadStatus.CONVERTED
        lead.outcome = "\n".join(filter(None, [lead.outcome, _("已转为合作项目：%(name)s") % {"name": project.name}]))
        check_in_scope(user, lead, "change")
        lead.save(update_fields=["status", "outcome", "updated_at", "updated_by"])
    return project


def _check_open(follow_up: FollowUp, what: str) -> None:
    """An item converts once: while it is 待落实 and has become nothing yet."""
    if follow_up.status != FollowUpStatus.OPEN or follow_up.project_id or follow_up.lead_id or follow_up.agreement_id:
        raise ValidationError(_("只有待落实的事项才能%(what)s（该事项：%(status)s）。") % {
            "what": what, "status": follow_up.get_status_display()})


def save_follow_up(follow_up: FollowUp, *, user) -> FollowUp:
    """An item that has become an agreement, a project or a lead keeps that status; one given an
    agreement it was signed as becomes 已签协议."""
    if follow_up.agreement_id and not (follow_up.project_id or follow_up.lead_id) \
            and follow_up.status == FollowUpStatus.OPEN:
        follow_up.status = FollowUpStatus.AGREEMENT
    if follow_up.project_id or follow_up.lead_id or follow_up.agreement_id:
        made = (FollowUpStatus.PROJECT if follow_up.project_id else
                FollowUpStatus.LEAD if follow_up.lead_id else FollowUpStatus.AGREEMENT)
        if follow_up.status != made:
            raise ValidationError({"status": [_("该事项已形成%(what)s，状态不能再改。") % {"what": made.label}]})
    elif follow_up.status not in (FollowUpStatus.OPEN, FollowUpStatus.DROPPED):
        raise ValidationError({"status": [_("请用“转为项目”“转为线索”或“签订协议”落实事项。")]})
    return save(follow_up, user=user)


def follow_up_to_project(follow_up: FollowUp, *, user, name: str = "") -> Project:
    """A visit's follow-up item becomes a project (洽谈) of the visited university."""
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().select_related("visit").get(pk=follow_up.pk)
        check_in_scope(user, follow_up, "change")
        _check_open(follow_up, _("转为项目"))
        visit = follow_up.visit
        project = Project(name=(name or follow_up.description)[:200], region_id=visit.region_id,
                          university_id=visit.university_id, visit=visit, description=follow_up.description)
        create_project(project, user=user)
        follow_up.project, follow_up.status = project, FollowUpStatus.PROJECT
        follow_up.save(update_fields=["project", "status", "updated_at", "updated_by"])
    return project


def follow_up_to_agreement(follow_up: FollowUp, agreement: Agreement, *, user) -> FollowUp:
    """A visit's follow-up item was signed as ``agreement`` (签订协议 from the item)."""
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        check_in_scope(user, follow_up, "change")
        _check_open(follow_up, _("签订协议"))
        follow_up.agreement, follow_up.status = agreement, FollowUpStatus.AGREEMENT
        check_links(follow_up, user)
        follow_up.save(update_fields=["agreement", "status", "updated_at", "updated_by"])
    return follow_up


def follow_up_to_lead(follow_up: FollowUp, *, user) -> Lead:
    """A visit's follow-up item becomes a liaison lead (项目线索) of the visiting county."""
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().select_related("visit__university").get(pk=follow_up.pk)
        check_in_scope(user, follow_up, "change")
        _check_open(follow_up, _("转为线索"))
        visit = follow_up.visit
        lead = Lead(kind=LeadKind.PROJECT, title=follow_up.description[:200], region_id=visit.region_id,
                    description=_("来自%(date)s走访%(university)s：%(text)s") % {
                        "date": f"{visit.on:%Y-%m-%d}", "university": visit.university, "text": follow_up.description},
                    due_date=follow_up.due_on, owner=_user_or_none(user))
        save_lead(lead, user=user)
        follow_up.lead, follow_up.status = lead, FollowUpStatus.LEAD
        follow_up.save(update_fields=["lead", "status", "updated_at", "updated_by"])
    return lead


# --- scheduling periods (定期调度) ------------------------------------------------------------------------------
def period_start(day: dt.date, months: int | None = None) -> dt.date:
    """The first day of the scheduling period holding ``day`` (periods start in January)."""
    months = months or settings.COOPERATION_REPORT_MONTHS
    return dt.date(day.year, (day.month - 1) // months * months + 1, 1)


def next_period(start: dt.date, months: int | None = None) -> dt.date:
    months = months or settings.COOPERATION_REPORT_MONTHS
    index = start.month - 1 + months
    return dt.date(start.year + index // 12, index % 12 + 1, 1)


def period_deadline(start: dt.date, months: int | None = None) -> dt.date:
    """The last day a period's report is on time: the grace days after the period ends."""
    return next_period(start, months) - dt.timedelta(days=1) + dt.timedelta(days=settings.COOPERATION_REPORT_GRACE_DAYS)


def due_periods(project: Project, today: dt.date | None = None) -> list[dt.date]:
    """The periods ``project`` owes a report for by ``today``: from the period it was signed in
    to the last one whose deadline has passed, ending before the period it finished or stopped in."""
    today = today or _today()
    if project.signed_on is None:
        return []
    left = project.completed_on or project.terminated_on
    if project.stage not in REPORTING_STAGES and left is None:
        return []
    periods = []
    start = period_start(project.signed_on)
    stop = period_start(left) if left else None
    while period_deadline(start) < today and (stop is None or start < stop):
        periods.append(start)
        start = next_period(start)
    return periods


@dataclass(frozen=True)
class MissingReport:
    project: Project
    period: dt.date
    deadline: dt.date


def missing_reports(projects, today: dt.date | None = None, *, latest_only: bool = False) -> list[MissingReport]:
    """The reports ``projects`` (a queryset, already restricted) owe and have not submitted.

    ``latest_only``: only the most recent period each project owes (the 调度会's list); else every
    period since signing."""
    today = today or _today()
    rows = list(projects.filter(signed_on__isnull=False).exclude(
        Q(stage=Stage.NEGOTIATING) | (Q(stage__in=[Stage.COMPLETED, Stage.TERMINATED]) & Q(
            completed_on__isnull=True, terminated_on__isnull=True))).select_related("region"))
    submitted = set(Report.objects.filter(project__in=[p.pk for p in rows]).values_list("project_id", "period"))
    out = []
    for project in rows:
        periods = due_periods(project, today)
        if latest_only:
            periods = periods[-1:]
        out.extend(MissingReport(project, p, period_deadline(p)) for p in periods if (project.pk, p) not in submitted)
    return sorted(out, key=lambda m: (m.period, m.project.region.path, m.project.pk))


def check_report(report: Report, today: dt.date | None = None) -> None:
    """A report is for a period's first day, of a project that has been signed, and not for a
    period after the current one."""
    today = today or _today()
    if report.period is None or report.project_id is None:
        return
    if report.period != period_start(report.period):
        raise ValidationError({"period": [_("报告期须为调度周期的第一天（%(date)s）。") % {
            "date": f"{period_start(report.period):%Y-%m-%d}"}]})
    if report.period > period_start(today):
        raise ValidationError({"period": [_("不能提交以后报告期的调度报告。")]})
    project = report.project
    if project.signed_on is None:
        raise ValidationError({"project": [_("项目签约后才需要调度报告。")]})
    if report.period < period_start(project.signed_on):
        raise ValidationError({"period": [_("报告期早于项目签约日期。")]})
    left = project.completed_on or project.terminated_on
    if left is not None and report.period > period_start(left):
        raise ValidationError({"period": [_("项目已于 %(date)s 结束，不再需要以后报告期的调度报告。") % {
            "date": f"{left:%Y-%m-%d}"}]})


def save_report(report: Report, *, user, today: dt.date | None = None) -> Report:
    check_report(report, today)
    return save(report, user=user)


# --- rectification (整改) -------------------------------------------------------------------------------------
def overdue_problems(queryset, today: dt.date | None = None):
    """Problems not put right by their deadline."""
    today = today or _today()
    return queryset.filter(closed_on__isnull=True, deadline__lt=today)


def close_problem(problem: Problem, *, user, on: dt.date | None = None, closure: str) -> Problem:
    on = on or _today()
    if problem.closed_on is not None:
        raise ValidationError(_("该问题已于 %(date)s 整改完成。") % {"date": f"{problem.closed_on:%Y-%m-%d}"})
    if not (closure or "").strip():
        raise ValidationError({"closure": [_("请填写整改情况。")]})
    if on > _today():
        raise ValidationError({"closed_on": [_("日期不能晚于今天。")]})
    if on < problem.supervision.on:
        raise ValidationError({"closed_on": [_("整改完成日期不能早于督导日期。")]})
    problem.closed_on, problem.closure = on, closure.strip()
    return save(problem, user=user)


def region_for(user, region: Region | None) -> Region | None:
    """The region a county officer's new record is filed under when they name none: their own."""
    if region is not None or user.sees_all_regions:
        return region
    own = [r for r in user.scope_regions()[:2]]
    return own[0] if len(own) == 1 and region_in_scope(user, own[0]) else None
