"""Greetings (节日与生日问候): the occasions of the coming days, and campaign drafts for them.

The traditional festivals fall on lunar dates, converted to the Gregorian calendar by
lunar-python (春节 is the first day of the first lunar month: 2025-01-29, 2026-02-17,
2027-02-06). Birthdays come from each talent's 出生日期; one born on 29 February is greeted on
28 February in a common year.

``worklist(user)`` lists, within the user's scope, the festivals and birthdays of the next
``settings.GREETING_DAYS_AHEAD`` days and the drafts made for them. ``prepare_drafts()`` (the
daily job ``liaison.greetings``; started from the page, within the starter's scope) makes those
drafts ahead of time: for each festival one draft per region that manages talents (addressed to
the talents that region manages itself), for each day's birthdays one draft per region listing
its talents. Staff review a draft, change its text
or channel if they like, and send it like any campaign. Running it again changes nothing but
adding talents registered since to a birthday draft not yet sent.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from lunar_python import Lunar

from rencai.core.models import Region
from rencai.liaison.models_campaigns import Campaign, CampaignChannel, CampaignKind, CampaignStatus
from rencai.talents.choices import TalentStatus
from rencai.talents.models import Talent


@dataclass(frozen=True)
class Festival:
    code: str
    name: str
    lunar_month: int
    lunar_day: int


FESTIVALS = (
    Festival("spring", "春节", 1, 1),
    Festival("lantern", "元宵节", 1, 15),
    Festival("dragon_boat", "端午节", 5, 5),
    Festival("mid_autumn", "中秋节", 8, 15),
    Festival("double_ninth", "重阳节", 9, 9),
)
FESTIVAL_BY_CODE = {f.code: f for f in FESTIVALS}
DEFAULT_CHANNEL = CampaignChannel.SMS

FESTIVAL_TEXT = "{称谓}：您好！%(festival)s将至，%(office)s恭祝您节日快乐、阖家幸福！欢迎常回家乡看看。"
BIRTHDAY_TEXT = "{称谓}：今天是您的生日，%(office)s祝您生日快乐、身体健康、工作顺利！"


@dataclass(frozen=True)
class Occasion:
    key: str
    name: str
    date: dt.date
    kind: str  # CampaignKind.FESTIVAL or BIRTHDAY


def festival_date(festival: Festival, lunar_year: int) -> dt.date:
    """The Gregorian date of ``festival`` in the lunar year ``lunar_year``."""
    solar = Lunar.fromYmd(lunar_year, festival.lunar_month, festival.lunar_day).getSolar()
    return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())


def festivals_between(first: dt.date, last: dt.date) -> list[Occasion]:
    """The festivals from ``first`` to ``last`` (inclusive), soonest first."""
    found = []
    for year in range(first.year - 1, last.year + 1):  # a lunar year starts in the Gregorian one before's end
        for festival in FESTIVALS:
            day = festival_date(festival, year)
            if first <= day <= last:
                found.append(Occasion(f"festival:{festival.code}:{year}", festival.name, day, CampaignKind.FESTIVAL))
    return sorted(found, key=lambda o: o.date)


def birthday_in(birth_date: dt.date, year: int) -> dt.date:
    """The day a talent born on ``birth_date`` is greeted in ``year`` (29 February → 28th in a common year)."""
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return dt.date(year, 2, 28)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


OLDEST = 120  # years: the birth years looked at
CHUNK = 2000  # ids per query (well under every database's limit on parameters)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return dt.date(day.year - years, 2, 28)


def birthdays_filter(first: dt.date, last: dt.date) -> Q:
    """Talents whose birthday falls from ``first`` to ``last`` (at most a year): one range of birth
    dates per birth year, which the index on 出生日期 reads directly (a month-and-day test would
    read every talent)."""
    terms = []
    for years in range(OLDEST + 1):
        start, end = _years_before(first, years), _years_before(last, years)
        if (end.month, end.day) == (2, 28) and _is_leap(end.year) and not _is_leap(last.year):
            end = dt.date(end.year, 2, 29)  # greeted on the 28th of a common year
        terms.append(Q(birth_date__range=(start, end)))
    return reduce(or_, terms)


def window(today: dt.date | None = None, days: int | None = None) -> tuple[dt.date, dt.date]:
    today = today or timezone.localdate()
    return today, today + dt.timedelta(days=(days or settings.GREETING_DAYS_AHEAD) - 1)


def greeted_talents():
    """Talents greetings go to: not deceased, with a birth date when birthdays are concerned."""
    return Talent.objects.exclude(status=TalentStatus.DECEASED)


class Birthday(NamedTuple):
    pk: int
    name: str
    birth_date: dt.date
    region_id: int


def upcoming_birthdays(talents, first: dt.date, last: dt.date) -> list[tuple[dt.date, Birthday]]:
    """(the day greeted, the talent's id, name, birth date and region) for ``talents`` with a
    birthday in the window, soonest first.

    The candidates' ids come from the 出生日期 index first, and ``talents`` (the user's scope) is
    then read for those ids only: with the scope's region filter in the same query, SQLite walks
    the whole county by its region index instead. Values, not objects: a city's week of birthdays
    is thousands of rows."""
    candidates = list(Talent.objects.filter(birthdays_filter(first, last)).values_list("pk", flat=True))
    found = []
    for start in range(0, len(candidates), CHUNK):
        rows = talents.filter(pk__in=candidates[start:start + CHUNK]).values_list("pk", "name", "birth_date", "region")
        for row in rows:
            talent = Birthday(*row)
            for year in {first.year, last.year}:
                day = birthday_in(talent.birth_date, year)
                if first <= day <= last:
                    found.append((day, talent))
                    break
    return sorted(found, key=lambda pair: (pair[0], pair[1].name, pair[1].pk))


# --- the worklist page ------------------------------------------------------------------------------------
WORKLIST_BIRTHDAYS = 200


def worklist(user, today: dt.date | None = None, days: int | None = None) -> dict:
    """The festivals and birthdays of the coming days in ``user``'s scope, with their drafts."""
    first, last = window(today, days)
    birthdays = upcoming_birthdays(greeted_talents().restrict(user, "view"), first, last)
    # The rows shown, as records (only what the page shows: no personal field decrypted).
    shown = Talent.objects.only("name", "birth_date", "work_unit", "region").select_related("region").in_bulk(
        [talent.pk for _day, talent in birthdays[:WORKLIST_BIRTHDAYS]])
    festivals = festivals_between(first, last)
    keys = [o.key for o in festivals] + [f"birthday:{day.isoformat()}" for day in {d for d, _t in birthdays}]
    drafts = defaultdict(list)
    for campaign in Campaign.objects.restrict(user, "view").filter(occasion__in=keys).select_related("region"):
        drafts[campaign.occasion].append(campaign)
    by_day = defaultdict(list)
    for day, talent in birthdays:
        by_day[day].append(talent)
    return {
        "first": first, "last": last, "today": first,
        "festivals": [{"occasion": o, "days": (o.date - first).days, "drafts": drafts.get(o.key, [])} for o in festivals],
        "birthday_days": [
            {"date": day, "days": (day - first).days, "count": len(people), "drafts": drafts.get(f"birthday:{day.isoformat()}", [])}
            for day, people in sorted(by_day.items())
        ],
        "birthdays": [{"date": day, "talent": shown[talent.pk], "age": day.year - talent.birth_date.year}
                      for day, talent in birthdays[:WORKLIST_BIRTHDAYS]],
        "birthdays_total": len(birthdays),
    }


