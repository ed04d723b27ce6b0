"""Forms and filters of campaigns (推送活动), opt-outs (退订) and the outbox (发件箱).

The campaign form offers the user's own saved views of the talent list as the audience and
copies the chosen view's filters onto the campaign; it refuses a template with an unknown
placeholder, naming it.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from rencai.core.forms import BaseModelForm
from rencai.core.models import Region
from rencai.liaison import campaigns
from rencai.liaison.filters import _ScopedFilterSet
from rencai.liaison.models_campaigns import (
    Campaign,
    CampaignChannel,
    CampaignKind,
    CampaignStatus,
    OptOut,
    OptOutSource,
    OutboxMessage,
)
from rencai.talents import services as talent_services
from rencai.talents.filters import regions_under
from rencai.talents.models import Talent

TALENT_LIST_KEY = Talent._meta.label_lower
KEEP_AUDIENCE = "_keep"


class CampaignForm(BaseModelForm):
    audience_view = forms.ChoiceField(
        label=_("发送对象"), required=False,
        help_text=_("从您在人才库列表中保存的视图中选择；按该视图的筛选条件，在您的数据范围内确定发送对象。"),
    )

    class Meta:
        model = Campaign
        fields = ("name", "kind", "channel", "region", "subject", "body")
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}

    field_order = ("name", "kind", "channel", "region", "audience_view", "subject", "body")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.order_fields(self.field_order)
        self.views = {v["id"]: v for v in talent_services.saved_views(user, TALENT_LIST_KEY)}
        choices = [(view_id, view["name"]) for view_id, view in self.views.items()]
        instance = self.instance
        if instance.pk is not None and (instance.audience_query or instance.talents.exists() or instance.region_only):
            choices.insert(0, (KEEP_AUDIENCE, _("保持不变：%(name)s") % {"name": instance.audience_name or _("指定人才")}))
            self.fields["audience_view"].initial = KEEP_AUDIENCE
        self.fields["audience_view"].choices = [("", "---------"), *choices]
        self.fields["body"].help_text = _("可用占位符：%(names)s") % {
            "names": "、".join(f"{{{p.name}}}（{p.help}）" for p in campaigns.PLACEHOLDERS.values())}
        self.style_widgets()

    def clean_audience_view(self):
        value = self.cleaned_data.get("audience_view")
        if value == KEEP_AUDIENCE:
            return value
        if not value:
            if not self.views:
                raise forms.ValidationError(_("您还没有保存人才库视图：请先在人才库列表中筛选，再“保存当前视图”。"))
            raise forms.ValidationError(_("请选择发送对象。"))
        return value

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None and not self.instance.is_draft:
            raise forms.ValidationError(_("已开始发送的推送活动不能修改。"))
        errors = campaigns.check_campaign_template(
            kind=cleaned.get("kind"), channel=cleaned.get("channel"), subject=cleaned.get("subject") or "",
            body=cleaned.get("body") or "",
        )
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name, message)
        return cleaned

    def save(self, commit=True):
        campaign = super().save(commit=False)
        view = self.views.get(self.cleaned_data.get("audience_view"))
        if view is not None:
            # The view replaces the audience: a greeting draft's list of talents is dropped, and
            # the view (the editing user's own) is resolved in the editing user's scope.
            campaign.audience_name, campaign.audience_query, campaign.region_only = view["name"], view["query"], False
            campaign.audience_by = self.user
        if campaign.pk is None or campaign.created_by_id is None:
            campaign.created_by = self.user
        if commit:
            campaign.save()
            self.save_m2m()
        return campaign

    def _save_m2m(self):
        super()._save_m2m()
        if self.views.get(self.cleaned_data.get("audience_view")) is not None:
            self.instance.talents.clear()


class OptOutForm(BaseModelForm):
    """Staff entry of an opt-out (the talent asked by phone, in a letter …)."""

    class Meta:
        model = OptOut
        fields = ("talent", "channel", "note")
        widgets = {"talent": forms.NumberInput(attrs={"min": 1})}
        labels = {"talent": _("人才编号")}
        help_texts = {"talent": _("人才档案页地址中的编号；从人才档案页进入时已填好。")}


# --- filters -------------------------------------------------------------------------------------------
class CampaignFilterSet(_ScopedFilterSet):
    region = django_filters.ModelChoiceFilter(label=_("所属地区"), queryset=Region.objects.all(), method="in_region")
    q = django_filters.CharFilter(label=_("名称"), field_name="name", lookup_expr="icontains")
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=CampaignKind.choices, empty_label=_("全部"))
    channel = django_filters.ChoiceFilter(label=_("发送渠道"), choices=CampaignChannel.choices, empty_label=_("全部"))
    status = django_filters.ChoiceFilter(label=_("状态"), choices=CampaignStatus.choices, empty_label=_("全部"))

    class Meta:
        model = Campaign
        fields = ["q", "kind", "channel", "status", "region"]


class OptOutFilterSet(_ScopedFilterSet):
    region = django_filters.ModelChoiceFilter(label=_("所属地区"), queryset=Region.objects.all(), method="in_region")
    q = django_filters.CharFilter(label=_("姓名"), field_name="talent__name", lookup_expr="startswith")
    channel = django_filters.ChoiceFilter(label=_("退订渠道"), choices=CampaignChannel.choices, empty_label=_("全部"))
    source = django_filters.ChoiceFilter(label=_("来源"), choices=OptOutSource.choices, empty_label=_("全部"))

    class Meta:
        model = OptOut
        fields = ["q", "channel", "source", "region"]

    def in_region(self, queryset, name, value):
        return queryset.filter(talent__region__in=regions_under(value))


class OutboxFilterSet(_ScopedFilterSet):
    region = django_filters.ModelChoiceFilter(label=_("所属地区"), queryset=Region.objects.all(), method="in_region")
    channel = django_filters.ChoiceFilter(label=_("渠道"), choices=CampaignChannel.choices, empty_label=_("全部"))
    campaign = django_filters.NumberFilter(label=_("推送活动编号"), field_name="campaign")

    class Meta:
        model = OutboxMessage
        fields = ["channel", "campaign", "region"]
