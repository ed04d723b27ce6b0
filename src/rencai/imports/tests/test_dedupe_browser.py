"""The review queue in headless Chromium: a county officer opens the queue, decides one pair is
not the same person through htmx, compares another side by side, keeps the other record's name
and merges; the survivor's profile opens. Any console error fails the test (``page`` fixture)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from rencai.imports.dedupe import run_dedupe
from rencai.imports.models import DuplicatePair, DuplicateStatus
from rencai.talents.models import Talent
from rencai.talents.tests.helpers import make_talent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_reviews_and_merges_a_pair(page, login, live_server, city_admin, yanhu_officer):
    keep = make_talent(city_admin, name="张伟", birth_date=dt.date(1985, 3, 12), gender="male")
    gone = make_talent(city_admin, name="章伟", birth_date=dt.date(1985, 3, 12), gender="male",
                       work_unit="运城市人民医院", mobile="13912345678")
    make_talent(city_admin, name="王芳", birth_date=dt.date(1990, 6, 1), gender="female")
    make_talent(city_admin, name="王芳", birth_date=dt.date(1990, 6, 1), gender="female", work_unit="运城学院")
    run_dedupe()
    assert DuplicatePair.objects.count() == 2

    login(yanhu_officer)
    page.goto(f"{live_server.url}/imports/duplicates/")
    rows = page.get_by_test_id("duplicate-pairs")
    expect(rows.get_by_text("章伟")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    rows.locator("tr", has_text="王芳").get_by_role("button", name="不是同一人").click()
    expect(rows.get_by_text("已判定不是同一人，以后不再提示。")).to_be_visible()
    assert DuplicatePair.objects.filter(status=DuplicateStatus.DISTINCT).count() == 1

    rows.locator("tr", has_text="章伟").get_by_role("link", name="比对").click()
    comparison = page.get_by_test_id("comparison")
    expect(comparison.get_by_text("同音（拼音相同）")).to_be_visible()
    expect(comparison.get_by_text("139****5678")).to_be_visible()
    comparison.locator("input[name=field_name][value=right]").check()
    page.get_by_test_id("merge").click()

    expect(page).to_have_url(re.compile(rf"/talents/{keep.pk}/$"))
    expect(page.get_by_text("已将“章伟”合并到“章伟”")).to_be_visible()
    survivor = Talent.objects.get(pk=keep.pk)
    assert survivor.name == "章伟" and survivor.work_unit == "运城市人民医院"
    assert not Talent.objects.filter(pk=gone.pk).exists()
