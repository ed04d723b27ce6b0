"""Self-registration in headless Chromium: a native of 盐湖区 opens the county's link on a phone
(a 390 × 844 viewport, as inside WeChat), forgets the consent, is told so beside the box with
everything typed still there, ticks it and sees the thank-you page; then the 盐湖区 officer opens
the review queue, finds no look-alike and accepts the registration as a new talent. Any console
error fails the test (see the ``page`` fixture)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from rencai.liaison.models import IntakeSubmission
from rencai.liaison.models_intake import SubmissionStatus
from rencai.talents.choices import TalentSource
from rencai.talents.models import Talent
from rencai.talents.tests.helpers import id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBER = id_number("19910918", male=False, seq=37)
PHONE = {"width": 390, "height": 844}


def test_a_talent_registers_on_a_phone_and_the_county_officer_accepts_it(page, login, yanhu_officer):
    page.set_viewport_size(PHONE)
    page.goto("/join/?county=140802")
    expect(page.get_by_role("heading", name="运城市在外人才信息登记")).to_be_visible()
    expect(page.locator("select[name=native_place] option:checked")).to_have_text("盐湖区")
    page.get_by_label("姓名", exact=True).fill("陈思远")
    page.get_by_label("身份证号", exact=True).fill(NUMBER)
    page.get_by_label("手机号码", exact=True).fill("13611112222")
    page.get_by_label("微信号", exact=True).fill("chensy91")
    page.select_option("select[name=work_province]", label="上海市")
    page.get_by_label("现工作单位", exact=True).fill("复旦大学附属中山医院")
    page.select_option("select[name=category]", label="医疗卫生")
    page.get_by_label("专业技术职称", exact=True).fill("主治医师")
    page.get_by_label("研究方向与专长", exact=True).fill("心血管介入")
    # Made for a phone: inputs as wide as the screen, no sideways scrolling, thumb-sized.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = page.get_by_label("姓名", exact=True).bounding_box()
    assert box["width"] > PHONE["width"] * 0.8 and box["height"] >= 44

    page.get_by_role("button", name="提交登记").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("请阅读《个人信息处理告知》并勾选同意后再提交。")
    expect(page.get_by_label("现工作单位", exact=True)).to_have_value("复旦大学附属中山医院")
    expect(page.get_by_text("谁能看到")).to_be_visible()
    page.get_by_label(re.compile("我已阅读并同意《个人信息处理告知》")).check()
    page.get_by_role("button", name="提交登记").click()
    expect(page.get_by_role("heading", name="提交成功，感谢您的登记！")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/join/thanks/$"))
    submission = IntakeSubmission.objects.get()
    assert submission.status == SubmissionStatus.PENDING and submission.region.code == "140802"

    # The county officer reviews it.
    page.set_viewport_size({"width": 1280, "height": 900})
    login(yanhu_officer)
    page.goto("/liaison/review/")
    results = page.locator("#object-list-results")
    expect(results.get_by_role("link", name="陈思远")).to_be_visible()
    expect(results).to_contain_text("136****2222")
    results.get_by_role("link", name="陈思远").click()
    expect(page.get_by_test_id("no-matches")).to_be_visible()
    page.get_by_test_id("accept").click()
    expect(page.get_by_role("heading", name="陈思远")).to_be_visible()
    expect(page.get_by_text("已新建人才“陈思远”。")).to_be_visible()
    talent = Talent.objects.get(name="陈思远")
    assert talent.source == TalentSource.SELF_REGISTRATION and talent.region.code == "140802"
    assert talent.id_card == NUMBER and talent.gender == "female" and talent.work_unit == "复旦大学附属中山医院"
    assert talent.consent_date is not None and talent.created_by == yanhu_officer
    assert IntakeSubmission.objects.get().status == SubmissionStatus.ACCEPTED
