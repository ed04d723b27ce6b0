"""Tables of the liaison area: contact records, requests, leads, cadence rules and the worklist.

Related rows are read with the page (``fetch_references`` of the list's queryset, one query per
related model), so a page costs the same number of queries whatever its length.
"""

from __future__ import annotations

import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from rencai.core.scope import user_can
from rencai.core.tables import BaseTable, object_url
from rencai.liaison.choices import RequestStatus
from rencai.liaison.models import CadenceRule, ContactRecord, ContactRequest, ContactState, Lead
from rencai.liaison.schedule import LOST_AFTER
from rencai.talents.choices import TalentStatus
from rencai.talents.models import Talent
from rencai.talents.tables import _ManyColumn


class ContactRecordTable(BaseTable):
    contacted_at = tables.DateTimeColumn(format="Y-m-d H:i", linkify=lambda record: object_url(record))
    talents = _ManyColumn()
    channel = tables.Column()
    reached = tables.BooleanColumn(yesno=(_("是"), _("否")))
    staff = tables.Column(order_by=("staff",))
    region = tables.Column(order_by=("region",))
    topics = _ManyColumn()
    summary = tables.Column(attrs={"td": {"class": "text-wrap"}})
    next_contact_date = tables.DateColumn(format="Y-m-d")

    default_columns = ("contacted_at", "talents", "channel", "reached", "staff", "topics", "summary",
                       "next_contact_date")

    class Meta(BaseTable.Meta):
        model = ContactRecord
        fields = ("pk", "contacted_at", "talents", "channel", "reached", "staff", "region", "topics", "summary",
                  "next_contact_date", "actions")
        empty_text = _("没有符合条件的联络记录。")

    def render_summary(self, value):
        return value if len(value) <= 40 else f"{value[:40]}…"


class ContactRequestTable(BaseTable):
    content = tables.Column(linkify=lambda record: object_url(record), attrs={"td": {"class": "text-wrap"}})
    talent = tables.Column(order_by=("talent",))
    contact = tables.Column(verbose_name=_("联络时间"), accessor="contact__contacted_at", order_by=("contact",),
                            linkify=lambda record: object_url(record.contact))
    status = tables.Column(order_by=("status",))
    handler = tables.Column(order_by=("handler",))
    result = tables.Column(attrs={"td": {"class": "text-wrap"}})
    closed_on = tables.DateColumn(format="Y-m-d")

    default_columns = ("content", "talent", "contact", "status", "handler", "result", "closed_on")

    class Meta(BaseTable.Meta):
        model = ContactRequest
        fields = ("pk", "content", "talent", "contact", "status", "handler", "result", "closed_on")
        exclude = ("actions",)
        empty_text = _("没有符合条件的诉求。")

    def render_contact(self, value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")

    def render_status(self, record):
        # A select that saves on change (htmx), for those who may change the contact.
        may_change = user_can(self.user, ContactRequest, "change")
        return render_to_string("liaison/_request_status.html", {"record": record, "may_change": may_change,
                                                                    "status_choices": RequestStatus.choices})

    def value_status(self, record):
        return record.get_status_display()


class LeadTable(BaseTable):
    title = tables.Column(linkify=lambda record: object_url(record))
    kind = tables.Column()
    talent = tables.Column(order_by=("talent",))
    owner = tables.Column(order_by=("owner",))
    status = tables.Column()
    due_date = tables.DateColumn(format="Y-m-d")
    region = tables.Column(order_by=("region",))
    created_at = tables.DateTimeColumn(format="Y-m-d H:i")

    default_columns = ("title", "kind", "talent", "owner", "status", "due_date", "created_at")

    class Meta(BaseTable.Meta):
        model = Lead
        fields = ("pk", "title", "kind", "talent", "owner", "status", "due_date", "region", "created_at", "actions")
        empty_text = _("没有符合条件的线索。")


class CadenceRuleTable(BaseTable):
    name = tables.Column(linkify=lambda record: object_url(record))
    tier = tables.Column(order_by=("tier",), default=_("不限"))
    category = tables.Column(order_by=("category",), default=_("不限"))
    database = tables.Column(order_by=("database",), default=_("不限"))
    interval_days = tables.Column(attrs={"td": {"class": "text-end"}})
    sort_order = tables.Column()
    is_active = tables.BooleanColumn(yesno=(_("是"), _("否")))

    class Meta(BaseTable.Meta):
        model = CadenceRule
        fields = ("pk", "name", "tier", "category", "database", "interval_days", "sort_order", "is_active", "actions")
        empty_text = _("还没有联络周期规则：所有人才每 90 天联络一次。")


class WorklistTable(BaseTable):
    """A worklist: read in the order of its index (next due, talent), so not sortable by column."""

    talent = tables.Column(linkify=lambda record: reverse("talent_tab", kwargs={"pk": record.talent_id, "tab": "contacts"}))
    region = tables.Column()
    liaison_officer = tables.Column(default=_("未分配"))
    next_due = tables.DateColumn(format="Y-m-d")
    overdue = tables.Column(verbose_name=_("逾期天数"), accessor="next_due", attrs={"td": {"class": "text-end"}})
    last_contact_at = tables.DateTimeColumn(format="Y-m-d", default=_("从未联系上"))
    failed_attempts = tables.Column(attrs={"td": {"class": "text-end"}})
    interval_days = tables.Column(attrs={"td": {"class": "text-end"}})
    status = tables.Column(verbose_name=_("人才状态"), accessor="talent__status")
    confirm = tables.Column(verbose_name="", accessor="pk", exclude_from_export=True, attrs={"td": {"class": "text-end"}})

    default_columns = ("talent", "region", "liaison_officer", "next_due", "overdue", "last_contact_at",
                       "failed_attempts", "status", "confirm")

    class Meta(BaseTable.Meta):
        model = ContactState
        orderable = False
        fields = ("pk", "talent", "region", "liaison_officer", "next_due", "overdue", "last_contact_at",
                  "failed_attempts", "interval_days", "status", "confirm")
        exclude = ("actions",)
        empty_text = _("这份清单上没有人才。")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = timezone.localdate()
        self.may_confirm_lost = user_can(self.user, Talent, "change")

    def render_overdue(self, value):
        days = (self.today - value).days
        return days if days > 0 else "—"

    def render_status(self, record):
        return record.talent.get_status_display()

    def render_confirm(self, record):
        if not self.may_confirm_lost or record.failed_attempts < LOST_AFTER or record.talent.status == TalentStatus.LOST:
            return ""
        return format_html(
            '<button type="submit" class="btn btn-sm btn-outline-danger" formaction="{}" name="talent" value="{}" '
            'data-testid="confirm-lost">{}</button>',
            reverse("worklist_confirm_lost"), record.talent_id, _("确认失联"))
