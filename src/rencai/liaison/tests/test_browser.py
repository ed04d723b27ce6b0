"""Liaison work in headless Chromium: the 盐湖区 officer opens a talent's page, goes to the
联络记录 tab, records a WeChat contact through the quick-entry form without leaving the page, and
sees it at the top of the timeline and the next due date moved to the one agreed; then records
another contact from the contact list, picking the talent by searching. Any console error fails
the test (see the ``page`` fixture)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from rencai.liaison.models import ContactRecord, ContactState
from rencai.talents.tests.helpers import item, make_talent, today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_officer_records_a_contact_from_the_talents_page(page, login, city_admin, yanhu_officer):
    talent = make_talent(city_admin, name="王晓东", region_code="140802", tier=item("talent_tier", "B"),
                         work_unit="中国科学院大学")
    first_due = ContactState.objects.get(talent=talent).next_due
    agreed = today() + dt.timedelta(days=14)
    assert agreed != first_due

    login(yanhu_officer)
    page.goto(f"/talents/{talent.pk}/")
    page.get_by_role("tab", name=re.compile("联络记录")).click()
    expect(page).to_have_url(re.compile(rf"/talents/{talent.pk}/tab/contacts/$"))
    expect(page.get_by_test_id("next-due")).to_have_text(f"{first_due:%Y-%m-%d}")
    expect(page.get_by_test_id("contact-timeline")).to_contain_text("还没有联络记录。")

    form = page.get_by_test_id("quick-entry")
    form.get_by_label("联络方式").select_option(label="微信")
    form.get_by_label("家乡发展").check()
    form.get_by_label("联络内容", exact=True).fill("微信介绍了运城高新区的新政策，对方有意回乡考察。")
    form.get_by_label("诉求", exact=True).fill("希望了解人才公寓申请条件")
    form.get_by_label("下次联络日期").fill(f"{agreed:%Y-%m-%d}")
    url = page.url
    form.get_by_role("button", name="保存联络记录").click()

    expect(page.get_by_test_id("quick-saved")).to_contain_text("已记录微信")
    timeline = page.get_by_test_id("contact-timeline")
    expect(timeline).to_contain_text("微信介绍了运城高新区的新政策")
    expect(timeline).to_contain_text("希望了解人才公寓申请条件")
    expect(page.get_by_test_id("next-due")).to_have_text(f"{agreed:%Y-%m-%d}")
    assert page.url == url  # never left the page
    # The form is fresh for the next contact.
    expect(page.get_by_test_id("quick-entry").get_by_label("联络内容", exact=True)).to_have_value("")
    contact = ContactRecord.objects.get()
    assert contact.staff == yanhu_officer and list(contact.talents.all()) == [talent]
    assert ContactState.objects.get(talent=talent).next_due == agreed

    # From the contact list: the talent picked by searching.
    page.goto("/liaison/contacts/")
    page.get_by_text("快速录入", exact=True).click()
    quick = page.get_by_test_id("quick-entry")
    quick.get_by_label("搜索人才").fill("王晓东")
    option = quick.get_by_label(re.compile("王晓东（盐湖区）"))
    option.check()
    quick.get_by_label("联络方式").select_option(label="电话回访")
    quick.get_by_label("联络内容", exact=True).fill("电话回访，确认考察行程。")
    quick.get_by_role("button", name="保存联络记录").click()
    expect(page.get_by_test_id("quick-saved")).to_contain_text("已记录电话回访")
    expect(page.locator("#object-list-results")).to_contain_text("电话回访，确认考察行程。")
    assert ContactRecord.objects.count() == 2
