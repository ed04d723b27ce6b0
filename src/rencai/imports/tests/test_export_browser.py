"""Export in headless Chromium: a county officer filters the talent list through htmx, presses
「导出」 (which now carries the filters), chooses columns and CSV, ticks the personal-data
confirmation and downloads the file; it holds the filtered rows of their county only, with full
mobile numbers, and the audit log says so."""

from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import expect

from rencai.core.models import AuditEntry
from rencai.core.models.audit import AuditAction
from rencai.talents.choices import TalentKind
from rencai.talents.tests.helpers import make_talent, region

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def talents(city_admin):
    make_talent(city_admin, name="张伟", mobile="13912345678", work_unit="北京理工大学")
    make_talent(city_admin, name="王芳", kind=TalentKind.LOCAL, mobile="13811112222")
    make_talent(city_admin, name="李刚", region_code="140882", native_place=region("140882"), mobile="13698765432")


def test_it_exports_the_filtered_list_from_the_list_page(page, login, yanhu_officer, talents, tmp_path):
    login(yanhu_officer)
    page.goto("/talents/")
    page.select_option("select[name=kind]", label="在外人才")  # htmx swaps the results in
    expect(page.locator("#talent-export-link")).to_have_attribute("href", re.compile(r"kind=native"))
    page.locator("#talent-export-link").click()
    expect(page).to_have_url(re.compile(r"/imports/exports/talents/\?.*kind=native"))
    expect(page.get_by_test_id("export-summary")).to_contain_text("将导出 1 条记录")

    form = page.locator("#export-form")
    for box in form.locator("input[name=columns]").all():
        box.uncheck()
    form.locator("input[name=columns][value=name]").check()
    form.locator("input[name=columns][value=mobile]").check()
    form.locator("input[name=format][value=csv]").check()
    form.locator("input[name=full_personal]").check()
    form.locator("input[name=confirm]").check()
    with page.expect_download() as info:
        form.get_by_role("button", name="导出").click()
    path = tmp_path / "export.csv"
    info.value.save_as(path)

    rows = list(csv.reader(path.read_text("utf-8-sig").splitlines()))
    assert rows == [["姓名", "手机号码"], ["张伟", "13912345678"]]
    entry = AuditEntry.objects.filter(action=AuditAction.EXPORT).latest("id")
    assert entry.actor_id == yanhu_officer.pk and entry.changes["full_personal"] is True
