"""The registry's one FilterSet: the list page, the export and the API filter through it alike.

``q`` goes to the search index (``talents.search.apply_search``), which also orders the result best
first; every other filter narrows the rows already in the user's scope. Choices are scoped too: a
county officer is offered only the regions and liaison officers of their own county.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rencai.core.forms import region_choices
from rencai.core.models import DictionaryItem, Region, User
from rencai.core.models.regions import RegionLevel
from rencai.talents import search
from rencai.talents.choices import CATEGORY_DICTIONARY, Gender, TalentKind, TalentStatus, UnitType
from rencai.talents.forms import LiaisonOfficerField, category_choices, liaison_officer_queryset
from rencai.talents.models import Tag, Talent, TalentDatabase


def _items(code: str):
    return DictionaryItem.objects.filter(dictionary__code=code, is_active=True).order_by("sort_order", "code")


def native_place_queryset():
    """籍贯 to filter by: the city and its counties, and every province (a prefix of the place)."""
    city = Region.objects.filter(code=settings.CITY_CODE).values_list("path", flat=True).first() or "/none/"
    return Region.objects.filter(
        Q(path__startswith=city, level__in=[RegionLevel.PREFECTURE, RegionLevel.COUNTY]) | Q(level=RegionLevel.PROVINCE)
    ).order_by("path")


def regions_under(region: Region) -> list[int]:
    """``region`` and the regions under it, as a list of ids: a literal list lets PostgreSQL walk
    the (region, name, id) index in order (see ``core.scope.scope_region_ids``)."""
    return list(Region.objects.filter(path__startswith=region.path).values_list("pk", flat=True))


class LiaisonOfficerFilter(django_filters.ModelChoiceFilter):
    field_class = LiaisonOfficerField


# 「未填写」: the value a dashboard's drill-down sends for records that leave a field empty.
NOT_FILLED = "null"
NOT_FILLED_LABEL = _("未填写")


def _or_not_filled(**kwargs) -> dict:
    return {"null_label": NOT_FILLED_LABEL, "null_value": NOT_FILLED, **kwargs}


class BlankChoiceFilter(django_filters.ChoiceFilter):
    """A choice of a text field, where 「未填写」 is the empty text."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **_or_not_filled(**kwargs))

    def filter(self, qs, value):
        if value == self.null_value:
            return qs.filter(Q(**{self.field_name: ""}) | Q(**{f"{self.field_name}__isnull": True}))
        return super().filter(qs, value)


def _dictionary_filter(label, code: str, **kwargs) -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(label=label, queryset=_items(code), **_or_not_filled(**kwargs))


