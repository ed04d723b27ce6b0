"""FilterSets: one per model, serving the list page, the export and the API alike."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rencai.core.models import OrgUnit, Region
from rencai.core.models.orgunits import OrgUnitKind


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
        if user is not None:
            # Offer only regions the user covers: another county is not even a choice.
            self.filters["region"].queryset = user.scope_regions()

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(contact_name__icontains=value) | Q(address__icontains=value))

    def in_region(self, queryset, name, value):
        return queryset.filter(region__path__startswith=value.path)
