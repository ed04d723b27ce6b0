"""The registry in headless Chromium: a county officer creates a talent through the form (birth
date and gender filled from the ID-card number, a work history row), then finds the person in the
list by the pinyin initials of the name, opens the profile, reveals the ID-card number and reads
the history tab. Any console error fails the test (see the ``page`` fixture)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from rencai.talents.models import Talent
from rencai.talents.tests.helpers import id_number, make_talent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBER = id_number("19870405", male=True, seq=66)


@pytest.fixture
def others(city_admin):
    # People the initials must not find, one of them in another county.
    make_talent(city_admin, name="张伟")
    make_talent(city_admin, name="王晓明")  # wxm
    make_talent(city_admin, name="张晓兵")  # zxb
    make_talent(city_admin, name="张晓明", region_code="140882", native_place=None)


def test_it_creates_a_talent_and_finds_it_by_pinyin_initials(page, login, yanhu_officer, others):
    login(yanhu_officer)
    sidebar = page.locator("aside.navbar-vertical")
    sidebar.get_by_role("button", name="人才库").click()
    sidebar.get_by_role("link", name="新增人才").click()
    expect(page).to_have_url(re.compile(r"/talents/add/$"))

    page.get_by_label("姓名", exact=True).fill("张晓明")
    page.get_by_label("身份证号", exact=True).fill(NUMBER)
    page.get_by_label("手机号码", exact=True).fill("13812340000")
    page.select_option("select[name=native_place]", label="运城市 盐湖区")
    page.select_option("select[name=kind]", label="在外人才")
    page.select_option("select[name=category]", label="高校")
    page.get_by_label("工作单位", exact=True).fill("北京大学")
    page.get_by_label("研究方向", exact=True).fill("人工智能与机器学习")
    work = page.get_by_test_id("work-formset")
    work.locator("input[name=work-0-start]").fill("2012-07")
    work.locator("input[name=work-0-unit]").fill("北京大学")
    work.locator("input[name=work-0-position]").fill("教授")
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_role("heading", name="张晓明")).to_be_visible()
    expect(page.get_by_text("已新增人才“张晓明”。")).to_be_visible()
    talent = Talent.objects.get(name="张晓明", region__code="140802")
    assert talent.birth_date.isoformat() == "1987-04-05" and talent.gender == "male"
    assert talent.created_by == yanhu_officer

    # The list: search by initials through htmx, and only the new person answers.
    sidebar.get_by_role("link", name="人才列表").click()
    expect(page).to_have_url(re.compile(r"/talents/$"))
    page.evaluate("window.__rencaiMarker = 1")
    page.fill("input[name=q]", "zxm")
    page.press("input[name=q]", "Enter")
    expect(page).to_have_url(re.compile(r"q=zxm"))
    results = page.locator("#object-list-results")
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile("共 1 条"))
    expect(results.get_by_role("link", name="张晓明")).to_be_visible()
    expect(results).not_to_contain_text("王晓明")
    expect(results).not_to_contain_text("张晓兵")
    assert page.evaluate("window.__rencaiMarker") == 1  # no page load

    # Save the search as a view: it carries the query typed after the page loaded.
    page.get_by_role("button", name="保存视图").click()
    dialog = page.locator("#save-view")
    expect(dialog).to_be_visible()
    dialog.get_by_label("视图名称").fill("首字母找人")
    dialog.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存视图“首字母找人”。")).to_be_visible()
    saved = page.get_by_test_id("saved-views").get_by_role("link", name="首字母找人")
    expect(saved).to_have_attribute("href", re.compile(r"q=zxm"))
    results = page.locator("#object-list-results")
    expect(results.get_by_role("link", name="张晓明")).to_be_visible()

    # The profile: the ID-card number masked until asked for; the work history in its tab.
    results.get_by_role("link", name="张晓明").click()
    id_card = page.locator("[data-field=id_card]")
    expect(id_card).to_contain_text(NUMBER[:6] + "********" + NUMBER[-4:])
    id_card.get_by_role("button", name="显示完整").click()
    expect(id_card).to_contain_text(NUMBER)
    page.get_by_role("tab", name=re.compile("工作经历")).click()
    expect(page.get_by_test_id("work-history")).to_contain_text("教授")
