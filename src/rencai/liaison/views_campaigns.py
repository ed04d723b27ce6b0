"""Pages of campaigns and greetings (推送与问候), mounted at /liaison/campaigns/.

For staff (signed in, within data scope): campaigns declared on the generic views (list, add,
edit and delete while a draft, detail with the preview of the first recipients' messages, the
status of each recipient and the 发送 / 停止 buttons), the opt-out register (list, staff entry;
never edited or deleted: an opt-out holds for good), the outbox of SMS and WeChat messages, and
the greetings worklist. Public (no sign-in), under /join/unsubscribe/: the page an e-mail's
unsubscribe link opens; it asks before it records (mail scanners follow links).
"""

from __future__ import annotations

import django_tables2 as tables
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from rencai.core import audit
from rencai.core.forms import region_choices
from rencai.core.jobs import enqueue, get_kind
from rencai.core.models.audit import AuditAction
from rencai.core.scope import get_object_or_404_in_scope, user_can
from rencai.core.tables import BaseTable, object_url
from rencai.core.views.generic import ViewSet
from rencai.liaison import campaigns, greetings
from rencai.liaison.forms_campaigns import (
    CampaignFilterSet,
    CampaignForm,
    OptOutFilterSet,
    OptOutForm,
    OutboxFilterSet,
)
from rencai.liaison.models_campaigns import (
    Campaign,
    CampaignChannel,
    CampaignRecipient,
    CampaignStatus,
    OptOut,
    OptOutSource,
    OutboxMessage,
    RecipientStatus,
)
from rencai.liaison.views_intake import _city_name
from rencai.talents.models import Talent

TEMPLATES = "liaison/campaigns/"
RECIPIENTS_SHOWN = 100


# --- tables ----------------------------------------------------------------------------------------------
class CampaignTable(BaseTable):
    name = tables.Column(linkify=lambda record: object_url(record))
    kind = tables.Column()
    channel = tables.Column()
    region = tables.Column(order_by=("region",))
    audience_name = tables.Column()
    status = tables.Column()
    occasion_date = tables.DateColumn(format="Y-m-d")
    started_at = tables.DateTimeColumn(format="Y-m-d H:i")
    created_at = tables.DateTimeColumn(format="Y-m-d H:i")

    default_columns = ("name", "kind", "channel", "region", "audience_name", "status", "started_at")

    class Meta(BaseTable.Meta):
        model = Campaign
        fields = ("pk", "name", "kind", "channel", "region", "audience_name", "status", "occasion_date", "started_at",
                  "created_at")
        exclude = ("actions",)
        empty_text = gettext_lazy("还没有推送活动。")


class OptOutTable(BaseTable):
    talent = tables.Column(linkify=lambda record: object_url(record.talent), order_by=("talent__name",))
    channel = tables.Column()
    source = tables.Column()
    note = tables.Column()
    created_at = tables.DateTimeColumn(verbose_name=gettext_lazy("退订时间"), format="Y-m-d H:i",
                                       linkify=lambda record: object_url(record))

    class Meta(BaseTable.Meta):
        model = OptOut
        fields = ("pk", "talent", "channel", "source", "note", "created_at")
        exclude = ("actions",)
        empty_text = gettext_lazy("没有退订记录。")


class MaskedAddressColumn(tables.Column):
    """An outbox address shown like a mobile number on the talent's page: masked."""

    def render(self, value, record):
        return mask_address(value)

    def value(self, value, record):
        return mask_address(value)


def mask_address(value: str) -> str:
    """138****0001 for a number, the first and last characters of a shorter account."""
    value = value or ""
    if len(value) > 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return value[:1] + "***" if value else ""


class OutboxTable(BaseTable):
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", linkify=lambda record: object_url(record))
    channel = tables.Column()
    talent = tables.Column(order_by=("talent__name",))
    address = MaskedAddressColumn(orderable=False)
    campaign = tables.Column(linkify=lambda record: object_url(record.campaign) if record.campaign_id else None,
                             order_by=("campaign",))
    region = tables.Column(order_by=("region",))

    class Meta(BaseTable.Meta):
        model = OutboxMessage
        fields = ("pk", "created_at", "channel", "talent", "address", "campaign", "region")
        exclude = ("actions",)
        empty_text = gettext_lazy("发件箱中没有消息。")


