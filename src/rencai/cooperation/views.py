"""Pages of province–university cooperation (省校合作).

Declared on the generic views (``core.views.generic``); writes go through
``cooperation.services``. Everything is read within the user's data scope: another county's
project is a 404, by any URL. A record under another (a report under its project, a problem under
its supervision) is added from its parent's page (``?project=``), the parent checked to be in scope.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rencai.cooperation import figures as coop_figures
from rencai.cooperation import pack, services
from rencai.cooperation.choices import Stage
from rencai.cooperation.filters import (
    AchievementFilterSet,
    AgreementFilterSet,
    BaseFilterSet,
    ExpertFilterSet,
    ProblemFilterSet,
    ProjectFilterSet,
    ReportFilterSet,
    SupervisionFilterSet,
    UniversityFilterSet,
    VisitFilterSet,
)
from rencai.cooperation.forms import (
    AchievementForm,
    AgreementForm,
    BaseForm,
    CooperationDatabaseForm,
    DocumentForm,
    ExpertForm,
    FollowUpForm,
    MilestoneForm,
    ProblemForm,
    ProjectForm,
    ReportForm,
    StageMoveForm,
    SupervisionForm,
    UniversityContactForm,
    UniversityForm,
    VisitForm,
)
from rencai.cooperation.models import (
    Achievement,
    Agreement,
    AgreementDocument,
    Base,
    CooperationDatabase,
    Expert,
    FollowUp,
    Milestone,
    Problem,
    Project,
    Report,
    Supervision,
    University,
    UniversityContact,
    Visit,
)
from rencai.cooperation.tables import (
    AchievementTable,
    AgreementTable,
    CooperationBaseTable,
    CooperationDatabaseTable,
    ExpertTable,
    ProblemTable,
    ProjectTable,
    ReportTable,
    SupervisionTable,
    UniversityTable,
    VisitTable,
)
from rencai.core import audit
from rencai.core.forms import add_refusal
from rencai.core.models.audit import AuditAction
from rencai.core.scope import get_object_or_404_in_scope, user_can
from rencai.core.views.generic import ViewSet, safe_return_url, style_filters
from rencai.liaison.models import Lead
from rencai.talents.models import Talent

TEMPLATES = "cooperation/"


class _ServiceSaveMixin:
    """Saves through ``services.save`` with the form's many-to-many values."""

    m2m_fields: tuple[str, ...] = ()

    def save_object(self, request, obj, form, created):
        services.save(obj, user=request.user, m2m={name: form.cleaned_data[name] for name in self.m2m_fields
                                                    if name in form.cleaned_data})

    def delete_object(self, request, obj):
        services.delete(obj, user=request.user)


class _ChildViews(_ServiceSaveMixin, ViewSet):
    """A record added from its parent's page: ``?<parent>=<id>`` fills the parent when the user
    may see it; after a save the user goes back to the parent."""

    parent: str = ""
    actions = ("list", "add", "detail", "edit", "delete", "changelog")

    def get_initial(self, request):
        value = request.GET.get(self.parent)
        if not str(value or "").isdecimal():
            return {}
        related = self.model._meta.get_field(self.parent).related_model
        return {self.parent: value} if related.objects.restrict(request.user, "view").filter(pk=value).exists() else {}

    def get_success_url(self, request, obj):
        parent = getattr(obj, self.parent)
        url = reverse(f"{parent._meta.model_name}_detail", kwargs={"pk": parent.pk})
        return url

    def get_delete_success_url(self, request, obj):
        return self.get_success_url(request, obj)


def _rows(queryset, user, limit: int = 50):
    return list(queryset.restrict(user, "view")[:limit])


# --- universities ------------------------------------------------------------------------------------------
class UniversityViews(_ServiceSaveMixin, ViewSet):
    model = University
    url_prefix = "universities"
    queryset = University.objects.fetch_references("tags")
    filterset = UniversityFilterSet
    table = UniversityTable
    form = UniversityForm
    m2m_fields = ("tags",)
    actions = ("list", "add", "detail", "edit", "delete", "changelog")
    detail_template = TEMPLATES + "university_detail.html"

    def get_detail_context(self, request, obj):
        """Everything linked to the university, as far as the user may see it."""
        user = request.user
        projects, agreements = coop_figures.scoped(user)
        _rows_, total = coop_figures.figures(projects.filter(university=obj), agreements.filter(university=obj))
        return {
            "total": total,
            "contacts": _rows(obj.contacts.all(), user),
            "agreements": _rows(obj.agreements.select_related("region"), user),
            "projects": _rows(obj.projects.select_related("region"), user),
            "bases": _rows(obj.bases.select_related("kind", "region"), user),
            "experts": _rows(obj.experts.select_related("talent"), user),
            "achievements": _rows(obj.achievements.all(), user),
            "visits": _rows(obj.visits.select_related("region"), user),
            "may_add_contact": user_can(user, UniversityContact, "add"),
        }


