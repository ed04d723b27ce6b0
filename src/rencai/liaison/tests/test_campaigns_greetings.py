"""Greetings (节日与生日问候): festival dates from the lunar calendar for known years, birthdays
(29 February in common and leap years), the worklist in each user's scope, the daily drafts
(one per region, made once, sent like any campaign) through the job and the command."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from rencai.core.jobs import Worker, enqueue
from rencai.core.models.jobs import JobStatus
from rencai.liaison import campaigns, greetings
from rencai.liaison.models import Campaign, CampaignKind, CampaignStatus, OutboxMessage, RecipientStatus
from rencai.talents.choices import Gender, TalentStatus
from rencai.talents.tests.helpers import make_talent

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.mark.parametrize(("code", "year", "expected"), [
    ("spring", 2025, D(2025, 1, 29)), ("spring", 2026, D(2026, 2, 17)), ("spring", 2027, D(2027, 2, 6)),
    ("lantern", 2026, D(2026, 3, 3)), ("dragon_boat", 2025, D(2025, 5, 31)), ("dragon_boat", 2026, D(2026, 6, 19)),
    ("mid_autumn", 2025, D(2025, 10, 6)), ("mid_autumn", 2026, D(2026, 9, 25)), ("mid_autumn", 2027, D(2027, 9, 15)),
    ("double_ninth", 2026, D(2026, 10, 18)),
])
def test_festivals_fall_on_their_lunar_dates(code, year, expected):
    assert greetings.festival_date(greetings.FESTIVAL_BY_CODE[code], year) == expected


def test_the_festivals_of_a_window_across_the_new_year():
    found = greetings.festivals_between(D(2027, 1, 30), D(2027, 2, 21))
    assert [(o.name, o.date, o.key) for o in found] == [
        ("春节", D(2027, 2, 6), "festival:spring:2027"), ("元宵节", D(2027, 2, 20), "festival:lantern:2027"),
    ]
    assert greetings.festivals_between(D(2026, 7, 1), D(2026, 7, 31)) == []


def test_a_29_february_birthday_is_greeted_on_the_28th_in_a_common_year():
    born = D(1988, 2, 29)
    assert greetings.birthday_in(born, 2026) == D(2026, 2, 28)
    assert greetings.birthday_in(born, 2028) == D(2028, 2, 29)
    assert greetings.birthday_in(D(1990, 3, 1), 2026) == D(2026, 3, 1)


@pytest.fixture
def born(city_admin):
    """Birthdays around the end of February, in two counties."""
    return {
        "leap": make_talent(city_admin, name="林岚", gender=Gender.FEMALE, birth_date=D(1988, 2, 29), mobile="13912340001"),
        "feb28": make_talent(city_admin, name="周平", gender=Gender.MALE, birth_date=D(1975, 2, 28), mobile="13912340002"),
        "mar2": make_talent(city_admin, name="吴涛", gender=Gender.MALE, birth_date=D(1980, 3, 2), region_code="140882",
                            mobile="13912340003"),
        "later": make_talent(city_admin, name="郑云", birth_date=D(1980, 3, 20), mobile="13912340004"),
        "none": make_talent(city_admin, name="冯雪"),
    }


def test_upcoming_birthdays_in_common_and_leap_years(born):
    from rencai.talents.models import Talent

    common = greetings.upcoming_birthdays(Talent.objects.all(), D(2026, 2, 26), D(2026, 3, 4))
    assert [(day, t.name) for day, t in common] == [
        (D(2026, 2, 28), "周平"), (D(2026, 2, 28), "林岚"), (D(2026, 3, 2), "吴涛"),
    ]
    leap = greetings.upcoming_birthdays(Talent.objects.all(), D(2028, 2, 26), D(2028, 3, 4))
    assert [(day, t.name) for day, t in leap] == [
        (D(2028, 2, 28), "周平"), (D(2028, 2, 29), "林岚"), (D(2028, 3, 2), "吴涛"),
    ]
    # Over the year's end.
    assert greetings.upcoming_birthdays(Talent.objects.all(), D(2026, 12, 30), D(2027, 1, 3)) == []


def test_the_worklist_shows_each_user_their_own_scope(born, city_admin, yanhu_officer, hejin_officer):
    today = D(2026, 2, 26)
    city = greetings.worklist(city_admin, today, 7)
    assert [(row["date"], row["talent"].name, row["age"]) for row in city["birthdays"]] == [
        (D(2026, 2, 28), "周平", 51), (D(2026, 2, 28), "林岚", 38), (D(2026, 3, 2), "吴涛", 46),
    ]
    assert [row["occasion"].name for row in city["festivals"]] == ["元宵节"]  # 2026-03-03 (days 0..6 → up to 03-04)
    assert {row["talent"].name for row in greetings.worklist(yanhu_officer, today, 7)["birthdays"]} == {"周平", "林岚"}
    assert [row["talent"].name for row in greetings.worklist(hejin_officer, today, 7)["birthdays"]] == ["吴涛"]


def test_drafts_are_made_once_per_region_and_occasion(born, city_admin, yanhu_officer):
    made = greetings.prepare_drafts(D(2026, 2, 26), 7)
    drafts = Campaign.objects.order_by("occasion", "region__code")
    assert [(c.occasion, c.region.code, c.kind, c.status) for c in drafts] == [
        ("birthday:2026-02-28", "140802", CampaignKind.BIRTHDAY, CampaignStatus.DRAFT),
        ("birthday:2026-03-02", "140882", CampaignKind.BIRTHDAY, CampaignStatus.DRAFT),
        ("festival:lantern:2026", "140802", CampaignKind.FESTIVAL, CampaignStatus.DRAFT),
        ("festival:lantern:2026", "140882", CampaignKind.FESTIVAL, CampaignStatus.DRAFT),
    ]
    assert made == {"created": 4, "updated": 0}
    feb28 = drafts.get(occasion="birthday:2026-02-28")
    assert set(feb28.talents.values_list("name", flat=True)) == {"周平", "林岚"}
    assert "盐湖区人才工作办公室" in feb28.body and "{称谓}" in feb28.body

    # Again: nothing new; a talent registered since joins the day's draft.
    assert greetings.prepare_drafts(D(2026, 2, 26), 7) == {"created": 0, "updated": 0}
    make_talent(city_admin, name="钱多", birth_date=D(1991, 2, 28))
    assert greetings.prepare_drafts(D(2026, 2, 27), 7) == {"created": 0, "updated": 1}
    assert feb28.talents.count() == 3

    # The drafts are sent like any campaign: the 29 February birthday is greeted on the 28th.
    campaigns.start_sending(feb28, user=yanhu_officer)
    assert Worker("w").run_once() == JobStatus.SUCCEEDED
    statuses = {r.talent.name: r.status for r in feb28.recipients.select_related("talent")}
    assert statuses == {"周平": RecipientStatus.SENT, "林岚": RecipientStatus.SENT, "钱多": RecipientStatus.FAILED}
    assert OutboxMessage.objects.get(talent=born["leap"]).body.startswith("林女士：今天是您的生日")


def test_a_festival_draft_greets_the_talents_its_region_manages(born, city_admin, yanhu_officer):
    greetings.prepare_drafts(D(2026, 2, 12), 7)  # 春节 2026-02-17
    draft = Campaign.objects.get(occasion="festival:spring:2026", region__code="140802")
    born["later"].status = TalentStatus.DECEASED
    born["later"].save(update_fields=["status"])
    assert set(campaigns.audience(draft).values_list("name", flat=True)) == {"林岚", "周平", "冯雪"}
    assert "春节将至" in campaigns.preview(draft)[0]["body"]


def test_the_daily_job_and_the_command(born):
    job = enqueue("liaison.greetings", {"today": "2026-02-26"})
    assert Worker("w").run_once() == JobStatus.SUCCEEDED
    job.refresh_from_db()
    assert job.result["created"] == 4 and "问候草稿" in job.result["summary"]
    call_command("greetings")  # queues the job for the worker
    assert Worker("w").run_once() == JobStatus.SUCCEEDED


def test_the_birth_date_ranges_find_exactly_the_birthdays_of_a_window(city_admin):
    from rencai.talents.models import Talent

    births = [D(1988, 2, 29), D(1987, 2, 28), D(1990, 3, 1), D(1966, 12, 31), D(1971, 1, 1), D(2000, 2, 29),
              D(1950, 6, 15), D(1999, 12, 30), D(1930, 1, 2), D(1980, 2, 27)]
    for n, birth in enumerate(births):
        make_talent(city_admin, name=f"测试{n}", birth_date=birth)
    windows = [(D(2026, 2, 26), 3), (D(2026, 2, 28), 1), (D(2026, 3, 1), 7), (D(2028, 2, 28), 1), (D(2028, 2, 29), 1),
               (D(2026, 12, 28), 7), (D(2027, 6, 10), 30), (D(2028, 2, 22), 7)]
    for first, days in windows:
        last = first + dt.timedelta(days=days - 1)
        expected = sorted(
            (greetings.birthday_in(b, year), f"测试{n}") for n, b in enumerate(births) for year in {first.year, last.year}
            if first <= greetings.birthday_in(b, year) <= last
        )
        found = sorted((day, t.name) for day, t in greetings.upcoming_birthdays(Talent.objects.all(), first, last))
        assert found == expected, (first, days)
        # The database's own filter is exact too (not just a superset the loop cleans up), but for
        # a window that starts on 29 February.
        if (first.month, first.day) != (2, 29):
            matched = set(Talent.objects.filter(greetings.birthdays_filter(first, last)).values_list("name", flat=True))
            assert matched == {name for _day, name in expected}, (first, days)