# --- campaigns ------------------------------------------------------------------------------------------------
class CampaignViews(ViewSet):
    model = Campaign
    url_prefix = ""
    queryset = Campaign.objects.fetch_references("region")
    filterset = CampaignFilterSet
    table = CampaignTable
    form = CampaignForm
    actions = ("list", "add", "edit", "delete", "detail", "changelog")
    ordering = ("-created_at", "-id")
    detail_fields = ("name", "kind", "channel", "region", "audience_name", "status", "occasion_date", "subject",
                     "body", "sent_by", "started_at", "finished_at", "created_by", "created_at")
    detail_template = TEMPLATES + "campaign_detail.html"
    list_template = TEMPLATES + "campaign_list.html"

    def get_object_queryset(self, request):
        return Campaign.objects.select_related("region", "job", "sent_by", "created_by")

    def get_initial(self, request):
        regions = list(region_choices(request.user)[:2])
        return {"region": regions[0].pk} if len(regions) == 1 else {}

    def before_save(self, request, obj, form, created):
        if not created and Campaign.objects.filter(pk=obj.pk).exclude(status=CampaignStatus.DRAFT).exists():
            raise ValidationError(_("已开始发送的推送活动不能修改。"))

    def delete_object(self, request, obj):
        if not obj.is_draft:
            raise PermissionDenied(_("已开始发送的推送活动不能删除。"))
        obj.delete()

    def get_list_context(self, request, listing):
        return {
            "greeting_url": reverse("greeting_list"),
            "optout_url": reverse("optout_list") if user_can(request.user, OptOut, "view") else None,
            "outbox_url": reverse("outbox_list") if user_can(request.user, OutboxMessage, "view") else None,
        }

    def get_detail_context(self, request, obj):
        may_change = user_can(request.user, Campaign, "change")
        # Names and rendered messages are talent data: shown only to users who may view talents.
        may_see_talents = user_can(request.user, Talent, "view")
        context = {
            "may_see_talents": may_see_talents,
            "campaign": obj,
            "counts": campaigns.status_counts(obj),
            "status_labels": dict(RecipientStatus.choices),
            "may_send": obj.is_draft and may_change,
            "may_stop": obj.status == CampaignStatus.SENDING and may_change,
            "job_url": reverse("job_detail", args=[obj.job_id]) if obj.job_id else None,
        }
        if obj.is_draft:
            try:
                if may_see_talents:
                    context["preview"] = campaigns.preview(obj)
                else:
                    campaigns.check_template(obj.subject)
                    campaigns.check_template(obj.body)
                context["audience_size"] = campaigns.audience(obj).count()
            except ValidationError as exc:
                context["template_errors"] = exc.messages
            if not context.get("template_errors"):
                try:
                    campaigns.check_public_url(obj)
                except ValidationError as exc:
                    context["send_warning"] = exc.messages
        elif not may_see_talents:
            context["recipients"] = []
        else:
            wanted = request.GET.get("status")
            rows = (CampaignRecipient.objects.filter(campaign=obj).select_related("talent")
                    .only("status", "attempts", "sent_at", "error", "talent__name").order_by("id"))
            if wanted in RecipientStatus.values:
                rows = rows.filter(status=wanted)
            context["recipients"] = list(rows[:RECIPIENTS_SHOWN])
            context["recipient_filter"] = wanted
            context["recipients_shown"] = RECIPIENTS_SHOWN
        return context