class UniversityContactViews(_ChildViews):
    model = UniversityContact
    url_prefix = "contacts"
    parent = "university"
    form = UniversityContactForm
    actions = ("add", "detail", "edit", "delete", "changelog")


# --- agreements ----------------------------------------------------------------------------------------------
class AgreementViews(_ServiceSaveMixin, ViewSet):
    model = Agreement
    url_prefix = "agreements"
    queryset = Agreement.objects.fetch_references("university", "region", "classes")
    filterset = AgreementFilterSet
    table = AgreementTable
    form = AgreementForm
    actions = ("list", "add", "detail", "edit", "delete", "changelog")
    detail_template = TEMPLATES + "agreement_detail.html"
    list_template = TEMPLATES + "agreement_list.html"

    def _follow_up(self, request) -> FollowUp | None:
        """签订协议 from a visit's follow-up item (``?follow_up=``), if the user may change it."""
        pk = request.GET.get("follow_up")
        if not str(pk or "").isdecimal():
            return None
        return FollowUp.objects.restrict(request.user, "change").select_related("visit").filter(pk=pk).first()

    def get_initial(self, request):
        follow_up = self._follow_up(request)
        if follow_up is not None:
            visit = follow_up.visit
            return {"visit": visit.pk, "university": visit.university_id, "region": visit.region_id,
                    "content": follow_up.description, "title": follow_up.description[:200]}
        return {}

    def save_object(self, request, obj, form, created):
        services.save_agreement(obj, user=request.user, classes=form.cleaned_data["classes"])
        follow_up = self._follow_up(request) if created else None
        if follow_up is not None:
            services.follow_up_to_agreement(follow_up, obj, user=request.user)

    def get_list_context(self, request, listing):
        agreements = Agreement.objects.restrict(request.user, "view").select_related("university", "region")
        return {"expiring": list(services.expiring_agreements(agreements)[:10])}

    def get_detail_context(self, request, obj):
        user = request.user
        return {
            "projects": _rows(obj.projects.select_related("region"), user),
            "bases": _rows(obj.bases.select_related("kind"), user),
            "documents": list(obj.documents.all()),
            "document_form": DocumentForm() if user_can(user, Agreement, "change") else None,
        }


@login_required
@require_POST
def document_upload(request, pk):
    agreement = get_object_or_404_in_scope(Agreement, request.user, "change", pk=pk)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_document(agreement, form.cleaned_data["file"], title=form.cleaned_data["title"],
                                  user=request.user)
            messages.success(request, _("已上传协议文件。"))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
    else:
        messages.error(request, _("请选择要上传的文件。"))
    return redirect("agreement_detail", pk=agreement.pk)