# Dates a filter may name: beyond them a moment would not convert to UTC (year 1, 9999).
EARLIEST_DAY, LATEST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def start_of_day(day: dt.date) -> dt.datetime:
    """The first moment of ``day`` in the site's time zone (a day out of range is taken as
    the nearest in range: no record is that old or that new)."""
    day = min(max(day, EARLIEST_DAY), LATEST_DAY)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def years_ago(today: dt.date, years: int) -> dt.date:
    """The date ``years`` before ``today`` (29 February falls back to the 28th)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


class TalentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("搜索"), method="search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("姓名、拼音、首字母、单位、研究方向、身份证号或手机号")}),
    )
    kind = django_filters.ChoiceFilter(label=_("人才类别"), choices=TalentKind.choices)
    category = django_filters.ModelChoiceFilter(
        label=_("人才分类"), queryset=DictionaryItem.objects.filter(dictionary__code__in=CATEGORY_DICTIONARY.values()),
        **_or_not_filled(),
    )
    databases = django_filters.ModelChoiceFilter(
        label=_("所属人才库"), queryset=TalentDatabase.objects.all(), method="in_database",
    )
    tier = _dictionary_filter(_("人才层次"), "talent_tier")
    region = django_filters.ModelChoiceFilter(label=_("所属地区"), queryset=Region.objects.all(), method="in_region")
    native_place = django_filters.ModelChoiceFilter(
        label=_("籍贯"), queryset=Region.objects.all(), method="native_to", **_or_not_filled(),
    )
    work_province = django_filters.ModelChoiceFilter(
        label=_("工作所在省份"), queryset=Region.objects.filter(level=RegionLevel.PROVINCE).order_by("path"),
        **_or_not_filled(),
    )
    work_city = django_filters.ModelChoiceFilter(
        label=_("工作所在城市"), queryset=Region.objects.filter(level=RegionLevel.PREFECTURE).order_by("path"),
        **_or_not_filled(),
    )
    education = _dictionary_filter(_("最高学历"), "education")
    degree = _dictionary_filter(_("最高学位"), "degree")
    title_level = _dictionary_filter(_("职称级别"), "title_level")
    gender = BlankChoiceFilter(label=_("性别"), choices=Gender.choices)
    ethnicity = _dictionary_filter(_("民族"), "ethnicity")
    political_status = _dictionary_filter(_("政治面貌"), "political_status")
    discipline = _dictionary_filter(_("学科领域"), "discipline")
    unit_type = BlankChoiceFilter(label=_("单位性质"), choices=UnitType.choices)
    age_min = django_filters.NumberFilter(
        label=_("年龄从"), method="age_at_least", min_value=0, max_value=150,
        widget=forms.NumberInput(attrs={"placeholder": _("岁")}),
    )
    age_max = django_filters.NumberFilter(
        label=_("年龄到"), method="age_at_most", min_value=0, max_value=150,
        widget=forms.NumberInput(attrs={"placeholder": _("岁")}),
    )
    registered_from = django_filters.DateFilter(
        label=_("入库日期从"), field_name="created_at", method="registered_since",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    registered_to = django_filters.DateFilter(
        label=_("入库日期到"), field_name="created_at", method="registered_until",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    tags = django_filters.ModelChoiceFilter(label=_("标签"), queryset=Tag.objects.all(), method="tagged")
    status = django_filters.ChoiceFilter(label=_("联络状态"), choices=TalentStatus.choices)
    liaison_officer = LiaisonOfficerFilter(label=_("联络员"), queryset=User.objects.none())

    class Meta:
        model = Talent
        fields = [
            "q", "kind", "category", "databases", "tier", "region", "native_place", "work_province", "work_city",
            "education", "degree", "title_level", "gender", "ethnicity", "political_status", "discipline", "unit_type",
            "age_min", "age_max", "registered_from", "registered_to", "tags", "status", "liaison_officer",
        ]

    # Shown above the fold on the list page; the rest under 「更多条件」.
    primary = ("q", "kind", "category", "region")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # Each filter is set up only if present: the API builds only the filters a request sent
        # (api.filtering.sent_filters_only).
        filters = self.filters
        if user is not None:
            # Another county is not even a choice.
            if "region" in filters:
                filters["region"].queryset = region_choices(user)
            if "liaison_officer" in filters:
                filters["liaison_officer"].queryset = liaison_officer_queryset(user)
        if "native_place" in filters:
            filters["native_place"].queryset = native_place_queryset()
        if "databases" in filters:
            filters["databases"].queryset = TalentDatabase.objects.all()
        if "category" in filters:
            filters["category"].extra["empty_label"] = _("全部")

    @property
    def form(self):
        form = super().form
        if not getattr(form, "_rencai_prepared", False):
            form._rencai_prepared = True
            for field in form.fields.values():
                if isinstance(field, forms.ChoiceField | forms.ModelChoiceField) and not isinstance(field, forms.TypedChoiceField):
                    if getattr(field, "empty_label", None) is not None:
                        field.empty_label = _("全部")
            if "category" in form.fields:
                category = form.fields["category"]
                # Grouped by kind on the widget; the field still validates against its queryset.
                category.widget.choices = category_choices(category.queryset, empty_label=_("全部"))
            for name in ("kind", "status"):
                if name in form.fields:
                    form.fields[name].choices = [("", _("全部")), *[c for c in form.fields[name].choices if c[0] != ""]]
        return form

    def filter_queryset(self, queryset):
        """Every other filter first, the search last: it orders the result, and its count can
        then count the rows every filter keeps (see ``search.SearchResults``)."""
        values = self.form.cleaned_data
        for name, value in values.items():
            if name != "q":
                queryset = self.filters[name].filter(queryset, value)
        if "q" in values:
            queryset = self.filters["q"].filter(queryset, values["q"])
        return queryset

    @property
    def searching(self) -> bool:
        """Whether a search query orders the result (by rank, best first)."""
        return bool(self.is_bound and (self.data.get("q") or "").strip())

    # --- methods --------------------------------------------------------------------------------------
    def search(self, queryset, name, value):
        return search.apply_search(queryset, value)

    def in_region(self, queryset, name, value):
        """The region and every region under it (a city's counties, a county's zones)."""
        return queryset.filter(region__in=regions_under(value))

    def native_to(self, queryset, name, value):
        if value == NOT_FILLED:
            return queryset.filter(native_place__isnull=True)
        return queryset.filter(native_place__in=regions_under(value))

    def registered_since(self, queryset, name, value):
        # From the first moment of the day in the site's time zone: an index range, no function.
        return queryset.filter(created_at__gte=start_of_day(value))

    def registered_until(self, queryset, name, value):
        return queryset.filter(created_at__lt=start_of_day(min(value, LATEST_DAY) + dt.timedelta(days=1)))

    def in_database(self, queryset, name, value):
        return queryset.filter(databases=value)

    def tagged(self, queryset, name, value):
        return queryset.filter(tags=value)

    def age_at_least(self, queryset, name, value):
        # At least N years old: born on or before this day N years ago.
        return queryset.filter(birth_date__lte=years_ago(timezone.localdate(), int(value)))

    def age_at_most(self, queryset, name, value):
        # At most N years old: not yet N+1, i.e. born after this day N+1 years ago.
        return queryset.filter(birth_date__gt=years_ago(timezone.localdate(), int(value) + 1))


class TalentDatabaseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")
    kind = django_filters.ChoiceFilter(label=_("适用人才类别"), choices=TalentKind.choices)
    is_active = django_filters.BooleanFilter(label=_("启用"))

    class Meta:
        model = TalentDatabase
        fields = ["q", "kind", "is_active"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value) | Q(description__icontains=value))


class TagFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")

    class Meta:
        model = Tag
        fields = ["q"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)

    def search(self, queryset, name, value):
        return queryset.filter(name__icontains=value)
