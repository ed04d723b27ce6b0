"""Cooperation pages: every list and form renders for the roles that use them, scope per persona
(another county's project, agreement, report or document is a 404), moving a project through its
stages from its page, the reports owed and the rectifications overdue shown where people look,
agreement documents (type and size checked, served only within scope, downloads audited), a lead
turned into a project from its tab, the figures page and the 调度会 pack as a real .xlsx, and the
cockpit's cooperation section."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from openpyxl import load_workbook

from rencai.cooperation import services
from rencai.cooperation.choices import Stage
from rencai.cooperation.models import AgreementDocument, Problem, Project, Report, Supervision
from rencai.cooperation.tests.helpers import make_agreement, make_project, make_university
from rencai.core.models import AuditEntry
from rencai.core.models.audit import AuditAction
from rencai.liaison.choices import LeadKind, LeadStatus
from rencai.liaison.models import Lead
from rencai.talents.tests.helpers import region

pytestmark = pytest.mark.django_db

LISTS = ["university_list", "agreement_list", "project_list", "report_list", "supervision_list", "problem_list",
         "base_list", "expert_list", "achievement_list", "visit_list", "cooperation_figures", "cooperation_pack"]
ADDS = ["university_add", "agreement_add", "project_add", "report_add", "supervision_add", "problem_add", "base_add",
        "expert_add", "achievement_add", "visit_add", "milestone_add", "followup_add", "universitycontact_add"]


@pytest.fixture
def data(city_staff):
    whu = make_university("武汉大学")
    yanhu = make_project(city_staff, name="盐湖储能材料项目", region_code="140802", university=whu,
                         stage=Stage.SIGNED, on=dt.date(2024, 1, 15))
    hejin = make_project(city_staff, name="河津铝基新材料项目", region_code="140882", university=whu,
                         stage=Stage.SIGNED, on=dt.date(2024, 1, 15))
    supervision = services.save(Supervision(project=hejin, on=dt.date(2024, 2, 1), inspector="督查组"), user=city_staff)
    services.save(Problem(supervision=supervision, description="环评手续滞后", deadline=dt.date(2024, 3, 1)),
                  user=city_staff)
    agreement = make_agreement(city_staff, university=whu, region_code="140882", title="河津—武大合作协议")
    return {"whu": whu, "yanhu": yanhu, "hejin": hejin, "agreement": agreement, "supervision": supervision}


@pytest.mark.parametrize("name", LISTS)
def test_every_list_renders_for_staff_and_leaders(client, city_staff, leader, data, name):
    from django.urls import reverse

    for user in (city_staff, leader):
        client.force_login(user)
        response = client.get(reverse(name))
        assert response.status_code == 200, (name, user)


def test_every_add_form_renders_for_staff_but_not_for_leaders(client, city_staff, leader, data):
    from django.urls import reverse

    client.force_login(city_staff)
    for name in ADDS:
        assert client.get(reverse(name)).status_code == 200, name
    client.force_login(leader)
    for name in ADDS:
        assert client.get(reverse(name)).status_code == 403, name


def test_a_county_officer_sees_only_their_county(client, yanhu_officer, data):
    client.force_login(yanhu_officer)
    page = client.get("/cooperation/projects/").content.decode()
    assert "盐湖储能材料项目" in page and "河津铝基新材料项目" not in page
    for url in (f"/cooperation/projects/{data['hejin'].pk}/", f"/cooperation/agreements/{data['agreement'].pk}/",
                f"/cooperation/supervisions/{data['supervision'].pk}/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/cooperation/projects/{data['hejin'].pk}/move/",
                       {"to_stage": Stage.LANDED, "on": "2024-02-01"}).status_code == 404
    data["hejin"].refresh_from_db()
    assert data["hejin"].stage == Stage.SIGNED
    figures = client.get("/cooperation/figures/?by=region").content.decode()
    assert "盐湖区" in figures and "河津市" not in figures
    pack = client.get("/cooperation/pack/").content.decode()
    assert "河津铝基新材料项目" not in pack and "环评手续滞后" not in pack
    university = client.get(f"/cooperation/universities/{data['whu'].pk}/").content.decode()
    assert "盐湖储能材料项目" in university and "河津铝基新材料项目" not in university


def test_a_project_moves_from_its_page_and_a_wrong_step_is_refused(client, city_staff, data):
    client.force_login(city_staff)
    project = data["yanhu"]
    page = client.get(f"/cooperation/projects/{project.pk}/").content.decode()
    assert 'data-testid="stage-move"' in page and "落地" in page
    response = client.post(f"/cooperation/projects/{project.pk}/move/", {"to_stage": Stage.COMPLETED, "on": "2024-02-01"},
                           follow=True)
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED
    assert "选择一个有效的选项" in response.content.decode() or "不能从" in response.content.decode()
    response = client.post(f"/cooperation/projects/{project.pk}/move/", {"to_stage": Stage.LANDED, "on": "2024-02-01"},
                           follow=True)
    project.refresh_from_db()
    assert (project.stage, project.landed_on) == (Stage.LANDED, dt.date(2024, 2, 1))
    assert "已转到落地阶段" in response.content.decode()


def test_a_new_project_is_entered_through_the_form(client, yanhu_officer, data):
    client.force_login(yanhu_officer)
    response = client.post("/cooperation/projects/add/", {
        "name": "运城学院—盐湖区智慧农业项目", "university": data["whu"].pk, "region": region("140802").pk,
        "start_stage": Stage.SIGNED, "start_on": "2024-05-06", "amount": "850", "leader": "王强 副区长",
        "databases": [],
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    project = Project.objects.get(name="运城学院—盐湖区智慧农业项目")
    assert (project.stage, project.signed_on, project.region.code) == (Stage.SIGNED, dt.date(2024, 5, 6), "140802")
    assert project.stage_changes.count() == 1
    refused = client.post("/cooperation/projects/add/", {
        "name": "跨县", "university": data["whu"].pk, "region": region("140882").pk, "start_stage": Stage.NEGOTIATING,
        "start_on": "2024-05-06"})
    assert refused.status_code == 200 and not Project.objects.filter(name="跨县").exists()


def test_owed_reports_and_overdue_problems_are_shown(client, city_staff, data):
    client.force_login(city_staff)
    page = client.get(f"/cooperation/projects/{data['hejin'].pk}/").content.decode()
    assert 'data-testid="missing-reports"' in page and "2024-01" in page
    assert "逾期未整改" in page
    reports = client.get("/cooperation/reports/").content.decode()
    assert "河津铝基新材料项目" in reports and "应报未报" in reports
    response = client.post(f"/cooperation/reports/add/?project={data['hejin'].pk}", {
        "project": data["hejin"].pk, "period": "2024-01-01", "percent_done": "15", "work": "完成备案",
    })
    assert response.status_code == 302
    assert Report.objects.filter(project=data["hejin"], period=dt.date(2024, 1, 1)).exists()
    refused = client.post("/cooperation/reports/add/", {
        "project": data["hejin"].pk, "period": "2024-01-09", "percent_done": "15", "work": "x"})
    assert refused.status_code == 200 and "报告期须为调度周期的第一天" in refused.content.decode()


def test_documents_are_checked_served_in_scope_and_audited(client, city_staff, yanhu_officer, data, tmp_path):
    agreement = data["agreement"]
    with override_settings(DOCUMENT_DIR=tmp_path, DOCUMENT_MAX_MB=1):
        client.force_login(city_staff)
        url = f"/cooperation/agreements/{agreement.pk}/documents/"
        bad = client.post(url, {"title": "脚本", "file": SimpleUploadedFile("x.exe", b"MZ")}, follow=True)
        assert "不支持该文件类型" in bad.content.decode()
        big = client.post(url, {"file": SimpleUploadedFile("big.pdf", b"0" * (1024 * 1024 + 1))}, follow=True)
        assert "文件过大" in big.content.decode()
        assert not AgreementDocument.objects.exists()
        client.post(url, {"title": "协议正文", "file": SimpleUploadedFile("协议.pdf", b"%PDF-1.4 test")})
        document = AgreementDocument.objects.get()
        assert document.size == len(b"%PDF-1.4 test") and (tmp_path / document.file.name).is_file()
        download = client.get(f"/cooperation/documents/{document.pk}/")
        assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 test"
        assert AuditEntry.objects.filter(action=AuditAction.EXPORT, object_type="cooperation.agreementdocument").exists()
        client.force_login(yanhu_officer)  # a 河津 agreement
        assert client.get(f"/cooperation/documents/{document.pk}/").status_code == 404


def test_a_lead_becomes_a_project_from_its_tab(client, city_staff, yanhu_officer, data):
    lead = services.save(Lead(kind=LeadKind.PROJECT, title="校友企业拟在盐湖区设立研发中心", region=region("140802")),
                         user=city_staff)
    client.force_login(yanhu_officer)
    tab = client.get(f"/liaison/leads/{lead.pk}/tab/cooperation/").content.decode()
    assert 'data-testid="lead-convert"' in tab
    response = client.post(f"/cooperation/leads/{lead.pk}/convert/")
    project = Project.objects.get(lead=lead)
    assert response.status_code == 302 and response["Location"] == f"/cooperation/projects/{project.pk}/"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    tab = client.get(f"/liaison/leads/{lead.pk}/tab/cooperation/").content.decode()
    assert "已转为合作项目" in tab and 'data-testid="lead-convert"' not in tab
    client.post(f"/cooperation/leads/{lead.pk}/convert/")
    assert Project.objects.filter(lead=lead).count() == 1


def test_the_figures_page_and_the_pack(client, city_staff, data):
    services.move(data["yanhu"], Stage.LANDED, user=city_staff, on=dt.date(2024, 3, 1))
    client.force_login(city_staff)
    page = client.get("/cooperation/figures/?by=university").content.decode()
    assert 'data-testid="total-landing-rate">50.0%' in page
    response = client.get("/cooperation/pack/download/")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["按县区汇总", "按院校汇总", "在建项目进度", "未报调度", "整改问题", "协议到期提醒"]
    by_county = {row[0]: row for row in book["按县区汇总"].iter_rows(min_row=3, values_only=True)}
    assert by_county["盐湖区"][3] == 1 and by_county["合计"][3] == 2
    under_way = [row[1] for row in book["在建项目进度"].iter_rows(min_row=3, values_only=True)]
    assert sorted(under_way) == ["河津铝基新材料项目", "盐湖储能材料项目"]
    owed = {(row[1], row[3]) for row in book["未报调度"].iter_rows(min_row=3, values_only=True)}
    assert ("河津铝基新材料项目", "2024-01") in owed
    problems = [row[4] for row in book["整改问题"].iter_rows(min_row=3, values_only=True)]
    assert problems == ["环评手续滞后"]
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT, object_type="cooperation_pack").exists()


def test_the_cockpit_has_a_cooperation_section(client, leader, city_staff, data):
    from urllib.parse import parse_qs, urlsplit

    from rencai.cooperation.filters import ProjectFilterSet
    from rencai.dashboards.cockpit import CockpitQuery
    from rencai.dashboards.services import cockpit_data

    services.move(data["hejin"], Stage.LANDED, user=city_staff, on=dt.date(2024, 3, 1))
    client.force_login(leader)
    page = client.get("/dashboards/").content.decode()
    assert "省校合作" in page and 'data-figure="landing_rate"' in page and "50.0%" in page
    section = next(s for s in cockpit_data(CockpitQuery(leader, {})) if s["key"] == "cooperation")
    # From the in-memory columns, the same as by queries; and the same after another step.
    assert section == next(s for s in cockpit_data(CockpitQuery(leader, {}, fresh=True)) if s["key"] == "cooperation")
    services.move(data["yanhu"], Stage.TERMINATED, user=city_staff, on=dt.date(2024, 3, 2), note="撤资")
    from rencai.core.testing import make_user

    officer = make_user("hejin2", roles=["county_officer"], regions=["140882"])
    for viewer in (city_staff, officer, leader):
        section, queries = (next(s for s in cockpit_data(CockpitQuery(viewer, {}, fresh=fresh))
                                 if s["key"] == "cooperation") for fresh in (False, True))
        assert section == queries
    figures = {f["key"]: f for f in section["figures"]}
    assert figures["projects_landed"]["value"] == 1 and figures["landing_rate"]["unit"] == "%"
    # Every bar opens the project list of exactly its projects.
    for chart in section["charts"]:
        for item in chart["items"]:
            parts = urlsplit(item["link"])
            assert parts.path == "/cooperation/projects/"
            query = {k: v if k == "stage" else v[0] for k, v in parse_qs(parts.query).items()}
            found = ProjectFilterSet(query, queryset=Project.objects.restrict(leader, "view"), user=leader).qs
            assert found.count() == item["value"], (chart["key"], item)


def test_experts_are_found_like_the_registry_and_shown_on_the_talents_page(client, city_admin, city_staff, data):
    from rencai.cooperation.models import Expert
    from rencai.talents.tests.helpers import make_talent

    talent = make_talent(city_admin, name="欧阳明远", region_code="140802", work_unit="武汉大学材料学院")
    other = make_talent(city_admin, name="赵小兰", region_code="140802")
    expert = services.save(Expert(talent=talent, university=data["whu"], expertise="锂电池正极材料；冶金"),
                           user=city_staff, m2m={"databases": services.default_databases("expert")})
    services.save(Expert(talent=other, university=data["whu"], expertise="农业经济"), user=city_staff)
    client.force_login(city_staff)
    for query in ("欧阳明远", "oymy", "ouyang", "正极材料"):
        page = client.get("/cooperation/experts/", {"q": query}).content.decode()
        assert "欧阳明远" in page and "赵小兰" not in page, query
    database = expert.databases.get()
    assert "欧阳明远" in client.get("/cooperation/experts/", {"database": database.pk}).content.decode()
    tab = client.get(f"/talents/{talent.pk}/tab/expert/").content.decode()
    assert "锂电池正极材料" in tab and 'data-testid="talent-expert"' in tab
    form = client.get(f"/cooperation/experts/add/?talent={other.pk}").content.decode()
    assert "赵小兰" in form


def test_a_follow_up_is_signed_as_an_agreement_from_the_visit(client, yanhu_officer, city_staff, data):
    from rencai.cooperation.choices import FollowUpStatus
    from rencai.cooperation.models import Agreement, FollowUp, Visit

    visit = services.save(Visit(university=data["whu"], on=dt.date(2024, 4, 2), region=region("140802"),
                                delegation="盐湖区委书记一行", agreed="共建储能研究院"), user=city_staff)
    item = services.save(FollowUp(visit=visit, description="签订盐湖区—武汉大学储能研究院共建协议"), user=city_staff)
    client.force_login(yanhu_officer)
    page = client.get(f"/cooperation/visits/{visit.pk}/").content.decode()
    assert f"/cooperation/agreements/add/?follow_up={item.pk}" in page
    form = client.get(f"/cooperation/agreements/add/?follow_up={item.pk}").content.decode()
    assert "储能研究院共建协议" in form
    response = client.post(f"/cooperation/agreements/add/?follow_up={item.pk}", {
        "title": "盐湖区—武汉大学储能研究院共建协议", "university": data["whu"].pk, "partner_kind": "county",
        "partner": "盐湖区人民政府", "region": region("140802").pk, "signed_on": "2024-05-10",
        "classes": [], "status": "active", "visit": visit.pk})
    assert response.status_code == 302, response.content.decode()[:3000]
    agreement = Agreement.objects.get(title="盐湖区—武汉大学储能研究院共建协议")
    item.refresh_from_db()
    assert (item.status, item.agreement, agreement.visit) == (FollowUpStatus.AGREEMENT, agreement, visit)
    assert f"/cooperation/agreements/{agreement.pk}/" in client.get(f"/cooperation/visits/{visit.pk}/").content.decode()


def test_a_county_officer_edits_a_project_under_a_city_agreement_without_losing_it(client, city_staff, yanhu_officer,
                                                                                     data):
    from rencai.talents.tests.helpers import form_values

    city_agreement = make_agreement(city_staff, region_code="140800", title="市校全面合作协议")
    Project.objects.filter(pk=data["yanhu"].pk).update(agreement=city_agreement)
    client.force_login(yanhu_officer)
    page = client.get(f"/cooperation/projects/{data['yanhu'].pk}/edit/").content.decode()
    values = form_values(page)
    assert values.get("agreement") == str(city_agreement.pk)
    values["leader"] = "李华 副区长"
    response = client.post(f"/cooperation/projects/{data['yanhu'].pk}/edit/", values)
    assert response.status_code == 302, response.content.decode()[:3000]
    project = Project.objects.get(pk=data["yanhu"].pk)
    assert (project.agreement, project.leader) == (city_agreement, "李华 副区长")
    # The new-project form does not offer the city's agreement to the county.
    assert "市校全面合作协议" not in client.get("/cooperation/projects/add/").content.decode()


def test_the_pack_download_holds_the_county_only(client, yanhu_officer, data):
    client.force_login(yanhu_officer)
    book = load_workbook(io.BytesIO(client.get("/cooperation/pack/download/").content), read_only=True)
    text = {str(value) for sheet in book for row in sheet.iter_rows(values_only=True) for value in row if value}
    assert "盐湖储能材料项目" in text
    assert not {"河津铝基新材料项目", "环评手续滞后", "河津市", "河津—武大合作协议"} & text


def test_text_that_looks_like_a_formula_stays_text_in_the_pack(client, city_staff, data):
    Project.objects.filter(pk=data["yanhu"].pk).update(name="=HYPERLINK(\"http://x\",\"点击\")")
    client.force_login(city_staff)
    book = load_workbook(io.BytesIO(client.get("/cooperation/pack/download/").content))
    names = [row[1].value for row in book["在建项目进度"].iter_rows(min_row=3)]
    assert "'=HYPERLINK(\"http://x\",\"点击\")" in names
    assert all(cell.data_type != "f" for sheet in book for row in sheet.iter_rows() for cell in row)