def _campaign_action(request, pk, action) -> Campaign | None:
    """Run ``action`` on a campaign the user may change; its refusal becomes a message."""
    campaign = get_object_or_404_in_scope(Campaign, request.user, "change", pk=pk)
    try:
        action(campaign, user=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return None
    return campaign


@login_required
@require_POST
def campaign_send(request, pk):
    """「发送」: queue the send of a draft as a background job (once the preview is confirmed)."""
    if not request.POST.get("confirm"):
        get_object_or_404_in_scope(Campaign, request.user, "change", pk=pk)
        messages.error(request, _("请先核对预览内容并勾选确认，再发送。"))
    elif _campaign_action(request, pk, campaigns.start_sending):
        messages.success(request, _("已开始发送，进度见本页和后台任务。"))
    return redirect("campaign_detail", pk=pk)


@login_required
@require_POST
def campaign_stop(request, pk):
    if _campaign_action(request, pk, campaigns.stop_sending):
        messages.success(request, _("已停止发送，尚未发出的消息不再发送。"))
    return redirect("campaign_detail", pk=pk)


# --- opt-outs and the outbox ------------------------------------------------------------------------------------
class OptOutViews(ViewSet):
    model = OptOut
    url_prefix = "optouts"
    queryset = OptOut.objects.select_related("talent")
    filterset = OptOutFilterSet
    table = OptOutTable
    form = OptOutForm
    # An opt-out holds for good: it is recorded, never edited or removed.
    actions = ("list", "add", "detail", "changelog")
    detail_fields = ("talent", "channel", "source", "campaign", "note", "created_by", "created_at")

    def get_initial(self, request):
        talent = request.GET.get("talent")
        return {"talent": talent} if talent and talent.isdecimal() and talent.isascii() else {}

    def save_object(self, request, obj, form, created):
        # An opt-out already covering the channel is kept as it is; the page then shows that one.
        recorded = campaigns.opt_out(obj.talent, obj.channel, source=OptOutSource.STAFF, user=request.user,
                                     note=obj.note)
        obj.pk = recorded.pk


class OutboxViews(ViewSet):
    model = OutboxMessage
    url_prefix = "outbox"
    queryset = OutboxMessage.objects.fetch_references("region", "talent", "campaign")
    filterset = OutboxFilterSet
    table = OutboxTable
    actions = ("list", "detail")
    detail_fields = ("channel", "talent", "campaign", "region", "created_at")
    detail_template = TEMPLATES + "outbox_detail.html"

    @classmethod
    def model_name(cls) -> str:
        return "outbox"  # outbox_list, outbox_detail

    def get_breadcrumbs(self, request, obj=None, leaf=None):
        crumbs = super().get_breadcrumbs(request, obj, leaf)
        crumbs[1] = (_("发件箱"), self.url("list"))
        return crumbs

    def get_detail_context(self, request, obj):
        context = {"address": mask_address(obj.address), "show_url": None}
        if request.user.can_view_personal:
            if request.GET.get("show") == "1":
                audit.record(AuditAction.VIEW_PERSONAL, obj=obj, changes={"field": "body"}, message=_("查看发件箱消息全文"))
                context.update(address=obj.address, body=obj.body)
            else:
                context["show_url"] = "?show=1"
        return context


# --- greetings ------------------------------------------------------------------------------------------------
@login_required
def greeting_list(request):
    """The coming days' festivals and birthdays in the user's scope, with their drafts."""
    if not user_can(request.user, Campaign, "view"):
        raise PermissionDenied
    spec = get_kind("liaison.greetings")
    return render(request, TEMPLATES + "greeting_list.html", {
        "page_title": _("节日与生日问候"),
        "breadcrumbs": [(_("首页"), reverse("home")), (_("推送活动"), reverse("campaign_list")), (_("节日与生日问候"), None)],
        "work": greetings.worklist(request.user),
        "may_prepare": spec is not None and spec.may_submit(request.user),
    })


@login_required
@require_POST
def greeting_prepare(request):
    """「生成问候草稿」: the daily job, now."""
    spec = get_kind("liaison.greetings")
    if spec is None or not spec.may_submit(request.user):
        raise PermissionDenied
    job = enqueue(spec.kind, {}, request.user)
    messages.success(request, _("已提交生成问候草稿的后台任务。"))
    return redirect("job_detail", pk=job.pk)


# --- the public unsubscribe page ------------------------------------------------------------------------------
@login_not_required
@never_cache
def unsubscribe(request):
    """The page an e-mail's unsubscribe link opens: a confirmation, then the opt-out (POST)."""
    token = request.POST.get("t") if request.method == "POST" else request.GET.get("t")
    target = campaigns.unsubscribe_target(token)
    if target is None:
        raise Http404
    talent, channel = target
    channel_label = dict(CampaignChannel.choices)[channel]
    context = {"city_name": _city_name(), "channel": channel_label, "token": token, "page_title": _("退订")}
    if request.method == "POST":
        campaigns.opt_out(talent, channel, source=OptOutSource.LINK)
        return render(request, TEMPLATES + "unsubscribe_done.html", context)
    return render(request, TEMPLATES + "unsubscribe.html", context)
