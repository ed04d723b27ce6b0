"""A campaign in headless Chromium: the 盐湖区 officer makes a newsletter from a saved view of
the registry, is told which placeholder is unknown, previews the rendered messages on the
draft's page, confirms and sends; the worker sends it and the page shows each recipient's
status. Any console error fails the test (see the ``page`` fixture)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from rencai.core.jobs import Worker
from rencai.liaison.models import Campaign, CampaignStatus, OutboxMessage
from rencai.talents import services as talent_services
from rencai.talents.choices import Gender
from rencai.talents.tests.helpers import make_talent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_officer_creates_previews_and_sends_a_campaign(page, login, city_admin, yanhu_officer, settings):
    settings.CAMPAIGN_SEND_PER_MINUTE = 100_000
    make_talent(city_admin, name="王晓东", gender=Gender.MALE, title="教授", work_unit="清华大学", mobile="13812340001")
    make_talent(city_admin, name="李芳", gender=Gender.FEMALE, work_unit="协和医院", mobile="13812340002")
    make_talent(city_admin, name="欧阳明", region_code="140882", mobile="13812340004")
    talent_services.save_view(yanhu_officer, "talents.talent", name="盐湖在外人才", query="kind=native", columns=[])

    login(yanhu_officer)
    page.goto("/liaison/campaigns/")
    page.locator(".page-header a[href=\"/liaison/campaigns/add/\"]").click()
    page.get_by_label("名称", exact=True).fill("家乡通讯第1期")
    page.get_by_label("类型", exact=True).select_option(label="家乡通讯")
    page.get_by_label("发送渠道", exact=True).select_option(label="短信")
    page.get_by_label("发送对象", exact=True).select_option(label="盐湖在外人才")
    page.get_by_label("内容模板", exact=True).fill("{称谓}您好！{单位}的{职位}……")
    page.get_by_role("button", name=re.compile("保存")).click()
    expect(page.get_by_text(re.compile(r"占位符 \{职位\} 无法识别"))).to_be_visible()
    assert not Campaign.objects.exists()

    page.get_by_label("内容模板", exact=True).fill("{称谓}您好！家乡运城近来变化很大，欢迎回乡看看。")
    page.get_by_role("button", name=re.compile("保存")).click()
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text("发送对象共 2 人")
    expect(preview).to_contain_text("王教授您好！家乡运城近来变化很大")
    expect(preview).to_contain_text("李女士您好！")
    expect(preview).not_to_contain_text("欧阳明")

    page.get_by_label("已核对预览，发送后不能修改").check()
    page.get_by_role("button", name="发送").click()
    expect(page.get_by_text("已开始发送")).to_be_visible()
    campaign = Campaign.objects.get()
    assert campaign.status == CampaignStatus.SENDING
    assert Worker("browser-test").run_once() == "succeeded"

    page.reload()
    recipients = page.get_by_test_id("recipients")
    expect(recipients.locator("[data-count=sent]")).to_contain_text("2")
    expect(recipients.locator("tr[data-recipient]")).to_have_count(2)
    assert OutboxMessage.objects.filter(campaign=campaign).count() == 2
    # Sent: no edit, no second send.
    expect(page.get_by_test_id("send-form")).to_have_count(0)
    expect(page.get_by_role("link", name="修改")).to_have_count(0)
