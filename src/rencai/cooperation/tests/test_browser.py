"""Province–university cooperation in headless Chromium: a county officer opens a signed project,
moves it to 落地 with the stage form on its page, sees the step in its history, and finds the
cockpit's 落地 figures changed. Any console error fails the test (see the ``page`` fixture)."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from rencai.cooperation.choices import Stage
from rencai.cooperation.models import Project
from rencai.cooperation.tests.helpers import make_project, make_university

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_officer_lands_a_project_and_the_cockpit_counts_it(page, login, city_staff, yanhu_officer):
    whu = make_university("武汉大学")
    signed_on = dt.date.today() - dt.timedelta(days=20)
    project = make_project(city_staff, name="武大—盐湖区锂电材料中试项目", university=whu, stage=Stage.SIGNED,
                           on=signed_on, amount="12000")
    make_project(city_staff, name="另一签约项目", university=whu, stage=Stage.SIGNED, on=signed_on)

    login(yanhu_officer)
    page.goto("/dashboards/")
    expect(page.locator("[data-figure=projects_landed] .h1")).to_have_text("0")
    expect(page.locator("[data-figure=landing_rate] .h1")).to_have_text("0.0%")

    page.goto(f"/cooperation/projects/{project.pk}/")
    expect(page.get_by_test_id("project-stage")).to_have_text("签约")
    form = page.get_by_test_id("stage-move")
    form.get_by_label("转到阶段").select_option(label="落地")
    form.get_by_label("日期").fill(f"{dt.date.today():%Y-%m-%d}")
    form.get_by_role("button", name="变更阶段").click()
    expect(page.get_by_test_id("project-stage")).to_have_text("落地")
    expect(page.get_by_test_id("stage-history")).to_contain_text("签约 → 落地")
    project.refresh_from_db()
    assert (project.stage, project.landed_on) == (Stage.LANDED, dt.date.today())

    page.goto("/dashboards/")
    expect(page.locator("[data-figure=projects_landed] .h1")).to_have_text("1")
    expect(page.locator("[data-figure=projects_landed_year] .h1")).to_have_text("1")
    expect(page.locator("[data-figure=landing_rate] .h1")).to_have_text("50.0%")
    # The figure drills down to the landed project.
    page.locator("[data-figure=projects_landed] a").click()
    expect(page.locator("table")).to_contain_text("武大—盐湖区锂电材料中试项目")
    expect(page.locator("table")).not_to_contain_text("另一签约项目")
    assert Project.objects.filter(landed_on__isnull=False).count() == 1
