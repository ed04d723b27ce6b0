"""FilterSets of the account and audit pages: one definition serves the page and the export."""

from __future__ import annotations

import django_filters
from django import forms
from django.apps import apps
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rencai.core.auth.forms import StyledFormMixin, deployment_regions
from rencai.core.models import AuditEntry, Region, Role, User
from rencai.core.models.audit import AuditAction


class FilterForm(StyledFormMixin, forms.Form):
    pass


class UserFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")
    role = django_filters.ModelChoiceFilter(
        label=_("角色"), queryset=Role.objects.order_by("id"), field_name="roles", empty_label=_("全部角色"),
    )
    region = django_filters.ModelChoiceFilter(
        label=_("地区"), queryset=Region.objects.all(), method="in_region", empty_label=_("全部地区"),
    )
    is_active = django_filters.BooleanFilter(
        label=_("状态"),
        widget=forms.Select(choices=[("", _("全部")), ("true", _("启用")), ("false", _("停用"))]),
    )

    class Meta:
        model = User
        fields = ["q", "role", "region", "is_active"]
        form = FilterForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["region"].queryset = deployment_regions()

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(username__icontains=value) | Q(full_name__icontains=value)
            | Q(email__icontains=value) | Q(phone__icontains=value)
        )

    def in_region(self, queryset, name, value):
        # Users assigned this region or one above it: both cover the region.
        above = [code for code in value.path.strip("/").split("/") if code]
        return queryset.filter(regions__code__in=above).distinct()


def object_type_names() -> dict[str, str]:
    """Every kind of object that can appear in the log, named in the office's words."""
    names = {model._meta.label_lower: str(model._meta.verbose_name)
             for model in apps.get_models() if not model._meta.auto_created}
    names["url"] = str(_("页面地址"))
    return names


def object_type_choices() -> list[tuple[str, str]]:
    return sorted(((key, f"{name}（{key}）") for key, name in object_type_names().items()), key=lambda c: c[0])


class AuditEntryFilterSet(django_filters.FilterSet):
    since = django_filters.DateTimeFilter(
        label=_("起始时间"), field_name="created_at", lookup_expr="gte",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    until = django_filters.DateTimeFilter(
        label=_("截止时间"), field_name="created_at", lookup_expr="lt",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    actor = django_filters.CharFilter(label=_("操作人账号"), field_name="actor_name", lookup_expr="iexact")
    action = django_filters.ChoiceFilter(label=_("操作"), choices=AuditAction.choices, empty_label=_("全部"))
    object_type = django_filters.ChoiceFilter(label=_("对象类型"), choices=object_type_choices, empty_label=_("全部"))
    object_id = django_filters.CharFilter(label=_("对象编号"), field_name="object_id")
    ip_address = django_filters.CharFilter(label=_("来源地址"), method="from_address")

    class Meta:
        model = AuditEntry
        fields = ["since", "until", "actor", "action", "object_type", "object_id", "ip_address"]
        form = FilterForm

    def from_address(self, queryset, name, value):
        try:
            forms.GenericIPAddressField().clean(value)
        except forms.ValidationError:
            return queryset.none()
        return queryset.filter(ip_address=value)

    def describe(self) -> dict[str, str]:
        """The filters in use, for the export's own audit entry."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {name: str(value) for name, value in self.form.cleaned_data.items() if value not in (None, "")}
