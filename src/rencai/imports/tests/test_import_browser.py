"""The import wizard in headless Chromium: a county officer uploads a county's sheet (a title row
above the header), checks the suggested columns, gives the managing region for the whole file,
previews, imports the valid rows, follows the job to its batch and finds the people in the list.
Any console error fails the test (see the ``page`` fixture)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from rencai.core.jobs import Worker
from rencai.imports.tests.test_import_wizard import ROWS, sheet_bytes
from rencai.talents.models import Talent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_county_officer_walks_the_wizard(page, login, yanhu_officer, tmp_path):
    sheet = tmp_path / "盐湖区名单.xlsx"
    sheet.write_bytes(sheet_bytes(ROWS))
    login(yanhu_officer)
    sidebar = page.locator("aside.navbar-vertical")
    sidebar.get_by_role("button", name="导入与查重").click()
    sidebar.get_by_role("link", name="导入人才").click()
    expect(page).to_have_url(re.compile(r"/imports/$"))

    page.set_input_files("input[name=file]", str(sheet))
    page.get_by_role("button", name="上传并继续").click()
    expect(page).to_have_url(re.compile(r"/imports/uploads/\d+/$"))
    expect(page.locator("tr[data-header-row]")).to_contain_text("身份证号")
    expect(page.locator("select[name=col_1]")).to_have_value("name")
    expect(page.locator("select[name=col_3]")).to_have_value("id_card")

    page.select_option("select[name=fixed_region]", "140802")
    page.select_option("select[name=fixed_kind]", "native")
    page.get_by_label("只导入无误的行").check()
    page.get_by_test_id("preview").click()

    counts = page.get_by_test_id("preview-counts")
    expect(counts.locator("[data-status-count=new]")).to_contain_text("2")
    expect(counts.locator("[data-status-count=error]")).to_contain_text("1")
    expect(page.locator("tr[data-row='5']")).to_contain_text("身份证")
    page.get_by_test_id("commit").click()

    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]+/$"))
    Worker("browser-test").run_once()
    link = page.locator("[data-job-result-link]")
    expect(link).to_be_visible(timeout=10_000)  # the status fragment polls once a second
    link.click()
    expect(page.get_by_test_id("batch-counts")).to_contain_text("新增 2")
    assert set(Talent.objects.values_list("name", flat=True)) == {"王建国", "李秀英"}
