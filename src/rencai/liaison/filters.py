"""The liaison area's FilterSets: the list pages, the exports and the API filter through them alike.

Choices are scoped like the registry's: a county officer is offered only their own county's
regions and staff.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rencai.core.filters import ScopedFilterSet
from rencai.core.models import DictionaryItem, Region, User
from rencai.liaison.choices import Channel, LeadKind, LeadStatus, RequestStatus
from rencai.liaison.models import ContactRecord, ContactRequest, Lead
from rencai.talents.filters import regions_under
from rencai.talents.forms import liaison_officer_queryset


class _ScopedFilterSet(ScopedFilterSet):
    """Region and staff choices narrowed to what the user covers (``staff_filters`` name the
    filters offering staff)."""

    staff_filters: tuple[str, ...] = ()

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        if user is not None:
            for name in self.staff_filters:
                if name in self.filters:
                    self.filters[name].queryset = liaison_officer_queryset(user)

    def in_region(self, queryset, name, value):
        """The region and every region under it, as a literal list of ids (see ``regions_under``)."""
        return queryset.filter(region__in=regions_under(value))


def _date_input():
    return forms.DateInput(attrs={"type": "date"})


class ContactRecordFilterSet(_ScopedFilterSet):
    q = django_filters.CharFilter(
        label=_("搜索"), method="search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("联络内容或联络对象姓名")}),
    )
    channel = django_filters.ChoiceFilter(label=_("联络方式"), choices=Channel.choices, empty_label=_("全部"))
    region = django_filters.ModelChoiceFilter(label=_("所属地区"), queryset=Region.objects.all(), method="in_region")
    staff = django_filters.ModelChoiceFilter(label=_("联络人员"), queryset=User.objects.none())
    topic = django_filters.ModelChoiceFilter(
        label=_("话题"), field_name="topics",
        queryset=DictionaryItem.objects.filter(dictionary__code="contact_topic", is_active=True).order_by("sort_order"),
    )
    reached = django_filters.BooleanFilter(label=_("已联系上"))
    talent = django_filters.NumberFilter(label=_("人才 ID"), field_name="talents", widget=forms.HiddenInput)
    date_from = django_filters.DateFilter(label=_("联络日期从"), field_name="contacted_at__date", lookup_expr="gte",
                                          widget=_date_input())
    date_to = django_filters.DateFilter(label=_("联络日期到"), field_name="contacted_at__date", lookup_expr="lte",
                                        widget=_date_input())
    open_requests = django_filters.BooleanFilter(label=_("有未办结诉求"), method="with_open_requests")

    staff_filters = ("staff",)
    primary = ("q", "channel", "region", "date_from", "date_to")

    class Meta:
        model = ContactRecord
        fields = ["q", "channel", "region", "staff", "topic", "reached", "talent", "date_from", "date_to",
                  "open_requests"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        matching = ContactRecord.talents.through.objects.filter(talent__name__contains=value).values("contactrecord_id")
        return queryset.filter(Q(summary__contains=value) | Q(pk__in=matching))

    def with_open_requests(self, queryset, name, value):
        open_ = ContactRequest.objects.filter(status__in=[RequestStatus.OPEN, RequestStatus.IN_PROGRESS])
        condition = Q(pk__in=open_.values("contact_id"))
        return queryset.filter(condition) if value else queryset.exclude(condition)


class ContactRequestFilterSet(_ScopedFilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")
    status = django_filters.ChoiceFilter(label=_("办理状态"), choices=RequestStatus.choices, empty_label=_("全部"))
    handler = django_filters.ModelChoiceFilter(label=_("承办人"), queryset=User.objects.none())
    region = django_filters.ModelChoiceFilter(label=_("所属地区"), queryset=Region.objects.all(), method="in_region")

    staff_filters = ("handler",)
    primary = ("q", "status", "handler", "region")

    class Meta:
        model = ContactRequest
        fields = ["q", "status", "handler", "region"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(content__contains=value) | Q(talent__name__contains=value))

    def in_region(self, queryset, name, value):
        return queryset.filter(contact__region__in=regions_under(value))


class LeadFilterSet(_ScopedFilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")
    kind = django_filters.ChoiceFilter(label=_("线索类型"), choices=LeadKind.choices, empty_label=_("全部"))
    status = django_filters.ChoiceFilter(label=_("状态"), choices=LeadStatus.choices, empty_label=_("全部"))
    owner = django_filters.ModelChoiceFilter(label=_("负责人"), queryset=User.objects.none())
    region = django_filters.ModelChoiceFilter(label=_("所属地区"), queryset=Region.objects.all(), method="in_region")
    talent = django_filters.NumberFilter(label=_("人才 ID"), field_name="talent", widget=forms.HiddenInput)
    due_before = django_filters.DateFilter(label=_("期限不晚于"), field_name="due_date", lookup_expr="lte",
                                           widget=_date_input())

    staff_filters = ("owner",)
    primary = ("q", "kind", "status", "owner")

    class Meta:
        model = Lead
        fields = ["q", "kind", "status", "owner", "region", "talent", "due_before"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(title__contains=value) | Q(description__contains=value) | Q(talent__name__contains=value))
