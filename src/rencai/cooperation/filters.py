"""The cooperation area's FilterSets: the list pages, the figures and the API filter through them alike."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rencai.cooperation.choices import (
    AgreementStatus,
    BaseStatus,
    FollowUpStatus,
    InstitutionKind,
    Maturity,
    Stage,
    TransferMode,
    VisitKind,
)
from rencai.cooperation.models import (
    Achievement,
    Agreement,
    Base,
    CooperationDatabase,
    Expert,
    Problem,
    Project,
    Report,
    Supervision,
    University,
    Visit,
)
from rencai.core.filters import ScopedFilterSet
from rencai.core.models import DictionaryItem, Region


def _date(label, field_name, lookup):
    return django_filters.DateFilter(label=label, field_name=field_name, lookup_expr=lookup,
                                     widget=forms.DateInput(attrs={"type": "date"}))


def _search(placeholder):
    return django_filters.CharFilter(label=_("搜索"), method="search",
                                     widget=forms.TextInput(attrs={"type": "search", "placeholder": placeholder}))


def _items(code: str):
    return DictionaryItem.objects.filter(dictionary__code=code)


def _region(field_name: str = "region"):
    return django_filters.ModelChoiceFilter(label=_("所属地区"), queryset=Region.objects.all(), method="in_region",
                                            field_name=field_name)


def _university():
    return django_filters.ModelChoiceFilter(label=_("院校"), queryset=University.objects.all())


def _database(kind: str):
    return django_filters.ModelChoiceFilter(label=_("所属库"), field_name="databases",
                                            queryset=CooperationDatabase.objects.filter(kind=kind))


def _words(queryset, value, *fields):
    """Rows holding every word of ``value`` (split at spaces) in one of ``fields``."""
    for word in value.split():
        query = Q()
        for name in fields:
            query |= Q(**{f"{name}__icontains": word})
        queryset = queryset.filter(query)
    return queryset


class UniversityFilterSet(ScopedFilterSet):
    q = _search(_("院校名称、简称或城市"))
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=InstitutionKind.choices)
    province = django_filters.CharFilter(label=_("所在省份"), lookup_expr="contains")
    tag = django_filters.ModelChoiceFilter(label=_("院校标签"), field_name="tags", queryset=_items("university_tag"))

    primary = ("q", "kind", "tag")

    class Meta:
        model = University
        fields = ["q", "kind", "province", "tag"]

    def search(self, queryset, name, value):
        return _words(queryset, value, "name", "short_name", "city")


class AgreementFilterSet(ScopedFilterSet):
    q = _search(_("协议名称、编号或签约方"))
    university = _university()
    status = django_filters.ChoiceFilter(label=_("状态"), choices=AgreementStatus.choices)
    cooperation_class = django_filters.ModelChoiceFilter(label=_("合作内容"), field_name="classes",
                                                         queryset=_items("cooperation_class"))
    region = _region()
    signed_from = _date(_("签约日期从"), "signed_on", "gte")
    signed_to = _date(_("签约日期至"), "signed_on", "lte")
    expiring = django_filters.BooleanFilter(label=_("即将到期"), method="only_expiring",
                                            widget=forms.CheckboxInput)

    primary = ("q", "university", "status", "region")

    class Meta:
        model = Agreement
        fields = ["q", "university", "status", "cooperation_class", "region", "signed_from", "signed_to", "expiring"]

    def search(self, queryset, name, value):
        return _words(queryset, value, "title", "number", "partner")

    def only_expiring(self, queryset, name, value):
        if not value:
            return queryset
        from rencai.cooperation.services import expiring_agreements

        return expiring_agreements(queryset)


class ProjectFilterSet(ScopedFilterSet):
    q = _search(_("项目名称、企业、包联领导或责任单位"))
    stage = django_filters.MultipleChoiceFilter(label=_("项目阶段"), choices=Stage.choices,
                                                widget=forms.CheckboxSelectMultiple)
    university = _university()
    line = django_filters.ModelChoiceFilter(label=_("合作类别"), queryset=_items("cooperation_class"))
    region = _region()
    agreement = django_filters.NumberFilter(label=_("协议 ID"), field_name="agreement", widget=forms.HiddenInput)
    database = _database("project")
    landed = django_filters.BooleanFilter(label=_("已落地"), field_name="landed_on", lookup_expr="isnull",
                                          exclude=True, widget=forms.CheckboxInput)
    signed_from = _date(_("签约日期从"), "signed_on", "gte")
    signed_to = _date(_("签约日期至"), "signed_on", "lte")
    landed_from = _date(_("落地日期从"), "landed_on", "gte")
    landed_to = _date(_("落地日期至"), "landed_on", "lte")

    primary = ("q", "stage", "university", "region")

    class Meta:
        model = Project
        fields = ["q", "stage", "university", "line", "region", "agreement", "database", "landed", "signed_from",
                  "signed_to", "landed_from", "landed_to"]

    def search(self, queryset, name, value):
        return _words(queryset, value, "name", "enterprise", "leader", "responsible_unit")

    def filter_queryset(self, queryset):
        # 已落地 unticked means "no filter", not "not landed".
        if self.form.cleaned_data.get("landed") is False:
            self.form.cleaned_data["landed"] = None
        return super().filter_queryset(queryset)


class ReportFilterSet(ScopedFilterSet):
    q = _search(_("项目名称或本期工作"))
    region = _region("project__region")
    period_from = _date(_("报告期从"), "period", "gte")
    period_to = _date(_("报告期至"), "period", "lte")
    project = django_filters.NumberFilter(label=_("项目 ID"), field_name="project", widget=forms.HiddenInput)

    primary = ("q", "region", "period_from", "period_to")

    class Meta:
        model = Report
        fields = ["q", "region", "period_from", "period_to", "project"]

    def search(self, queryset, name, value):
        return _words(queryset, value, "project__name", "work", "blockers")


class SupervisionFilterSet(ScopedFilterSet):
    q = _search(_("项目名称、督导人员或督导情况"))
    region = _region("project__region")
    date_from = _date(_("督导日期从"), "on", "gte")
    date_to = _date(_("督导日期至"), "on", "lte")
    project = django_filters.NumberFilter(label=_("项目 ID"), field_name="project", widget=forms.HiddenInput)

    primary = ("q", "region", "date_from", "date_to")

    class Meta:
        model = Supervision
        fields = ["q", "region", "date_from", "date_to", "project"]

    def search(self, queryset, name, value):
        return _words(queryset, value, "project__name", "inspector", "findings")


class ProblemFilterSet(ScopedFilterSet):
    STATES = (("open", _("未整改")), ("overdue", _("逾期未整改")), ("closed", _("已整改")))

    q = _search(_("问题或项目名称"))
    state = django_filters.ChoiceFilter(label=_("整改状态"), choices=STATES, method="in_state")
    region = _region("supervision__project__region")

    primary = ("q", "state", "region")

    class Meta:
        model = Problem
        fields = ["q", "state", "region"]

    def search(self, queryset, name, value):
        return _words(queryset, value, "description", "supervision__project__name")

    def in_state(self, queryset, name, value):
        if value == "closed":
            return queryset.filter(closed_on__isnull=False)
        if value == "overdue":
            return queryset.filter(closed_on__isnull=True, deadline__lt=timezone.localdate())
        return queryset.filter(closed_on__isnull=True)


class BaseFilterSet(ScopedFilterSet):
    q = _search(_("基地名称或承建单位"))
    kind = django_filters.ModelChoiceFilter(label=_("基地类型"), queryset=_items("cooperation_base"))
    status = django_filters.ChoiceFilter(label=_("状态"), choices=BaseStatus.choices)
    university = _university()
    region = _region()

    primary = ("q", "kind", "status", "region")

    class Meta:
        model = Base
        fields = ["q", "kind", "status", "university", "region"]

    def search(self, queryset, name, value):
        return _words(queryset, value, "name", "host_unit")


class ExpertFilterSet(ScopedFilterSet):
    q = _search(_("姓名、专长领域或工作单位"))
    university = _university()
    database = _database("expert")
    available = django_filters.BooleanFilter(label=_("可对接服务"), widget=forms.CheckboxInput, method="only_true")
    region = _region("talent__region")

    primary = ("q", "university", "database", "region")

    class Meta:
        model = Expert
        fields = ["q", "university", "database", "available", "region"]

    def search(self, queryset, name, value):
        """The registry's search over the experts' talents (name, pinyin, initials, unit, fields),
        or the words in their expertise."""
        from rencai.talents import search
        from rencai.talents.models import Talent

        found = search.apply_search(Talent.objects.all(), value).order_by().values("pk")
        return queryset.filter(Q(talent__in=found) | Q(pk__in=_words(Expert.objects.all(), value, "expertise")
                                                       .values("pk")))

    def only_true(self, queryset, name, value):
        return queryset.filter(**{name: True}) if value else queryset


class AchievementFilterSet(ScopedFilterSet):
    q = _search(_("成果名称、技术领域、完成人或简介"))
    university = _university()
    maturity = django_filters.ChoiceFilter(label=_("成熟度"), choices=Maturity.choices)
    transfer_mode = django_filters.ChoiceFilter(label=_("转化方式"), choices=TransferMode.choices)
    database = _database("achievement")
    price_max = django_filters.NumberFilter(label=_("价格不高于（万元）"), field_name="price_low", lookup_expr="lte")

    primary = ("q", "university", "maturity", "transfer_mode")

    class Meta:
        model = Achievement
        fields = ["q", "university", "maturity", "transfer_mode", "database", "price_max"]

    def search(self, queryset, name, value):
        return _words(queryset, value, "title", "field", "owners", "summary")


class VisitFilterSet(ScopedFilterSet):
    q = _search(_("院校、人员或商定事项"))
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=VisitKind.choices)
    university = _university()
    region = _region()
    follow_up = django_filters.ChoiceFilter(label=_("跟进事项"), choices=FollowUpStatus.choices,
                                            field_name="follow_ups__status", distinct=True)

    primary = ("q", "kind", "university", "region")

    class Meta:
        model = Visit
        fields = ["q", "kind", "university", "region", "follow_up"]

    def search(self, queryset, name, value):
        return _words(queryset, value, "university__name", "delegation", "met", "agreed")
