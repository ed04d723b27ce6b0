"""Edit forms of the cooperation area. Writes go through ``cooperation.services``; a project's
stage changes only through ``StageMoveForm``."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rencai.cooperation.choices import FollowUpStatus, Stage
from rencai.cooperation.models import (
    Achievement,
    Agreement,
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
from rencai.cooperation.services import START_STAGES, allowed_moves
from rencai.core.forms import BaseModelForm, TablerFormMixin
from rencai.liaison.forms import TalentPicker


def _date(**attrs):
    return forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d")


def _text(rows: int = 3):
    return forms.Textarea(attrs={"rows": rows})


class _RegionDefaultMixin:
    """A county officer's new record is filed under their own county unless they choose another."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        region = self.fields.get("region")
        if region is not None and self.instance.pk is None and not self.initial.get("region"):
            choices = list(region.queryset[:2])
            if len(choices) == 1:
                self.initial["region"] = choices[0].pk


class UniversityForm(BaseModelForm):
    class Meta:
        model = University
        fields = ["name", "short_name", "kind", "province", "city", "tags", "website", "description", "is_active"]
        widgets = {"tags": forms.CheckboxSelectMultiple, "description": _text(4)}


class UniversityContactForm(BaseModelForm):
    class Meta:
        model = UniversityContact
        fields = ["university", "name", "department", "post", "mobile", "office_phone", "email"]


class AgreementForm(_RegionDefaultMixin, BaseModelForm):
    class Meta:
        model = Agreement
        fields = ["title", "number", "university", "partner_kind", "partner", "region", "signed_on", "expires_on",
                  "classes", "amount", "status", "content", "visit"]
        widgets = {"signed_on": _date(), "expires_on": _date(), "classes": forms.CheckboxSelectMultiple,
                   "content": _text(4), "visit": forms.HiddenInput}
        help_texts = {"status": _("到期日期已过的协议自动记为“到期”；终止须手动选择。")}


class DocumentForm(TablerFormMixin, forms.Form):
    title = forms.CharField(label=_("文件名称"), max_length=200, required=False,
                            help_text=_("留空则用文件名。"))
    file = forms.FileField(label=_("文件"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style_widgets()


class ProjectForm(_RegionDefaultMixin, BaseModelForm):
    """A project's own fields; a new one also says the stage it starts in (洽谈 or 签约) and when."""

    start_stage = forms.ChoiceField(label=_("当前阶段"), choices=[(s.value, s.label) for s in START_STAGES],
                                    initial=Stage.NEGOTIATING)
    start_on = forms.DateField(label=_("进入该阶段日期"), widget=_date(), initial=timezone.localdate)

    class Meta:
        model = Project
        fields = ["name", "line", "agreement", "university", "enterprise", "region", "amount", "leader",
                  "responsible_unit", "description", "databases", "visit"]
        widgets = {"description": _text(4), "databases": forms.CheckboxSelectMultiple, "visit": forms.HiddenInput}
        help_texts = {"region": _("留空则为所属协议的地区。"), "university": _("留空则为所属协议的院校。")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].required = False
        if self.instance.pk is not None:
            del self.fields["start_stage"], self.fields["start_on"]
        self.fields["databases"].queryset = CooperationDatabase.objects.filter(kind="project", is_active=True)

    def clean(self):
        cleaned = super().clean()
        agreement = cleaned.get("agreement")
        if not cleaned.get("region"):
            if agreement is not None:
                self.instance.region = cleaned["region"] = agreement.region
            else:
                self.add_error("region", _("请选择所属地区，或选择所属协议。"))
        return cleaned


class StageMoveForm(TablerFormMixin, forms.Form):
    """The next step of a project: only the steps its stage allows are offered."""

    to_stage = forms.ChoiceField(label=_("转到阶段"))
    on = forms.DateField(label=_("日期"), widget=_date(), initial=timezone.localdate)
    note = forms.CharField(label=_("说明"), required=False, widget=_text(2),
                           help_text=_("终止项目须说明原因。"))

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_stage"].choices = [(s, Stage(s).label) for s in allowed_moves(project)]
        self.style_widgets()


class MilestoneForm(BaseModelForm):
    class Meta:
        model = Milestone
        fields = ["project", "title", "due_on", "done_on"]
        widgets = {"due_on": _date(), "done_on": _date()}


class SupervisionForm(BaseModelForm):
    class Meta:
        model = Supervision
        fields = ["project", "on", "inspector", "findings"]
        widgets = {"on": _date(), "findings": _text(4)}


class ProblemForm(BaseModelForm):
    class Meta:
        model = Problem
        fields = ["supervision", "description", "deadline", "closed_on", "closure"]
        widgets = {"deadline": _date(), "closed_on": _date(), "description": _text(3), "closure": _text(3)}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("closed_on") and not (cleaned.get("closure") or "").strip():
            self.add_error("closure", _("请填写整改情况。"))
        return cleaned


class ReportForm(BaseModelForm):
    class Meta:
        model = Report
        fields = ["project", "period", "percent_done", "work", "blockers", "next_steps"]
        widgets = {"period": _date(), "work": _text(4), "blockers": _text(3), "next_steps": _text(3)}


class BaseForm(_RegionDefaultMixin, BaseModelForm):
    class Meta:
        model = Base
        fields = ["name", "kind", "host_unit", "university", "agreement", "region", "established_on", "status",
                  "description"]
        widgets = {"established_on": _date(), "description": _text(4)}


class ExpertForm(BaseModelForm):
    class Meta:
        model = Expert
        fields = ["talent", "university", "expertise", "discipline", "available", "databases"]
        widgets = {"talent": TalentPicker(multiple=False), "expertise": _text(2),
                   "databases": forms.CheckboxSelectMultiple}


class AchievementForm(BaseModelForm):
    class Meta:
        model = Achievement
        fields = ["title", "university", "owners", "field", "summary", "maturity", "transfer_mode", "price_low",
                  "price_high", "databases"]
        widgets = {"summary": _text(4), "databases": forms.CheckboxSelectMultiple}


class VisitForm(_RegionDefaultMixin, BaseModelForm):
    class Meta:
        model = Visit
        fields = ["kind", "university", "on", "region", "delegation", "met", "agreed"]
        widgets = {"on": _date(), "agreed": _text(4)}


class FollowUpForm(BaseModelForm):
    """An item is 待落实 or 不再推进 by hand; it becomes a project or a lead by its buttons, and
    an agreement by 签订协议 or by naming the agreement here. Once it has become one, its status
    stays."""

    class Meta:
        model = FollowUp
        fields = ["visit", "description", "due_on", "status", "agreement"]
        widgets = {"due_on": _date(), "description": _text(3)}
        help_texts = {"agreement": _("选择后事项记为“已签协议”。")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.project_id or instance.lead_id or instance.agreement_id:
            for name in ("status", "agreement"):
                self.fields[name].disabled = True
        else:
            self.fields["status"].choices = [(s.value, s.label) for s in (FollowUpStatus.OPEN, FollowUpStatus.DROPPED)]


class CooperationDatabaseForm(BaseModelForm):
    class Meta:
        model = CooperationDatabase
        fields = ["code", "name", "kind", "description", "is_default", "is_active", "sort_order"]
