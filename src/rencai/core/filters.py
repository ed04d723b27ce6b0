"""FilterSets: one per model, serving the list page, the export and the API alike."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rencai.core.models import Dictionary, DictionaryItem, OrgUnit, Region
from rencai.core.models.orgunits import OrgUnitKind
from rencai.core.models.regions import RegionLevel


class ScopedFilterSet(django_filters.FilterSet):
    """A business list's filters: region choices narrowed to what the user covers (another county
    is not even a choice), 「全部」 as every choice list's empty entry, and a region filter that
    takes the regions under the one chosen. Every filter optional, since the API builds only the
    filters a request sent (``api.filtering.sent_filters_only``)."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for declared in self.filters.values():
            if isinstance(declared, django_filters.ModelChoiceFilter | django_filters.ChoiceFilter):
                declared.extra["empty_label"] = _("全部")
        if user is not None and "region" in self.filters:
            from rencai.core.forms import region_choices

            self.filters["region"].queryset = region_choices(user)

    def in_region(self, queryset, name, value):
        """The region and every region under it."""
        return queryset.filter(**{f"{name}__in": Region.objects.filter(path__startswith=value.path).values("pk")})


class OrgUnitFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")
    region = django_filters.ModelChoiceFilter(
        label=_("所属地区"), queryset=Region.objects.all(), method="in_region"
    )
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=OrgUnitKind.choices)

    class Meta:
        model = OrgUnit
        fields = ["q", "region", "kind"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and "region" in self.filters:  # the API builds only the filters sent
            from rencai.core.forms import region_choices

            # Offer only regions the user covers: another county is not even a choice.
            self.filters["region"].queryset = region_choices(user)

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(contact_name__icontains=value) | Q(address__icontains=value))

    def in_region(self, queryset, name, value):
        return queryset.filter(region__path__startswith=value.path)


class RegionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")
    level = django_filters.ChoiceFilter(label=_("级别"), choices=RegionLevel.choices)
    parent = django_filters.ModelChoiceFilter(
        label=_("上级区划"), to_field_name="code", method="under_parent",
        queryset=Region.objects.filter(level__in=[RegionLevel.PROVINCE, RegionLevel.PREFECTURE]).order_by("path"),
    )

    class Meta:
        model = Region
        fields = ["q", "level", "parent"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    def search(self, queryset, name, value):
        value = value.strip()
        if value.isdigit():
            return queryset.filter(code__startswith=value)
        return queryset.filter(name__icontains=value)

    def under_parent(self, queryset, name, value):
        """The direct children of a region, e.g. ``?parent=140800`` → 运城市's counties and zones."""
        return queryset.filter(parent=value)


class DictionaryFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")

    class Meta:
        model = Dictionary
        fields = ["q"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value) | Q(standard__icontains=value))


class DictionaryItemFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")
    is_active = django_filters.BooleanFilter(label=_("启用"))

    class Meta:
        model = DictionaryItem
        fields = ["q", "is_active"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(label__icontains=value))
