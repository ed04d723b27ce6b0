"""List tables of the cooperation area."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

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
    UniversityContact,
    Visit,
)
from rencai.core.tables import BaseTable, ProtectedColumn, object_url

END = {"td": {"class": "text-end"}}


def _link():
    return lambda record: object_url(record)


def _ref(name: str, **kwargs):
    return tables.Column(order_by=(name,), **kwargs)


class UniversityTable(BaseTable):
    name = tables.Column(linkify=_link())
    kind = tables.Column()
    province = tables.Column()
    city = tables.Column()
    tags = tables.ManyToManyColumn(separator="、", orderable=False)
    is_active = tables.BooleanColumn(yesno=(_("是"), _("否")))

    class Meta(BaseTable.Meta):
        model = University
        fields = ("pk", "name", "short_name", "kind", "province", "city", "tags", "is_active", "actions")
        empty_text = _("还没有合作院校。")


class UniversityContactTable(BaseTable):
    name = tables.Column(linkify=_link())
    university = _ref("university")
    mobile = ProtectedColumn()

    class Meta(BaseTable.Meta):
        model = UniversityContact
        fields = ("pk", "name", "university", "department", "post", "mobile", "office_phone", "email", "actions")


class AgreementTable(BaseTable):
    title = tables.Column(linkify=_link())
    university = _ref("university")
    region = _ref("region")
    signed_on = tables.DateColumn(format="Y-m-d")
    expires_on = tables.DateColumn(format="Y-m-d")
    classes = tables.ManyToManyColumn(separator="、", orderable=False)
    amount = tables.Column(attrs=END)

    default_columns = ("title", "university", "partner", "region", "signed_on", "expires_on", "classes", "amount",
                       "status")

    class Meta(BaseTable.Meta):
        model = Agreement
        fields = ("pk", "title", "number", "university", "partner_kind", "partner", "region", "signed_on",
                  "expires_on", "classes", "amount", "status", "actions")
        empty_text = _("没有符合条件的协议。")


class ProjectTable(BaseTable):
    name = tables.Column(linkify=_link())
    university = _ref("university")
    region = _ref("region")
    line = _ref("line")
    stage = tables.Column()
    stage_on = tables.DateColumn(format="Y-m-d")
    signed_on = tables.DateColumn(format="Y-m-d")
    landed_on = tables.DateColumn(format="Y-m-d")
    amount = tables.Column(attrs=END)

    default_columns = ("name", "university", "region", "line", "stage", "stage_on", "amount", "leader",
                       "responsible_unit")

    class Meta(BaseTable.Meta):
        model = Project
        fields = ("pk", "name", "university", "enterprise", "region", "line", "stage", "stage_on", "signed_on",
                  "landed_on", "amount", "leader", "responsible_unit", "actions")
        empty_text = _("没有符合条件的项目。")


class ReportTable(BaseTable):
    project = tables.Column(linkify=lambda record: object_url(record), order_by=("project",))
    period = tables.DateColumn(format="Y-m")
    percent_done = tables.Column(attrs=END)
    blockers = tables.Column(orderable=False)
    created_by = _ref("created_by", verbose_name=_("填报人"))
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("填报时间"))

    class Meta(BaseTable.Meta):
        model = Report
        fields = ("pk", "project", "period", "percent_done", "blockers", "created_by", "created_at", "actions")
        empty_text = _("没有调度报告。")


class SupervisionTable(BaseTable):
    project = tables.Column(linkify=lambda record: object_url(record), order_by=("project",))
    on = tables.DateColumn(format="Y-m-d")

    class Meta(BaseTable.Meta):
        model = Supervision
        fields = ("pk", "project", "on", "inspector", "actions")
        empty_text = _("没有督导记录。")


class ProblemTable(BaseTable):
    description = tables.Column(linkify=_link(), orderable=False)
    supervision = _ref("supervision", verbose_name=_("督导记录"))
    deadline = tables.DateColumn(format="Y-m-d")
    closed_on = tables.DateColumn(format="Y-m-d", default=_("未整改"))

    class Meta(BaseTable.Meta):
        model = Problem
        fields = ("pk", "description", "supervision", "deadline", "closed_on", "actions")
        empty_text = _("没有整改问题。")


class CooperationBaseTable(BaseTable):
    name = tables.Column(linkify=_link())
    kind = _ref("kind")
    university = _ref("university")
    region = _ref("region")
    established_on = tables.DateColumn(format="Y-m-d")

    class Meta(BaseTable.Meta):
        model = Base
        fields = ("pk", "name", "kind", "host_unit", "university", "region", "established_on", "status", "actions")
        empty_text = _("没有合作基地。")


class ExpertTable(BaseTable):
    talent = tables.Column(linkify=_link(), order_by=("talent__name",))
    university = _ref("university")
    expertise = tables.Column(orderable=False)
    discipline = _ref("discipline")
    available = tables.BooleanColumn(yesno=(_("是"), _("否")))

    class Meta(BaseTable.Meta):
        model = Expert
        fields = ("pk", "talent", "university", "expertise", "discipline", "available", "actions")
        empty_text = _("专家库中没有符合条件的专家。")


class AchievementTable(BaseTable):
    title = tables.Column(linkify=_link())
    university = _ref("university")
    price_low = tables.Column(attrs=END)
    price_high = tables.Column(attrs=END)

    class Meta(BaseTable.Meta):
        model = Achievement
        fields = ("pk", "title", "university", "owners", "field", "maturity", "transfer_mode", "price_low",
                  "price_high", "actions")
        empty_text = _("成果库中没有符合条件的成果。")


class VisitTable(BaseTable):
    university = tables.Column(linkify=_link(), order_by=("university",))
    on = tables.DateColumn(format="Y-m-d")
    region = _ref("region")

    class Meta(BaseTable.Meta):
        model = Visit
        fields = ("pk", "university", "kind", "on", "region", "delegation", "met", "actions")
        empty_text = _("没有走访记录。")


class CooperationDatabaseTable(BaseTable):
    name = tables.Column(linkify=_link())
    is_default = tables.BooleanColumn(yesno=(_("是"), _("否")))
    is_active = tables.BooleanColumn(yesno=(_("是"), _("否")))

    class Meta(BaseTable.Meta):
        model = CooperationDatabase
        fields = ("pk", "name", "code", "kind", "is_default", "is_active", "sort_order", "actions")