# --- the daily drafts ----------------------------------------------------------------------------------------
def _office(region: Region) -> str:
    return _("%(region)s人才工作办公室") % {"region": region.name}


def prepare_drafts(today: dt.date | None = None, days: int | None = None, *, user=None) -> dict[str, int]:
    """Make the drafts of the coming days' festivals and birthdays that do not exist yet: for the
    whole city (the daily run, no ``user``), or within ``user``'s scope (started from the page by
    a county officer: their regions' drafts only, their talents only, and counts of those)."""
    first, last = window(today, days)
    created = updated = 0
    talents = greeted_talents()
    if user is not None:
        talents = talents.restrict(user, "view")
    festivals = festivals_between(first, last)
    if festivals:
        region_ids = set(talents.values_list("region_id", flat=True).distinct())
        regions = list(Region.objects.filter(pk__in=region_ids).order_by("path"))
        for occasion in festivals:
            for region in regions:
                created += _draft(occasion, region, region_only=True,
                                  body=FESTIVAL_TEXT % {"festival": occasion.name, "office": _office(region)})[1]
    by_region_day = defaultdict(list)
    for day, talent in upcoming_birthdays(talents, first, last):
        by_region_day[(talent.region_id, day)].append(talent.pk)
    regions = Region.objects.in_bulk({region_id for region_id, _day in by_region_day})
    for (region_id, day), ids in sorted(by_region_day.items(), key=lambda item: (item[0][1], item[0][0])):
        region = regions[region_id]
        occasion = Occasion(f"birthday:{day.isoformat()}", _("生日祝福"), day, CampaignKind.BIRTHDAY)
        campaign, made = _draft(occasion, region, region_only=False, body=BIRTHDAY_TEXT % {"office": _office(region)})
        created += made
        if campaign.is_draft:
            missing = set(ids) - set(campaign.talents.values_list("pk", flat=True))
            if missing:
                campaign.talents.add(*missing)
                updated += 0 if made else 1
    return {"created": created, "updated": updated}


def _draft(occasion: Occasion, region: Region, *, region_only: bool, body: str) -> tuple[Campaign, int]:
    with transaction.atomic():
        existing = Campaign.objects.filter(region=region, occasion=occasion.key).first()
        if existing is not None:
            return existing, 0
        campaign = Campaign.objects.create(
            name=f"{occasion.name} {occasion.date:%Y-%m-%d} {region.name}", kind=occasion.kind, channel=DEFAULT_CHANNEL,
            body=body, region=region, region_only=region_only, occasion=occasion.key, occasion_date=occasion.date,
            audience_name=_("本地区管理的人才") if region_only else _("当日生日的人才"), status=CampaignStatus.DRAFT,
        )
    return campaign, 1
