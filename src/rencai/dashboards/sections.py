"""The registry's section of the cockpit (人才结构): headline figures and the distributions."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rencai.dashboards.cockpit import Chart, CockpitQuery, Figure, Item, Section, register_section, start_of
from rencai.dashboards.replica import replicate
from rencai.dashboards.statistics import NOT_FILLED, by_choices, by_county, by_dictionary, by_region, words
from rencai.talents.choices import CATEGORY_DICTIONARY, Gender, TalentKind, TalentStatus, UnitType
from rencai.talents.filters import years_ago
from rencai.talents.models import Talent, TalentDatabase


def same_day_last_year(day: dt.date) -> dt.date:
    return years_ago(day, 1)


def registry_figures(query: CockpitQuery) -> list[Figure]:
    talents = query.tally
    today = query.today
    year_start = dt.date(today.year, 1, 1)
    last_year_day = same_day_last_year(today)
    tomorrow = start_of(today + dt.timedelta(days=1))
    a_year_ago = start_of(last_year_day + dt.timedelta(days=1))
    kinds = talents.grouped("kind")
    tiers = talents.grouped("tier_id")
    total = sum(kinds.values())
    year_ago, new, new_last_year = talents.between("created_at", [
        (None, a_year_ago), (start_of(year_start), tomorrow), (start_of(dt.date(today.year - 1, 1, 1)), a_year_ago)])
    counts = {"total": total, "total_year_ago": year_ago, "native": kinds.get(TalentKind.NATIVE, 0),
              "local": kinds.get(TalentKind.LOCAL, 0), "tiered": total - tiers.get(None, 0),
              "new": new, "new_last_year": new_last_year}
    same_period = _("去年同期")
    return [
        Figure("total", _("人才总数"), counts["total"], counts["total_year_ago"], same_period, query.talent_link()),
        Figure("native", _("在外人才"), counts["native"], link=query.talent_link(kind=TalentKind.NATIVE)),
        Figure("local", _("本土人才"), counts["local"], link=query.talent_link(kind=TalentKind.LOCAL)),
        Figure("tiered", _("高层次人才（A–E 类）"), counts["tiered"]),
        Figure("new", _("今年新增"), counts["new"], counts["new_last_year"], same_period,
               query.period_link(year_start, today)),
    ]


def kinds(query):
    return by_choices(query, "kind", TalentKind.choices)


def categories(query):
    return by_dictionary(query, "category", [CATEGORY_DICTIONARY[TalentKind.NATIVE], CATEGORY_DICTIONARY[TalentKind.LOCAL]])


def databases(query):
    counts = query.tally.linked("databases")
    rows = TalentDatabase.objects.filter(pk__in=list(counts)).order_by("sort_order", "code")
    return [Item(d.name, counts[d.pk], query.talent_link(databases=d.pk)) for d in rows]


def tiers(query):
    return by_dictionary(query, "tier", "talent_tier")


def education(query):
    return by_dictionary(query, "education", "education")


def degrees(query):
    return by_dictionary(query, "degree", "degree")


def title_levels(query):
    return by_dictionary(query, "title_level", "title_level")


# Age bands as offices report them: (label, youngest, oldest) in whole years.
AGE_BANDS = ((_("35岁及以下"), None, 35), (_("36–45岁"), 36, 45), (_("46–55岁"), 46, 55),
             (_("56–60岁"), 56, 60), (_("61岁及以上"), 61, None))


def age_band_births(today: dt.date, youngest: int | None, oldest: int | None) -> tuple[dt.date | None, dt.date | None]:
    """The birth dates ``[first, after)`` of talents aged ``youngest``…``oldest`` on ``today``,
    as the talent list's age filters count them."""
    first = years_ago(today, oldest + 1) + dt.timedelta(days=1) if oldest is not None else None
    after = years_ago(today, youngest) + dt.timedelta(days=1) if youngest is not None else None
    return first, after


def age_bands(query):
    today = query.today
    counts = query.tally.between("birth_date", [age_band_births(today, lo, hi) for _l, lo, hi in AGE_BANDS])
    items = [Item(str(label), n, query.talent_link(age_min=lo, age_max=hi))
             for (label, lo, hi), n in zip(AGE_BANDS, counts, strict=True)]
    unknown = query.tally.narrow(birth_date__isnull=True).count()
    if unknown:
        items.append(Item(_("未填写"), unknown))
    return items


def genders(query):
    return by_choices(query, "gender", Gender.choices)


def ethnicities(query):
    return by_dictionary(query, "ethnicity", "ethnicity", top=10)


def political(query):
    return by_dictionary(query, "political_status", "political_status")


def disciplines(query):
    return by_dictionary(query, "discipline", "discipline", top=15)