@login_required
@require_GET
def document_download(request, pk):
    """A document, to those who may see its agreement; each download is audited."""
    document = get_object_or_404_in_scope(AgreementDocument.objects.select_related("agreement"), request.user, "view",
                                          pk=pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    audit.record(AuditAction.EXPORT, obj=document, message=_("下载协议文件"))
    return FileResponse(handle, as_attachment=True, filename=document.file.name.rsplit("/", 1)[-1])


# --- projects ----------------------------------------------------------------------------------------------
class ProjectViews(ViewSet):
    model = Project
    url_prefix = "projects"
    queryset = Project.objects.fetch_references("university", "region", "line")
    filterset = ProjectFilterSet
    table = ProjectTable
    form = ProjectForm
    actions = ("list", "add", "detail", "edit", "delete", "changelog")
    detail_template = TEMPLATES + "project_detail.html"
    detail_fields = ("name", "stage", "stage_on", "line", "agreement", "university", "enterprise", "region", "amount",
                     "leader", "responsible_unit", "signed_on", "landed_on", "completed_on", "terminated_on",
                     "termination_reason", "lead", "visit", "databases", "description", "created_by", "created_at",
                     "updated_at")

    def get_object_queryset(self, request):
        return Project.objects.select_related("agreement", "university", "region", "line", "lead", "visit")

    def get_initial(self, request):
        initial = {}
        user = request.user
        agreement = request.GET.get("agreement")
        if str(agreement or "").isdecimal():
            found = Agreement.objects.restrict(user, "view").filter(pk=agreement).first()
            if found is not None:
                initial.update(agreement=found.pk, university=found.university_id, region=found.region_id)
        return initial

    def save_object(self, request, obj, form, created):
        databases = form.cleaned_data.get("databases")
        try:
            if created:
                services.create_project(obj, user=request.user, stage=form.cleaned_data["start_stage"],
                                        on=form.cleaned_data["start_on"], databases=databases or None)
            else:
                services.update_project(obj, user=request.user, databases=databases)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                renames = {"stage": "start_stage", "stage_on": "start_on"}
                raise ValidationError({renames.get(k, k) if renames.get(k, k) in form.fields else "__all__": v
                                       for k, v in exc.error_dict.items()}) from exc
            raise

    def delete_object(self, request, obj):
        services.delete(obj, user=request.user)

    def get_detail_context(self, request, obj):
        user = request.user
        may_change = user_can(user, Project, "change")
        missing = services.missing_reports(Project.objects.filter(pk=obj.pk))
        return {
            "move_form": StageMoveForm(project=obj) if may_change and services.allowed_moves(obj) else None,
            "stage_changes": list(obj.stage_changes.select_related("by")),
            "milestones": list(obj.milestones.all()),
            "reports": list(obj.reports.select_related("created_by")[:24]),
            "missing": missing,
            "supervisions": list(obj.supervisions.prefetch_related("problems")),
            "today": timezone.localdate(),
            "may_add": {name: user_can(user, model, "add") for name, model in (
                ("report", Report), ("milestone", Milestone), ("supervision", Supervision))},
        }


@login_required
@require_POST
def project_move(request, pk):
    """A project's next step (the stage form on its page)."""
    project = get_object_or_404_in_scope(Project, request.user, "change", pk=pk)
    form = StageMoveForm(request.POST, project=project)
    if form.is_valid():
        try:
            moved = services.move(project, form.cleaned_data["to_stage"], user=request.user,
                                  on=form.cleaned_data["on"], note=form.cleaned_data["note"])
            messages.success(request, _("项目“%(name)s”已转到%(stage)s阶段。") % {
                "name": moved.name, "stage": moved.get_stage_display()})
            return redirect("project_detail", pk=project.pk)
        except ValidationError as exc:
            add_refusal(form, exc)
    for errors in form.errors.values():
        for message in errors:
            messages.error(request, message)
    return redirect("project_detail", pk=project.pk)


class MilestoneViews(_ChildViews):
    model = Milestone
    url_prefix = "milestones"
    parent = "project"
    form = MilestoneForm
    actions = ("add", "detail", "edit", "delete", "changelog")


class ReportViews(_ChildViews):
    model = Report
    url_prefix = "reports"
    parent = "project"
    queryset = Report.objects.fetch_references("project", "created_by")
    filterset = ReportFilterSet
    table = ReportTable
    form = ReportForm
    list_template = TEMPLATES + "report_list.html"

    def get_initial(self, request):
        initial = super().get_initial(request)
        initial.setdefault("period", services.period_start(timezone.localdate()))
        if initial.get("project"):
            project = Project.objects.get(pk=initial["project"])
            owed = [m.period for m in services.missing_reports(Project.objects.filter(pk=project.pk))]
            if owed:
                initial["period"] = owed[0]
        return initial

    def save_object(self, request, obj, form, created):
        services.save_report(obj, user=request.user)

    def get_list_context(self, request, listing):
        projects = Project.objects.restrict(request.user, "view")
        return {"missing": services.missing_reports(projects, latest_only=True)[:50]}


class SupervisionViews(_ChildViews):
    model = Supervision
    url_prefix = "supervisions"
    parent = "project"
    queryset = Supervision.objects.fetch_references("project")
    filterset = SupervisionFilterSet
    table = SupervisionTable
    form = SupervisionForm
    detail_template = TEMPLATES + "supervision_detail.html"

    def get_success_url(self, request, obj):
        return reverse("supervision_detail", kwargs={"pk": obj.pk})

    def get_detail_context(self, request, obj):
        return {"problems": list(obj.problems.all()), "today": timezone.localdate(),
                "may_add_problem": user_can(request.user, Problem, "add")}


class ProblemViews(_ChildViews):
    model = Problem
    url_prefix = "problems"
    parent = "supervision"
    queryset = Problem.objects.fetch_references("supervision")
    filterset = ProblemFilterSet
    table = ProblemTable
    form = ProblemForm


# --- bases, experts, achievements -----------------------------------------------------------------------------
class BaseViews(_ServiceSaveMixin, ViewSet):
    model = Base
    url_prefix = "bases"
    queryset = Base.objects.fetch_references("kind", "university", "region")
    filterset = BaseFilterSet
    table = CooperationBaseTable
    form = BaseForm
    actions = ("list", "add", "detail", "edit", "delete", "changelog")


class ExpertViews(_ServiceSaveMixin, ViewSet):
    model = Expert
    url_prefix = "experts"
    queryset = Expert.objects.fetch_references("talent", "university", "discipline")
    filterset = ExpertFilterSet
    table = ExpertTable
    form = ExpertForm
    m2m_fields = ("databases",)
    actions = ("list", "add", "detail", "edit", "delete", "changelog")

    def get_initial(self, request):
        """A new expert is in the default 专家库; from a talent's page (``?talent=``) it is that talent."""
        initial = {"databases": services.default_databases("expert")}
        talent = request.GET.get("talent")
        if str(talent or "").isdecimal() and Talent.objects.restrict(request.user, "view").filter(pk=talent).exists():
            initial["talent"] = talent
        return initial


class AchievementViews(_ServiceSaveMixin, ViewSet):
    model = Achievement
    url_prefix = "achievements"
    queryset = Achievement.objects.fetch_references("university")
    filterset = AchievementFilterSet
    table = AchievementTable
    form = AchievementForm
    m2m_fields = ("databases",)
    actions = ("list", "add", "detail", "edit", "delete", "changelog")

    def get_initial(self, request):
        return {"databases": services.default_databases("achievement")}


# --- visits --------------------------------------------------------------------------------------------------
class VisitViews(_ServiceSaveMixin, ViewSet):
    model = Visit
    url_prefix = "visits"
    queryset = Visit.objects.fetch_references("university", "region")
    filterset = VisitFilterSet
    table = VisitTable
    form = VisitForm
    actions = ("list", "add", "detail", "edit", "delete", "changelog")
    detail_template = TEMPLATES + "visit_detail.html"

    def get_detail_context(self, request, obj):
        user = request.user
        return {
            "follow_ups": list(obj.follow_ups.select_related("agreement", "project", "lead")),
            "may_change": user_can(user, FollowUp, "change"),
            "may_add_project": user_can(user, Project, "add"),
            "may_add_lead": user_can(user, Lead, "add"),
            "may_add_agreement": user_can(user, Agreement, "add"),
        }


class FollowUpViews(_ChildViews):
    model = FollowUp
    url_prefix = "follow-ups"
    parent = "visit"
    form = FollowUpForm
    actions = ("add", "detail", "edit", "delete", "changelog")

    def save_object(self, request, obj, form, created):
        services.save_follow_up(obj, user=request.user)


@login_required
@require_POST
def follow_up_convert(request, pk, to):
    """转为项目 / 转为线索: a visit's follow-up item in one step."""
    follow_up = get_object_or_404_in_scope(FollowUp.objects.select_related("visit"), request.user, "change", pk=pk)
    try:
        if to == "project":
            if not user_can(request.user, Project, "add"):
                raise PermissionDenied
            project = services.follow_up_to_project(follow_up, user=request.user)
            messages.success(request, _("已形成合作项目“%(name)s”。") % {"name": project.name})
            return redirect("project_detail", pk=project.pk)
        if not user_can(request.user, Lead, "add"):
            raise PermissionDenied
        lead = services.follow_up_to_lead(follow_up, user=request.user)
        messages.success(request, _("已转为线索“%(title)s”。") % {"title": lead.title})
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("visit_detail", pk=follow_up.visit_id)


@login_required
@require_POST
def lead_convert(request, pk):
    """A liaison lead becomes a project in one step (from the lead's 合作项目 tab)."""
    if not user_can(request.user, Project, "add"):
        raise PermissionDenied
    lead = get_object_or_404_in_scope(Lead, request.user, "change", pk=pk)
    try:
        project = services.convert_lead(lead, user=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(safe_return_url(request, reverse("lead_detail", kwargs={"pk": lead.pk})))
    messages.success(request, _("线索已转为合作项目“%(name)s”。") % {"name": project.name})
    return redirect("project_detail", pk=project.pk)


class CooperationDatabaseViews(ViewSet):
    model = CooperationDatabase
    url_prefix = "databases"
    table = CooperationDatabaseTable
    form = CooperationDatabaseForm
    actions = ("list", "add", "detail", "edit", "delete", "changelog")
    ordering = ("sort_order", "code")


# --- figures and the scheduling-meeting pack ------------------------------------------------------------------
def _figure_filters(request):
    """The figures page's filters: the project list's (region, university, dates …)."""
    projects, agreements = coop_figures.scoped(request.user)
    filterset = style_filters(ProjectFilterSet(request.GET or None, queryset=projects, user=request.user))
    projects = filterset.qs
    data = filterset.form.cleaned_data if filterset.form.is_valid() else {}
    # The agreements under the same filters, as far as they apply: region, university, class
    # (one of the agreement's), signing period.
    if data.get("region"):
        agreements = filterset.in_region(agreements, "region", data["region"])
    if data.get("university"):
        agreements = agreements.filter(university=data["university"])
    if data.get("line"):
        agreements = agreements.filter(classes=data["line"])
    if data.get("signed_from"):
        agreements = agreements.filter(signed_on__gte=data["signed_from"])
    if data.get("signed_to"):
        agreements = agreements.filter(signed_on__lte=data["signed_to"])
    return filterset, projects, agreements


@login_required
@require_GET
def figures_page(request):
    if not user_can(request.user, Project, "view"):
        raise PermissionDenied
    grouping = request.GET.get("by") if request.GET.get("by") in coop_figures.GROUPINGS else "university"
    filterset, projects, agreements = _figure_filters(request)
    rows, total = coop_figures.figures(projects, agreements, grouping)
    return render(request, TEMPLATES + "figures.html", {
        "page_title": _("合作统计"), "rows": rows, "total": total, "grouping": grouping,
        "groupings": [(key, label) for key, (label, *_rest) in coop_figures.GROUPINGS.items()],
        "stages": Stage.choices, "filterset": filterset,
        "chart_data": [{"charts": [{"key": "cooperation_figures", "kind": "bar", "items": [
            {"label": row.label, "value": row.landed, "link": None} for row in rows if row.landed]}]}],
        "breadcrumbs": [(_("首页"), reverse("home")), (_("合作统计"), None)],
    })


@login_required
@require_GET
def pack_download(request):
    """The scheduling-meeting pack (调度会材料) as .xlsx, of what the user may see."""
    if not user_can(request.user, Project, "view"):
        raise PermissionDenied
    _filterset, projects, agreements = _figure_filters(request)
    today = timezone.localdate()
    content = pack.build(request.user, projects, agreements, today=today)
    audit.record(AuditAction.EXPORT, object_type="cooperation_pack", object_repr=_("调度会材料"),
                 message=_("%(date)s 调度会材料") % {"date": today.isoformat()})
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = f"diaoduhui-{today:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def pack_page(request):
    if not user_can(request.user, Project, "view"):
        raise PermissionDenied
    filterset, projects, agreements = _figure_filters(request)
    today = timezone.localdate()
    problems = Problem.objects.restrict(request.user, "view").filter(supervision__project__in=projects)
    return render(request, TEMPLATES + "pack.html", {
        "page_title": _("调度会材料"), "filterset": filterset, "today": today,
        "missing": services.missing_reports(projects, today, latest_only=True)[:100],
        "overdue": list(services.overdue_problems(problems, today).select_related("supervision__project")[:100]),
        "expiring": list(services.expiring_agreements(agreements, today)[:100]),
        "breadcrumbs": [(_("首页"), reverse("home")), (_("调度会材料"), None)],
        "download_url": reverse("cooperation_pack_download") + (f"?{request.GET.urlencode()}" if request.GET else ""),
        "period": services.period_start(today - dt.timedelta(days=1)),
    })
