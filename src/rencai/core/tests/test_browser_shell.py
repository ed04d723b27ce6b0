"""The shell in headless Chromium: sign in through the form, move through the sidebar, filter the
org unit list with htmx, choose columns, open a unit and reveal its contact's mobile number.
Any console error fails the test (see the ``page`` fixture)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from rencai.core.models import AuditEntry, OrgUnit, Region
from rencai.core.models.audit import AuditAction
from rencai.core.models.orgunits import OrgUnitKind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def yanhu_units(refdata):
    yanhu = Region.objects.get(code="140802")
    hejin = Region.objects.get(code="140882")
    OrgUnit.objects.create(name="盐湖区人才办", kind=OrgUnitKind.TALENT_OFFICE, region=yanhu,
                           contact_name="张三", contact_mobile="13912345678")
    OrgUnit.objects.create(name="盐湖区科技局", kind=OrgUnitKind.GOVERNMENT, region=yanhu)
    for i in range(30):
        OrgUnit.objects.create(name=f"盐湖区单位{i:02d}", region=yanhu)
    OrgUnit.objects.create(name="河津市人才办", region=hejin)


def test_it_walks_from_sign_in_to_a_revealed_mobile(page, login, yanhu_officer, yanhu_units):
    login(yanhu_officer)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="欢迎，盐湖区专员")).to_be_visible()

    # The sidebar: open the 基础数据 group, then 组织机构.
    sidebar = page.locator("aside.navbar-vertical")
    sidebar.get_by_role("button", name="基础数据").click()
    sidebar.get_by_role("link", name="组织机构").click()
    expect(page).to_have_url(re.compile(r"/orgunits/$"))
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile("共 32 条"))
    expect(page.locator("#object-list-results")).not_to_contain_text("河津市人才办")

    # The next page comes through htmx, and the URL follows.
    page.locator("#object-list-results").get_by_role("link", name="下一页").click()
    expect(page).to_have_url(re.compile(r"after="))
    expect(page.locator("#object-list-results tbody tr")).to_have_count(7)

    # Filter with htmx: the results change without a full reload, the URL follows.
    page.evaluate("window.__rencaiMarker = 1")
    page.fill("input[name=q]", "人才办")
    page.press("input[name=q]", "Enter")
    expect(page).to_have_url(re.compile(r"q=%E4%BA%BA%E6%89%8D%E5%8A%9E"))
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile("共 1 条"))
    assert page.evaluate("window.__rencaiMarker") == 1  # still the same document

    # Sort by a column header.
    page.locator("#object-list-results thead").get_by_role("link", name="名称").click()
    expect(page).to_have_url(re.compile(r"sort=name"))

    # The column chooser: hide 联系人 for this user.
    page.get_by_role("button", name="列设置").click()
    chooser = page.locator("#column-chooser")
    expect(chooser).to_be_visible()
    chooser.get_by_label("联系人", exact=True).uncheck()
    chooser.get_by_role("button", name="保存").click()
    expect(page.get_by_text("列设置已保存。")).to_be_visible()
    expect(page.locator("#object-list-results thead")).not_to_contain_text(re.compile("^联系人$"))
    expect(page.locator("#object-list-results thead")).to_contain_text("联系人手机")

    # Open the unit: the mobile is masked until asked for.
    page.locator("#object-list-results").get_by_role("link", name="盐湖区人才办").click()
    expect(page.get_by_role("heading", name="盐湖区人才办")).to_be_visible()
    mobile = page.locator("[data-field=contact_mobile]")
    expect(mobile).to_contain_text("139****5678")
    mobile.get_by_role("button", name="显示完整").click()
    expect(mobile).to_contain_text("13912345678")
    expect(mobile.get_by_role("button", name="显示完整")).to_have_count(0)
    assert AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL, actor=yanhu_officer).count() == 1

    # The change history tab and the breadcrumb back to the list.
    page.get_by_role("tab", name="变更记录").click()
    expect(page.locator(".rencai-changelog-entry").first).to_contain_text("新增")
    page.locator(".breadcrumb").get_by_role("link", name="组织机构").click()
    expect(page).to_have_url(re.compile(r"/orgunits/$"))


def test_it_edits_a_unit_and_shows_the_success_message(page, login, yanhu_officer, yanhu_units):
    login(yanhu_officer)
    unit = OrgUnit.objects.get(name="盐湖区科技局")
    page.goto(f"/orgunits/{unit.pk}/edit/")
    page.fill("input[name=address]", "运城市盐湖区河东东街 1 号")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("已保存组织机构“盐湖区科技局”的修改")
    expect(page.locator("[data-field=address]")).to_contain_text("河东东街 1 号")


def test_it_shows_the_user_menu_and_signs_out(page, login, leader, yanhu_units):
    login(leader)
    page.get_by_test_id("user-menu").click()
    menu = page.locator(".dropdown-menu-end")
    expect(menu.get_by_role("link", name="修改密码")).to_be_visible()
    menu.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_it_shows_a_styled_404_for_another_countys_unit(page, login, yanhu_officer, yanhu_units):
    login(yanhu_officer)
    other = OrgUnit.objects.get(name="河津市人才办")
    response = page.goto(f"/orgunits/{other.pk}/")
    assert response.status == 404
    expect(page.get_by_text("页面不存在", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="返回首页")).to_be_visible()
    # Chromium logs the 404 of the page itself; that one is expected, any other error is not.
    expected = [e for e in page.console_errors if "status of 404" in e]
    assert len(expected) == 1
    page.console_errors.remove(expected[0])


def test_it_bulk_edits_the_rows_selected_with_the_header_checkbox(page, login, yanhu_officer, yanhu_units):
    login(yanhu_officer)
    page.goto("/orgunits/")
    page.get_by_role("checkbox", name="全选").check()
    expect(page.locator('#object-list-results tbody input[name="pk"]:checked')).to_have_count(25)
    page.get_by_role("button", name="批量修改").click()
    expect(page.get_by_role("heading", name="已选 25 条")).to_be_visible()
    page.select_option("select[name=kind]", label="事业单位")
    page.get_by_role("button", name="应用修改").click()
    expect(page.get_by_role("alert")).to_contain_text("已修改 25 条组织机构")
    assert OrgUnit.objects.filter(kind=OrgUnitKind.INSTITUTION).count() == 25
    assert OrgUnit.objects.get(name="河津市人才办").kind == OrgUnitKind.OTHER
