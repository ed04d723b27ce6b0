"""The cockpit in headless Chromium: every chart is drawn, a click on a bar opens the talent
list behind it, the report draws its charts for print; a screenshot of each is saved. Any console
error fails the test (see the ``page`` fixture)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from rencai.core.testing import PASSWORD
from rencai.demo import run_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def screenshots() -> Path:
    folder = Path(os.environ.get("RENCAI_TEST_ARTIFACTS", settings.VAR_DIR / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_cockpit_draws_every_chart_and_drills_down(page, login, refdata, city_staff):
    run_demo(password=PASSWORD)
    login(city_staff)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/dashboards/")
    charts = page.locator("[data-chart]")
    count = charts.count()
    assert count >= 20
    expect(page.locator("[data-chart][data-drawn=true]")).to_have_count(count, timeout=15_000)
    for i in range(count):  # each one drew something of its own
        assert charts.nth(i).locator("canvas").count() == 1
    page.screenshot(path=str(screenshots() / "cockpit.png"), full_page=True)

    # A bar of the age chart: its link is the talent list with the band's ages.
    age = page.locator("[data-chart=age_band]")
    age.scroll_into_view_if_needed()
    box = age.bounding_box()
    # Where ECharts drew the first band's bar: halfway up it.
    x, y = page.evaluate("""(el) => {
        const chart = echarts.getInstanceByDom(el);
        const value = chart.getOption().series[0].data[0].value;
        return chart.convertToPixel({seriesIndex: 0}, [0, value / 2]);
    }""", age.element_handle())
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url("**/talents/?*")
    assert "age_max=35" in page.url
    expect(page.locator("h2.page-title")).to_contain_text("人才")


def test_the_report_draws_its_charts_for_print(page, login, refdata, leader):
    run_demo(password=PASSWORD)
    login(leader)
    page.goto("/dashboards/report/")
    expect(page.locator("h1.rencai-report-title")).to_have_text("运城市人才工作统计报告")
    charts = page.locator("[data-chart]")
    expect(page.locator("[data-chart][data-drawn=true]")).to_have_count(charts.count(), timeout=15_000)
    assert page.locator("[data-chart] svg").count() == charts.count()
    page.emulate_media(media="print")
    assert page.locator("aside").first.is_hidden()
    page.screenshot(path=str(screenshots() / "report.png"), full_page=True)
    pdf = page.pdf(format="A4")
    assert pdf[:4] == b"%PDF" and len(pdf) > 20_000
