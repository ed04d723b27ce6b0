"""Every figure and chart of the cockpit against a direct count over generated data, and every
drill-down link against the talent list it opens, for a city-wide viewer, a county officer and
with the cockpit's filters."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from rencai.core.models import DictionaryItem, Region
from rencai.core.testing import PASSWORD
from rencai.dashboards import services
from rencai.dashboards.cockpit import CockpitQuery, find_chart, sections_for
from rencai.dashboards.forms import CockpitFilterForm
from rencai.demo import run_demo
from rencai.liaison import demo as liaison_demo
from rencai.liaison.models import ContactRecord, ContactRequest
from rencai.talents.choices import TalentKind
from rencai.talents.filters import TalentFilterSet, years_ago
from rencai.talents.models import Talent, TalentDatabase

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(refdata, monkeypatch):
    day = timezone.localdate()
    monkeypatch.setattr(liaison_demo, "run_day", lambda: day)
    return run_demo(password=PASSWORD)


def charts(query) -> dict[str, dict]:
    return {c["key"]: c for s in services.cockpit_data(query) for c in s["charts"]}


def figures(query) -> dict[str, dict]:
    return {f["key"]: f for s in services.cockpit_data(query) for f in s["figures"]}


def as_counts(chart: dict) -> dict[str, int]:
    return {i["label"]: i["value"] for i in chart["items"]}


def age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def band(years: int) -> str:
    if years <= 35:
        return "35岁及以下"
    if years <= 45:
        return "36–45岁"
    if years <= 55:
        return "46–55岁"
    if years <= 60:
        return "56–60岁"
    return "61岁及以上"


def expected(talents: list[Talent], today: dt.date) -> dict[str, Counter]:
    """The distributions counted in Python, one talent at a time, from the rows themselves."""
    labels = dict(DictionaryItem.objects.values_list("pk", "label"))
    regions = {r.pk: r for r in Region.objects.all()}
    city = Region.objects.get(code=settings.CITY_CODE)

    def county(region_id):
        if region_id is None:
            return "未填写"
        region = regions[region_id]
        if region.pk == city.pk:
            return "市本级"
        if not region.path.startswith(city.path):
            return None
        while region.parent_id != city.pk:
            region = regions[region.parent_id]
        return region.name

    out: dict[str, Counter] = {k: Counter() for k in (
        "kind", "category", "tier", "education", "degree", "title_level", "age_band", "gender", "ethnicity_all",
        "political_status", "native_county", "managing_county", "work_province", "unit_type", "status", "yearly_new")}
    for t in talents:
        out["kind"][t.get_kind_display()] += 1
        for name in ("tier", "education", "degree", "title_level", "political_status"):
            value = getattr(t, f"{name}_id")
            out[name][labels[value] if value else "未填写"] += 1
        category = labels[t.category_id] if t.category_id else "未填写"
        if category == "其他":
            category += "（在外人才类别）" if t.kind == TalentKind.NATIVE else "（本土人才系统）"
        out["category"][category] += 1
        out["ethnicity_all"][labels[t.ethnicity_id] if t.ethnicity_id else "未填写"] += 1
        out["age_band"][band(age(t.birth_date, today)) if t.birth_date else "未填写"] += 1
        out["gender"][t.get_gender_display() if t.gender else "未填写"] += 1
        out["unit_type"][t.get_unit_type_display() if t.unit_type else "未填写"] += 1
        out["status"][t.get_status_display()] += 1
        native = county(t.native_place_id)
        out["native_county"][native if native is not None else "市外"] += 1
        out["managing_county"][county(t.region_id) or "其他"] += 1
        if t.work_province_id:
            out["work_province"][regions[t.work_province_id].name] += 1
        elif t.work_country not in ("", "中国"):
            out["work_province"]["境外"] += 1
        else:
            out["work_province"]["未填写"] += 1
        out["yearly_new"][str(timezone.localtime(t.created_at).year)] += 1
    return out


DIRECT = ("kind", "category", "tier", "education", "degree", "title_level", "age_band", "gender",
          "political_status", "native_county", "managing_county", "work_province", "unit_type", "status", "yearly_new")


def check_against_rows(user, filters: dict, rows: list[Talent]) -> None:
    query = CockpitQuery(user, filters)
    today = query.today
    got = charts(query)
    want = expected(rows, today)
    for key in DIRECT:
        assert as_counts(got[key]) == dict(want[key]), key
    # Top 10 and the rest as 「其他」: the same total, the largest ones exact.
    ethnicity = as_counts(got["ethnicity"])
    assert sum(ethnicity.values()) == len(rows)
    for label, n in want["ethnicity_all"].most_common(3):
        assert ethnicity[label] == n
    # 库: one count per membership.
    memberships = Counter(d.name for t in rows for d in t.databases.all())
    assert as_counts(got["database"]) == dict(memberships)
    # Research fields: each field counted once per talent.
    fields = Counter(f for t in rows for f in {w.strip() for w in t.research_fields.split("；") if w.strip()})
    top = as_counts(got["research_field"])
    assert len(top) == min(20, len(fields))
    for label, n in top.items():
        assert fields[label] == n
    assert max(top.values(), default=0) == max(fields.values(), default=0)
    # The last 24 months, month by month.
    months = Counter(f"{timezone.localtime(t.created_at):%Y-%m}" for t in rows)
    for point in got["monthly_new"]["items"]:
        assert point["value"] == months.get(point["label"], 0), point["label"]
    # Headline figures.
    figs = figures(query)
    assert figs["total"]["value"] == len(rows)
    assert figs["native"]["value"] == sum(t.kind == TalentKind.NATIVE for t in rows)
    assert figs["local"]["value"] == sum(t.kind == TalentKind.LOCAL for t in rows)
    assert figs["tiered"]["value"] == sum(t.tier_id is not None for t in rows)
    assert figs["new"]["value"] == sum(timezone.localtime(t.created_at).date() >= dt.date(today.year, 1, 1) for t in rows)
    last_year_day = years_ago(today, 1)
    assert figs["new"]["previous"] == sum(
        dt.date(today.year - 1, 1, 1) <= timezone.localtime(t.created_at).date() <= last_year_day for t in rows)
    assert figs["total"]["previous"] == sum(timezone.localtime(t.created_at).date() <= last_year_day for t in rows)
    check_links(user, got)


def check_links(user, got: dict[str, dict]) -> None:
    """Each bar's link opens a talent list of exactly the bar's talents."""
    for key, chart in got.items():
        # Other areas' charts open their own lists (checked in their tests).
        if key in ("research_field",) or not key or chart["key"].startswith(("contact_", "cooperation_")):
            continue
        for item in chart["items"]:
            if not item["link"]:
                continue
            parts = urlsplit(item["link"])
            assert parts.path == "/talents/"
            data = {k: v[0] for k, v in parse_qs(parts.query).items()}
            filterset = TalentFilterSet(data, queryset=Talent.objects.restrict(user, "view"), user=user)
            assert filterset.is_valid(), (key, item, filterset.errors)
            assert filterset.qs.count() == item["value"], (key, item["label"], data)


def scoped_rows(user, **lookups) -> list[Talent]:
    return list(Talent.objects.restrict(user, "view").filter(**lookups).prefetch_related("databases"))


def test_every_chart_and_figure_equals_a_direct_count_for_the_whole_city(demo, city_staff):
    check_against_rows(city_staff, {}, scoped_rows(city_staff))


def test_a_county_officer_counts_the_county_only(demo, hejin_officer):
    rows = scoped_rows(hejin_officer)
    assert rows and len(rows) < Talent.objects.count()
    assert {t.region.code for t in rows} == {"140882"}
    check_against_rows(hejin_officer, {}, rows)
    managing = as_counts(charts(CockpitQuery(hejin_officer, {}))["managing_county"])
    assert managing == {"河津市": len(rows)}


def test_filters_apply_to_every_chart(demo, city_staff):
    tier = DictionaryItem.objects.get(dictionary__code="talent_tier", code="E")
    database = TalentDatabase.objects.filter(talents__isnull=False).distinct().first()
    county = Region.objects.get(code="140802")
    since = timezone.localdate() - dt.timedelta(days=900)
    form = CockpitFilterForm({"kind": TalentKind.NATIVE, "region": county.pk, "database": database.pk,
                              "registered_from": since.isoformat()}, user=city_staff)
    assert form.is_valid(), form.errors
    start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
    rows = scoped_rows(city_staff, kind=TalentKind.NATIVE, region=county, databases=database, created_at__gte=start)
    assert rows
    check_against_rows(city_staff, form.filters(), rows)
    # Under a 库 filter, only that 库's bar links: another 库's list would hold talents not counted.
    bars = charts(CockpitQuery(city_staff, form.filters()))["database"]["items"]
    assert [b["label"] for b in bars if b["link"]] == [database.name]

    form = CockpitFilterForm({"tier": tier.pk, "registered_to": since.isoformat()}, user=city_staff)
    assert form.is_valid()
    end = timezone.make_aware(dt.datetime.combine(since + dt.timedelta(days=1), dt.time.min))
    check_against_rows(city_staff, form.filters(), scoped_rows(city_staff, tier=tier, created_at__lt=end))


def test_dates_out_of_range_are_refused_not_a_crash(refdata, city_staff):
    form = CockpitFilterForm({"registered_to": "9999-12-31", "registered_from": "0001-01-01"}, user=city_staff)
    assert not form.is_valid() and {"registered_to", "registered_from"} <= set(form.errors)
    assert figures(CockpitQuery(city_staff, form.filters()))["total"]["value"] == 0
    assert TalentFilterSet({"registered_to": "9999-12-31", "registered_from": "0001-01-01"},
                           queryset=Talent.objects.all(), user=city_staff).qs.count() == 0


def test_another_countys_region_is_no_filter_choice(demo, yanhu_officer):
    form = CockpitFilterForm({"region": Region.objects.get(code="140882").pk}, user=yanhu_officer)
    assert not form.is_valid() and "region" in form.errors
    # The bad value is dropped, not widened: the officer still sees the county alone.
    query = CockpitQuery(yanhu_officer, form.filters())
    assert figures(query)["total"]["value"] == Talent.objects.filter(region__code="140802").count()


def test_the_liaison_section_counts_what_the_viewer_may_see(demo, hejin_officer):
    today = timezone.localdate()
    query = CockpitQuery(hejin_officer, {})
    figs = figures(query)
    mine = ContactRecord.objects.filter(region__code="140882", reached=True)
    month_start = today.replace(day=1)
    in_month = [c for c in mine if month_start <= timezone.localtime(c.contacted_at).date() <= today]
    assert figs["contacts_month"]["value"] == len(in_month)
    in_year = [c for c in mine if dt.date(today.year, 1, 1) <= timezone.localtime(c.contacted_at).date() <= today]
    assert figs["contacts_year"]["value"] == len(in_year)
    assert figs["open_requests"]["value"] == ContactRequest.objects.filter(
        contact__region__code="140882").exclude(status__in=["done", "declined"]).count()
    channel = as_counts(charts(query)["contact_channel"])
    assert sum(channel.values()) == len(in_year)
    monthly = charts(query)["contact_monthly"]["items"]
    assert monthly[-1]["value"] == len(in_month)
    # Narrowed by a talent filter, a contact counts when one of its talents is kept.
    local = CockpitQuery(hejin_officer, {"kind": TalentKind.LOCAL})
    kept = ContactRecord.objects.filter(region__code="140882", reached=True, talents__kind=TalentKind.LOCAL).filter(
        Q(contacted_at__date__gte=dt.date(today.year, 1, 1))).distinct()
    assert figures(local)["contacts_year"]["value"] == kept.count()


def test_sections_and_charts_are_found_by_key(refdata, city_staff, audit_admin):
    assert [s.key for s in sections_for(city_staff)][:2] == ["registry", "liaison"]
    assert find_chart(city_staff, "age_band") is not None
    assert find_chart(city_staff, "nope") is None
    assert sections_for(audit_admin) == []