def research_fields(query):
    return words(query, "research_fields", top=20)


def native_counties(query):
    return by_county(query, "native_place", "native_place", city_label=_("市本级"), elsewhere_label=_("市外"))


def managing_counties(query):
    return by_county(query, "region", "region", city_label=_("市本级"), elsewhere_label=_("其他"))


def work_provinces(query):
    """By province; those abroad without one as 境外, the others without one as 未填写."""
    items = by_region(query, "work_province", "work_province")
    countries = query.tally.narrow(work_province__isnull=True).grouped("work_country")
    abroad = sum(n for country, n in countries.items() if country not in ("", "中国", None))
    if abroad:
        items.append(Item(_("境外"), abroad))
    if sum(countries.values()) - abroad:
        items.append(Item(_("未填写"), sum(countries.values()) - abroad))
    return items


def work_cities(query):
    return by_region(query, "work_city", "work_city", top=15)


def unit_types(query):
    return by_choices(query, "unit_type", UnitType.choices)


def statuses(query):
    return by_choices(query, "status", TalentStatus.choices)


def months_back(today: dt.date, n: int) -> list[dt.date]:
    """The first days of the ``n`` months up to and including ``today``'s, oldest first."""
    months, year, month = [], today.year, today.month
    for _i in range(n):
        months.append(dt.date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def month_end(first: dt.date) -> dt.date:
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def day_periods(periods: list[tuple[dt.date, dt.date]]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Periods of days (first and last day) as the moments ``[start, end)`` they span in the
    site's time zone: a range the stored moments are compared with as they are (no per-row
    function, which on SQLite is a call into Python for every row)."""
    return [(start_of(first), start_of(last + dt.timedelta(days=1))) for first, last in periods]


def monthly_new(query):
    """New entries (入库) per month over the last 24 months."""
    months = months_back(query.today, 24)
    counts = query.tally.between("created_at", day_periods([(m, month_end(m)) for m in months]))
    return [Item(f"{m:%Y-%m}", n, query.period_link(m, month_end(m))) for m, n in zip(months, counts, strict=True)]


def yearly_new(query):
    """New entries per year, from the first year with any."""
    first = query.tally.earliest("created_at")
    if first is None:
        return []
    years = list(range(timezone.localtime(first).year, query.today.year + 1))
    counts = query.tally.between("created_at", day_periods([(dt.date(y, 1, 1), dt.date(y, 12, 31)) for y in years]))
    return [Item(str(y), n, query.period_link(dt.date(y, 1, 1), dt.date(y, 12, 31)))
            for y, n in zip(years, counts, strict=True) if n]


# What the section counts, kept in memory for the cockpit (see dashboards.replica).
replicate(Talent, "region", "kind", "category", "tier", "education", "degree", "title_level", "gender", "ethnicity",
          "political_status", "discipline", "native_place", "work_province", "work_city", "work_country",
          "unit_type", "status", "birth_date", "created_at", words=("research_fields",), links=("databases",))

register_section(Section(
    "registry", _("人才结构"), order=10, permission="talents.view_talent", figures=registry_figures,
    charts=(
        Chart("kind", _("人才类别"), "pie", kinds),
        Chart("category", _("人才分类"), "hbar", categories),
        Chart("database", _("所属人才库"), "bar", databases),
        Chart("tier", _("人才层次"), "bar", tiers),
        Chart("education", _("最高学历"), "bar", education),
        Chart("degree", _("最高学位"), "pie", degrees),
        Chart("title_level", _("职称级别"), "pie", title_levels),
        Chart("age_band", _("年龄结构"), "bar", age_bands),
        Chart("gender", _("性别"), "pie", genders),
        Chart("ethnicity", _("民族"), "hbar", ethnicities),
        Chart("political_status", _("政治面貌"), "pie", political),
        Chart("discipline", _("学科领域"), "hbar", disciplines),
        Chart("research_field", _("研究方向（前 20）"), "hbar", research_fields,
              note=_("一人可有多个研究方向，各计一次。")),
        Chart("native_county", _("籍贯（县市区）"), "bar", native_counties, wide=True),
        Chart("managing_county", _("所属地区"), "bar", managing_counties, wide=True),
        Chart("work_province", _("工作所在省份"), "bar", work_provinces, wide=True),
        Chart("work_city", _("工作所在城市（前 15）"), "hbar", work_cities),
        Chart("unit_type", _("单位性质"), "hbar", unit_types),
        Chart("status", _("联络状态"), "pie", statuses),
        Chart("monthly_new", _("近 24 个月新增入库"), "line", monthly_new, wide=True),
        Chart("yearly_new", _("历年新增入库"), "line", yearly_new),
    ),
))

__all__ = ["NOT_FILLED", "AGE_BANDS", "age_band_births", "months_back"]
