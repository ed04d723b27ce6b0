"""The cockpit page, a chart's .xlsx, the printed report and the statistics API: each shows the
figures the statistics compute, within the viewer's scope."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from openpyxl import load_workbook

from rencai.core.models import AuditEntry, Region
from rencai.core.models.audit import AuditAction
from rencai.core.testing import PASSWORD, bearer
from rencai.dashboards import services
from rencai.dashboards.cockpit import CockpitQuery, find_chart
from rencai.talents.choices import TalentKind
from rencai.talents.models import Talent
from rencai.talents.tests.helpers import item, make_talent

pytestmark = pytest.mark.django_db


@pytest.fixture
def talents(city_admin):
    yanhu = [
        make_talent(city_admin, name="张伟", gender="male", tier=item("talent_tier", "E")),
        make_talent(city_admin, name="李娜", gender="female"),
        make_talent(city_admin, name="王芳", gender="female", kind=TalentKind.LOCAL),
    ]
    hejin = [make_talent(city_admin, name="赵磊", region_code="140882", gender="male")]
    return yanhu, hejin


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def page_data(response) -> list[dict]:
    text = response.content.decode()
    start = text.index('<script id="cockpit-data" type="application/json">') + len(
        '<script id="cockpit-data" type="application/json">')
    return json.loads(text[start:text.index("</script>", start)])


def chart(sections, key) -> dict:
    return next(c for s in sections for c in s["charts"] if c["key"] == key)


def test_the_cockpit_shows_the_viewers_scope(talents, yanhu_officer, city_staff):
    response = signed_in(yanhu_officer).get("/dashboards/")
    assert response.status_code == 200
    sections = page_data(response)
    assert {i["label"]: i["value"] for i in chart(sections, "gender")["items"]} == {"男": 1, "女": 2}
    assert '<div class="h1 mb-1"><a href="/talents/?" class="text-reset">3</a></div>' in response.content.decode()
    everyone = page_data(signed_in(city_staff).get("/dashboards/"))
    assert {i["label"]: i["value"] for i in chart(everyone, "gender")["items"]} == {"男": 2, "女": 2}


def test_filters_narrow_the_page_and_links_keep_them(talents, city_staff):
    response = signed_in(city_staff).get("/dashboards/", {"kind": TalentKind.NATIVE})
    gender = chart(page_data(response), "gender")
    assert {i["label"]: i["value"] for i in gender["items"]} == {"男": 2, "女": 1}
    assert all("kind=native" in i["link"] for i in gender["items"])


def test_a_leader_sees_the_cockpit_and_no_personal_data(talents, leader):
    response = signed_in(leader).get("/dashboards/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "张伟" not in text  # aggregates only


def test_a_role_without_registry_access_is_refused(refdata, audit_admin):
    client = Client()
    client.force_login(audit_admin)
    assert client.get("/dashboards/").status_code == 403
    assert client.get("/api/dashboards/charts/gender/", headers=bearer(audit_admin)).status_code == 403


def test_a_chart_downloads_as_xlsx_with_its_figures_and_is_audited(talents, yanhu_officer):
    response = signed_in(yanhu_officer).get("/dashboards/charts/gender.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows()]
    assert rows[0][0] == "运城市 · 性别"
    assert ("项目", "人数", "占比") in rows
    body = {r[0]: r[1] for r in rows[4:] if r[0]}
    assert body["男"] == 1 and body["女"] == 2 and body["合计"] == 3
    entry = AuditEntry.objects.filter(action=AuditAction.EXPORT).latest("id")
    assert entry.object_id == "gender" and entry.actor == yanhu_officer
    assert signed_in(yanhu_officer).get("/dashboards/charts/nope.xlsx").status_code == 404


def test_the_report_names_the_city_and_holds_the_figures(talents, city_staff):
    response = signed_in(city_staff).get("/dashboards/report/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "运城市人才工作统计报告" in text
    assert '<tr data-figure="total"><td>人才总数</td><td class="text-end">4</td>' in text
    assert "<tr><td>女</td><td class=\"text-end\">2</td><td class=\"text-end\">50.0%</td></tr>" in text


def test_a_label_that_starts_like_a_formula_stays_text(city_admin, city_staff):
    make_talent(city_admin, name="张伟", research_fields="=1+1；材料")
    response = signed_in(city_staff).get("/dashboards/charts/research_field.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    labels = [row[0].value for row in sheet.iter_rows(min_row=5)]
    assert "'=1+1" in labels and sheet["A5"].data_type == "s"


def test_out_of_range_dates_answer_422_in_the_api_and_the_page_still_shows(talents, city_staff):
    params = {"registered_to": "9999-12-31"}
    assert Client().get("/api/dashboards/figures/", params, headers=bearer(city_staff)).status_code == 422
    assert signed_in(city_staff).get("/dashboards/", params).status_code == 200
    assert signed_in(city_staff).get("/talents/", params).status_code == 200


def test_the_report_title_follows_the_configured_city(talents, city_staff, settings):
    settings.CITY_CODE = "140100"  # 太原市
    assert services.report_title() == "太原市人才工作统计报告"


def test_the_api_serves_each_chart_in_the_callers_scope(talents, yanhu_officer, hejin_officer):
    client = Client()
    response = client.get("/api/dashboards/charts/gender/", headers=bearer(yanhu_officer))
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert {i["label"]: i["value"] for i in body["items"]} == {"男": 1, "女": 2}
    query = CockpitQuery(yanhu_officer, {})
    direct = services.chart_data(find_chart(yanhu_officer, "gender"), query)
    assert body == {k: v for k, v in json.loads(json.dumps(direct)).items() if k not in ("wide", "height")}
    listing = client.get("/api/dashboards/charts/", headers=bearer(yanhu_officer)).json()
    assert {"gender", "age_band", "contact_channel"} <= {c["key"] for c in listing}
    for info in listing:  # every chart answers
        assert client.get(f"/api/dashboards/charts/{info['key']}/", headers=bearer(yanhu_officer)).status_code == 200
    figures = client.get("/api/dashboards/figures/", headers=bearer(hejin_officer)).json()
    assert figures[0]["figures"][0] == {**figures[0]["figures"][0], "key": "total", "value": 1}


def test_the_api_refuses_a_filter_outside_the_scope(talents, yanhu_officer):
    hejin = Region.objects.get(code="140882")
    response = Client().get("/api/dashboards/charts/gender/", {"region": hejin.pk}, headers=bearer(yanhu_officer))
    assert response.status_code == 422
    assert "region" in response.json()["errors"]
    assert Client().get("/api/dashboards/charts/nope/", headers=bearer(yanhu_officer)).status_code == 404
    assert Client().get("/api/dashboards/charts/gender/").status_code == 401


def test_figures_follow_creates_edits_and_deletes(talents, city_admin, city_staff):
    def total():
        return services.cockpit_data(CockpitQuery(city_staff, {}))[0]["figures"][0]["value"]

    assert total() == Talent.objects.count() == 4
    extra = make_talent(city_admin, name="孙丽", gender="female")
    assert total() == 5
    extra.delete()
    assert total() == 4
