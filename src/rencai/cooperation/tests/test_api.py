"""The cooperation API: records made, read, changed and deleted through it; scope per persona (a
盐湖区 officer gets 404 for 河津市's projects and leads and sees none of their rows in lists,
figures or missing reports); a leader reads but cannot write and sees masked mobiles; the stage
flow refused with 422 naming the field; a lead converted once; the landing rate as counted; a
missing report gone once it is posted."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rencai.cooperation import services
from rencai.cooperation.choices import FollowUpStatus, Stage
from rencai.cooperation.models import (
    Agreement,
    AgreementDocument,
    FollowUp,
    Project,
    Report,
    StageChange,
    University,
    UniversityContact,
    Visit,
)
from rencai.core import audit
from rencai.core.models import AuditEntry
from rencai.core.models.audit import AuditAction
from rencai.core.testing import bearer
from rencai.liaison import services as liaison_services
from rencai.liaison.choices import LeadKind, LeadStatus
from rencai.liaison.models import Lead
from rencai.talents.tests.helpers import item, make_talent, region

pytestmark = pytest.mark.django_db

API = "/api/cooperation"
MOBILE = "13912345678"
YANHU, HEJIN = "140802", "140882"


@pytest.fixture(autouse=True)
def _quick_passwords(settings):
    """The personas' passwords hashed quickly: these tests sign in by token, and Argon2 costs
    a third of a second a persona."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _today() -> dt.date:
    return timezone.localdate()


def _ago(days: int) -> dt.date:
    return _today() - dt.timedelta(days=days)


def _send(client, method: str, url: str, headers: dict, data=None, if_match: str | None = None):
    if if_match:
        headers = {**headers, "If-Match": if_match}
    return getattr(client, method)(f"{API}{url}", data, content_type="application/json", headers=headers)


def _items(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["items"]


def _ids(response) -> list[int]:
    return [row["id"] for row in _items(response)]


def _errors(response) -> dict:
    assert response.status_code == 422, response.content
    return response.json()["errors"]


def _project(user, name: str, region_code: str, *, stage=Stage.SIGNED, on=None, **fields) -> Project:
    with audit.acting(user):
        return services.create_project(Project(name=name, region=region(region_code), **fields), user=user,
                                       stage=stage, on=on or _ago(100))


@pytest.fixture
def data(city_admin):
    """Two universities, an agreement and projects in 盐湖区 and in 河津市, a lead in each."""
    user = city_admin
    with audit.acting(user):
        sxu = services.save(University(name="山西大学", short_name="山大", province="山西", city="太原"), user=user,
                            m2m={"tags": [item("university_tag", "p211")]})
        tyut = services.save(University(name="太原理工大学", province="山西", city="太原"), user=user)
        services.save(UniversityContact(university=sxu, name="王老师", post="处长", mobile=MOBILE), user=user)
        agreements = {
            "yanhu": services.save_agreement(Agreement(
                title="盐湖区—山西大学合作协议", university=sxu, partner="盐湖区人民政府", signed_on=_ago(300),
                amount="100.00", region=region(YANHU)), user=user, classes=[item("cooperation_class", "project")]),
            "hejin": services.save_agreement(Agreement(
                title="河津市—太原理工大学合作协议", university=tyut, partner="河津市人民政府", signed_on=_ago(300),
                amount="50.00", region=region(HEJIN)), user=user),
        }
        projects = {
            "yanhu": _project(user, "盐湖新材料中试基地", YANHU, agreement=agreements["yanhu"], university=sxu,
                              amount="300.00"),
            "landed": _project(user, "盐湖农业科技园", YANHU, on=_ago(150), university=sxu, amount="200.00"),
            "talk": _project(user, "盐湖人才驿站", YANHU, stage=Stage.NEGOTIATING, on=_ago(20)),
            "hejin": _project(user, "河津铝镁合金研究院", HEJIN, agreement=agreements["hejin"], university=tyut,
                              amount="80.00"),
        }
        services.move(projects["landed"], Stage.LANDED, user=user, on=_ago(90))
        leads = {
            code: liaison_services.save_lead(Lead(kind=LeadKind.PROJECT, title=title, region=region(rc)), user=user)
            for code, title, rc in (("yanhu", "回乡办药厂", YANHU), ("hejin", "镁合金深加工", HEJIN))
        }
    for project in projects.values():
        project.refresh_from_db()
    return {"sxu": sxu, "tyut": tyut, "agreements": agreements, "projects": projects, "leads": leads}


# --- records made, read, changed and deleted -------------------------------------------------------------------
def test_a_university_is_created_listed_read_changed_and_deleted(client, city_staff, data):
    headers = bearer(city_staff)
    response = _send(client, "post", "/universities/", headers, {
        "name": "中北大学", "province": "山西", "city": "太原", "tags": ["industry"], "kind": "university"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["tags"][0]["code"] == "industry" and body["kind_label"] == "高校" and response["ETag"]
    assert [row["name"] for row in _items(client.get(f"{API}/universities/", {"q": "中北"}, headers=headers))] == ["中北大学"]
    tag = item("university_tag", "p211").pk
    assert _ids(client.get(f"{API}/universities/", {"tag": tag}, headers=headers)) == [data["sxu"].pk]
    etag = client.get(f"{API}/universities/{body['id']}", headers=headers)["ETag"]
    changed = _send(client, "patch", f"/universities/{body['id']}", headers, {"short_name": "中北"}, if_match=etag)
    assert changed.status_code == 200 and changed.json()["short_name"] == "中北"
    assert changed.json()["tags"][0]["code"] == "industry"  # not sent: kept
    stale = _send(client, "patch", f"/universities/{body['id']}", headers, {"city": "长治"}, if_match=etag)
    assert stale.status_code == 412
    assert "tags" in _errors(_send(client, "patch", f"/universities/{body['id']}", headers, {"tags": ["ivy"]}))
    assert client.delete(f"{API}/universities/{body['id']}", headers=headers).status_code == 204
    assert not University.objects.filter(pk=body["id"]).exists()
    # A university with agreements is still referenced: refused, nothing deleted.
    assert client.delete(f"{API}/universities/{data['sxu'].pk}", headers=headers).status_code == 409
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="cooperation.university",
                                     actor=city_staff).exists()


def test_a_universitys_contacts_are_a_sub_resource(client, city_staff, yanhu_officer, data):
    url = f"/universities/{data['sxu'].pk}/contacts/"
    # Universities and their contacts are shared by every county: kept by city-level users.
    county = bearer(yanhu_officer)
    assert _send(client, "post", url, county, {"name": "李老师"}).status_code == 403
    assert _send(client, "patch", f"/universities/{data['sxu'].pk}", county, {"city": "x"}).status_code in (403, 404)
    assert [row["name"] for row in _items(client.get(f"{API}{url}", headers=county))] == ["王老师"]
    headers = bearer(city_staff)
    response = _send(client, "post", url, headers, {"name": "李老师", "department": "科技处", "mobile": "13712345678"})
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert [row["name"] for row in _items(client.get(f"{API}{url}", headers=headers))] == ["李老师", "王老师"]
    assert "mobile" in _errors(_send(client, "post", url, headers, {"name": "赵", "mobile": "12345"}))
    changed = _send(client, "patch", f"/contacts/{pk}", headers, {"post": "副处长"})
    assert changed.status_code == 200 and changed.json()["post"] == "副处长"
    assert client.get(f"{API}/contacts/{pk}", headers=headers).json()["mobile"] == "13712345678"
    assert client.delete(f"{API}/contacts/{pk}", headers=headers).status_code == 204
    assert client.get(f"{API}/universities/999999/contacts/", headers=headers).status_code == 404


def test_an_agreement_takes_classes_by_code_and_its_status_from_its_term(client, yanhu_officer, data):
    headers = bearer(yanhu_officer)
    response = _send(client, "post", "/agreements/", headers, {
        "title": "盐湖区人才合作协议", "university": data["tyut"].pk, "partner": "盐湖区委组织部",
        "partner_kind": "department", "signed_on": _ago(400).isoformat(), "expires_on": _ago(10).isoformat(),
        "classes": ["talent", "platform"], "amount": "12.50"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["region"]["code"] == YANHU  # a county officer's own county when none is given
    assert {c["code"] for c in body["classes"]} == {"talent", "platform"}
    assert body["status"] == "expired" and body["amount"] == "12.50"
    renewed = _send(client, "patch", f"/agreements/{body['id']}", headers,
                    {"expires_on": (_today() + dt.timedelta(days=30)).isoformat()})
    assert renewed.json()["status"] == "active"
    assert _ids(client.get(f"{API}/agreements/", {"expiring": "true"}, headers=headers)) == [body["id"]]
    terminated = _send(client, "patch", f"/agreements/{body['id']}", headers, {"status": "terminated"})
    assert terminated.json()["status_label"] == "终止"
    assert "status" in _errors(_send(client, "patch", f"/agreements/{body['id']}", headers, {"status": "expired"}))
    assert "classes" in _errors(_send(client, "patch", f"/agreements/{body['id']}", headers, {"classes": ["x"]}))
    too_early = _send(client, "patch", f"/agreements/{body['id']}", headers, {"expires_on": _ago(500).isoformat()})
    assert too_early.status_code == 422
    assert client.delete(f"{API}/agreements/{body['id']}", headers=headers).status_code == 204


def test_an_agreements_documents_are_listed_with_their_metadata(client, yanhu_officer, data):
    agreement = data["agreements"]["yanhu"]
    AgreementDocument.objects.create(agreement=agreement, title="协议文本", file="agreements/2024/05/xieyi.pdf",
                                     size=2048)
    headers = bearer(yanhu_officer)
    rows = _items(client.get(f"{API}/agreements/{agreement.pk}/documents/", headers=headers))
    assert [(r["title"], r["file_name"], r["size"]) for r in rows] == [("协议文本", "xieyi.pdf", 2048)]
    hejin = data["agreements"]["hejin"]
    assert client.get(f"{API}/agreements/{hejin.pk}/documents/", headers=headers).status_code == 404


def test_a_project_is_created_at_its_start_stage_changed_and_deleted(client, yanhu_officer, data):
    headers = bearer(yanhu_officer)
    agreement = data["agreements"]["yanhu"]
    response = _send(client, "post", "/projects/", headers, {
        "name": "盐湖光伏材料联合实验室", "agreement": agreement.pk, "line": "platform", "amount": "45.00",
        "leader": "张副区长", "stage": "signed", "stage_on": _ago(5).isoformat()})
    assert response.status_code == 201, response.content
    body = response.json()
    # The agreement's university and region carry over; the project joins the default 项目库.
    assert body["university"]["id"] == data["sxu"].pk and body["region"]["code"] == YANHU
    assert body["stage"] == "signed" and body["signed_on"] == _ago(5).isoformat()
    assert body["line"]["code"] == "platform" and [d["code"] for d in body["databases"]] == ["projects"]
    assert body["allowed_moves"] == ["landed", "terminated"]
    pk = body["id"]
    assert pk in _ids(client.get(f"{API}/projects/", {"stage": ["signed"]}, headers=headers))
    assert pk not in _ids(client.get(f"{API}/projects/", {"stage": ["negotiating"]}, headers=headers))
    etag = client.get(f"{API}/projects/{pk}", headers=headers)["ETag"]
    changed = _send(client, "patch", f"/projects/{pk}", headers, {"enterprise": "运城光电公司"}, if_match=etag)
    assert changed.status_code == 200 and changed.json()["enterprise"] == "运城光电公司"
    assert _send(client, "patch", f"/projects/{pk}", headers, {"leader": "李"}, if_match=etag).status_code == 412
    # The stage is not a field: it moves only through move/.
    assert "stage" in _errors(_send(client, "patch", f"/projects/{pk}", headers, {"stage": "landed"}))
    assert "stage" in _errors(_send(client, "post", "/projects/", headers, {"name": "x", "stage": "landed"}))
    future = (_today() + dt.timedelta(days=3)).isoformat()
    assert "stage_on" in _errors(_send(client, "post", "/projects/", headers, {"name": "x", "stage_on": future}))
    assert "line" in _errors(_send(client, "post", "/projects/", headers, {"name": "x", "line": "nope"}))
    assert client.delete(f"{API}/projects/{pk}", headers=headers).status_code == 204
    assert not Project.objects.filter(pk=pk).exists()


def test_milestones_are_a_sub_resource_of_a_project(client, yanhu_officer, data):
    headers = bearer(yanhu_officer)
    project = data["projects"]["yanhu"]
    url = f"/projects/{project.pk}/milestones/"
    response = _send(client, "post", url, headers, {"title": "完成设备安装", "due_on": "2030-06-30"})
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["project"] == project.pk
    assert _ids(client.get(f"{API}{url}", headers=headers)) == [pk]
    done = _send(client, "patch", f"/milestones/{pk}", headers, {"done_on": _today().isoformat()})
    assert done.status_code == 200 and done.json()["done_on"] == _today().isoformat()
    assert "due_on" in _errors(_send(client, "post", url, headers, {"title": "x"}))
    assert client.delete(f"{API}/milestones/{pk}", headers=headers).status_code == 204
    hejin = data["projects"]["hejin"]
    assert _send(client, "post", f"/projects/{hejin.pk}/milestones/", headers,
                 {"title": "x", "due_on": "2030-01-01"}).status_code == 404


def test_supervision_problems_are_found_and_closed(client, yanhu_officer, data):
    headers = bearer(yanhu_officer)
    project = data["projects"]["yanhu"]
    response = _send(client, "post", "/supervisions/", headers, {
        "project": project.pk, "on": _ago(10).isoformat(), "inspector": "市委人才办督导组", "findings": "进度滞后"})
    assert response.status_code == 201, response.content
    supervision = response.json()
    assert supervision["region"]["code"] == YANHU and supervision["problems"] == []
    problem = _send(client, "post", f"/supervisions/{supervision['id']}/problems/", headers,
                    {"description": "设备未到位", "deadline": _ago(1).isoformat()})
    assert problem.status_code == 201, problem.content
    pk = problem.json()["id"]
    assert _ids(client.get(f"{API}/problems/", {"state": "overdue"}, headers=headers)) == [pk]
    assert [p["id"] for p in client.get(f"{API}/supervisions/{supervision['id']}", headers=headers).json()["problems"]] == [pk]
    assert "closure" in _errors(_send(client, "post", f"/problems/{pk}/close/", headers, {"closure": " "}))
    assert "on" in _errors(_send(client, "post", f"/problems/{pk}/close/", headers,
                                 {"closure": "已到位", "on": _ago(20).isoformat()}))
    closed = _send(client, "post", f"/problems/{pk}/close/", headers, {"closure": "设备已到位"})
    assert closed.status_code == 200, closed.content
    assert closed.json()["closed_on"] == _today().isoformat() and closed.json()["closure"] == "设备已到位"
    assert _ids(client.get(f"{API}/problems/", {"state": "closed"}, headers=headers)) == [pk]
    assert "project" in _errors(_send(client, "post", "/supervisions/", headers, {
        "project": data["projects"]["hejin"].pk, "on": _ago(1).isoformat(), "inspector": "x"}))
    assert client.delete(f"{API}/supervisions/{supervision['id']}", headers=headers).status_code == 204


def test_a_report_is_filed_changed_and_checked(client, yanhu_officer, data):
    headers = bearer(yanhu_officer)
    project = data["projects"]["yanhu"]
    period = services.period_start(_today())
    response = _send(client, "post", "/reports/", headers, {
        "project": project.pk, "period": period.isoformat(), "percent_done": 40, "work": "完成厂房改造"})
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["project"] == {"id": project.pk, "name": project.name}
    assert _ids(client.get(f"{API}/reports/", {"project": project.pk}, headers=headers)) == [pk]
    changed = _send(client, "patch", f"/reports/{pk}", headers, {"percent_done": 55, "blockers": "资金"})
    assert changed.status_code == 200 and changed.json()["percent_done"] == 55
    assert "percent_done" in _errors(_send(client, "patch", f"/reports/{pk}", headers, {"percent_done": 101}))
    again = _send(client, "post", "/reports/", headers,
                  {"project": project.pk, "period": period.isoformat(), "percent_done": 10, "work": "重复"})
    assert again.status_code == 422  # one report a period
    assert "period" in _errors(_send(client, "post", "/reports/", headers, {
        "project": project.pk, "period": (period + dt.timedelta(days=1)).isoformat(), "percent_done": 1, "work": "x"}))
    assert "project" in _errors(_send(client, "post", "/reports/", headers, {
        "project": data["projects"]["talk"].pk, "period": period.isoformat(), "percent_done": 1, "work": "x"}))
    assert client.delete(f"{API}/reports/{pk}", headers=headers).status_code == 204


def test_bases_experts_and_achievements(client, yanhu_officer, city_admin, data):
    headers = bearer(yanhu_officer)
    base = _send(client, "post", "/bases/", headers, {
        "name": "山西大学盐湖实习实训基地", "kind": "internship", "host_unit": "盐湖区人社局",
        "university": data["sxu"].pk, "agreement": data["agreements"]["yanhu"].pk, "status": "running"})
    assert base.status_code == 201, base.content
    assert base.json()["kind"]["code"] == "internship" and base.json()["region"]["code"] == YANHU
    assert "agreement" in _errors(_send(client, "post", "/bases/", headers, {
        "name": "x", "kind": "internship", "host_unit": "x", "university": data["sxu"].pk,
        "agreement": data["agreements"]["hejin"].pk}))
    assert "kind" in _errors(_send(client, "patch", f"/bases/{base.json()['id']}", headers, {"kind": "castle"}))

    mine = make_talent(city_admin, name="张伟")
    theirs = make_talent(city_admin, name="李刚", region_code=HEJIN, native_place=region(HEJIN))
    expert = _send(client, "post", "/experts/", headers, {
        "talent": mine.pk, "university": data["sxu"].pk, "expertise": "新材料、粉末冶金"})
    assert expert.status_code == 201, expert.content
    body = expert.json()
    assert body["talent"] == {"id": mine.pk, "name": "张伟"} and body["region"]["code"] == YANHU
    assert [d["code"] for d in body["databases"]] == ["experts"]
    again = _send(client, "post", "/experts/", headers,
                  {"talent": mine.pk, "university": data["sxu"].pk, "expertise": "x"})
    assert again.status_code == 422  # once per university
    assert "talent" in _errors(_send(client, "post", "/experts/", headers,
                                     {"talent": theirs.pk, "university": data["sxu"].pk, "expertise": "x"}))
    assert "discipline" in _errors(_send(client, "patch", f"/experts/{body['id']}", headers, {"discipline": "zz"}))
    assert _ids(client.get(f"{API}/experts/", {"q": "粉末"}, headers=headers)) == [body["id"]]

    offered = {"title": "高性能镁合金制备技术", "field": "新材料", "university": data["tyut"].pk,
               "maturity": "scale_up", "price_low": "50", "price_high": "80"}
    # Achievements are the city's shared 成果库: a county reads them, city-level users keep them.
    assert _send(client, "post", "/achievements/", headers, offered).status_code == 403
    headers = bearer(city_admin)
    achievement = _send(client, "post", "/achievements/", headers, offered)
    assert achievement.status_code == 201, achievement.content
    assert achievement.json()["maturity_label"] == "中试" and achievement.json()["price_high"] == "80.00"
    assert [d["code"] for d in achievement.json()["databases"]] == ["achievements"]
    assert _send(client, "patch", f"/achievements/{achievement.json()['id']}", headers,
                 {"price_high": "10"}).status_code == 422  # under the lower bound
    for url in (f"/bases/{base.json()['id']}", f"/experts/{body['id']}", f"/achievements/{achievement.json()['id']}"):
        assert client.delete(f"{API}{url}", headers=headers).status_code == 204, url


def test_a_visits_follow_ups_become_a_project_and_a_lead_once(client, yanhu_officer, data):
    headers = bearer(yanhu_officer)
    visit = _send(client, "post", "/visits/", headers, {
        "university": data["sxu"].pk, "on": _ago(7).isoformat(), "delegation": "盐湖区委书记等", "agreed": "共建研究院"})
    assert visit.status_code == 201, visit.content
    visit_id = visit.json()["id"]
    assert visit.json()["region"]["code"] == YANHU
    made = [_send(client, "post", f"/visits/{visit_id}/follow-ups/", headers, {"description": text}).json()["id"]
            for text in ("共建盐湖研究院", "引进博士团队")]
    response = _send(client, "post", f"/follow-ups/{made[0]}/to-project/", headers, {})
    assert response.status_code == 201, response.content
    project = response.json()
    assert project["name"] == "共建盐湖研究院" and project["stage"] == "negotiating"
    assert project["university"]["id"] == data["sxu"].pk and project["region"]["code"] == YANHU
    assert _send(client, "post", f"/follow-ups/{made[0]}/to-project/", headers, {}).status_code == 409
    lead = _send(client, "post", f"/follow-ups/{made[1]}/to-lead/", headers)
    assert lead.status_code == 201, lead.content
    assert lead.json()["kind"] == "project" and lead.json()["region"]["code"] == YANHU
    assert _send(client, "post", f"/follow-ups/{made[1]}/to-lead/", headers).status_code == 409
    follow_ups = client.get(f"{API}/visits/{visit_id}", headers=headers).json()["follow_ups"]
    assert [(f["status"], (f["project"] or {}).get("id"), (f["lead"] or {}).get("id")) for f in follow_ups] == [
        ("project", project["id"], None), ("lead", None, lead.json()["id"])]
    # A converted item keeps its status; an open one may be dropped, not set to a button's status.
    assert "status" in _errors(_send(client, "patch", f"/follow-ups/{made[1]}", headers, {"status": "dropped"}))
    third = _send(client, "post", f"/visits/{visit_id}/follow-ups/", headers, {"description": "联合培养"}).json()["id"]
    assert "status" in _errors(_send(client, "patch", f"/follow-ups/{third}", headers, {"status": "project"}))
    dropped = _send(client, "patch", f"/follow-ups/{third}", headers, {"status": "dropped"})
    assert dropped.json()["status_label"] == "不再推进"
    assert _ids(client.get(f"{API}/visits/", {"follow_up": "project"}, headers=headers)) == [visit_id]


# --- the stage flow -----------------------------------------------------------------------------------------------
# The steps each stage may not take (besides unknown stages); a finished or stopped project takes none.
INVALID_STEPS = {
    Stage.NEGOTIATING: ("negotiating", "landed", "building", "completed"),
    Stage.SIGNED: ("negotiating", "signed", "building", "completed"),
    Stage.LANDED: ("negotiating", "signed", "landed"),
    Stage.BUILDING: ("negotiating", "signed", "landed", "building"),
    Stage.COMPLETED: tuple(Stage.values),
    Stage.TERMINATED: tuple(Stage.values),
}


def test_every_invalid_step_is_refused_naming_to_stage(client, yanhu_officer, city_admin, data):
    projects = {Stage.NEGOTIATING: data["projects"]["talk"], Stage.SIGNED: data["projects"]["yanhu"],
                Stage.LANDED: data["projects"]["landed"]}
    with audit.acting(city_admin):
        for stage, steps in ((Stage.BUILDING, ("landed", "building")), (Stage.COMPLETED, ("landed", "completed")),
                             (Stage.TERMINATED, ("terminated",))):
            project = _project(city_admin, f"处于{stage.label}的项目", YANHU, on=_ago(50))
            for to_stage in steps:
                project = services.move(project, to_stage, user=city_admin, on=_ago(40), note="停止")
            projects[stage] = project
    headers = bearer(yanhu_officer)
    for stage, project in projects.items():
        assert project.stage == stage
        for to_stage in (*INVALID_STEPS[stage], "orbit", ""):
            response = _send(client, "post", f"/projects/{project.pk}/move/", headers,
                             {"to_stage": to_stage, "note": "说明"})
            assert "to_stage" in _errors(response), (stage, to_stage)
        assert "to_stage" in _errors(_send(client, "post", f"/projects/{project.pk}/move/", headers, {}))
        found = Project.objects.get(pk=project.pk)
        assert (found.stage, found.stage_on) == (project.stage, project.stage_on)
    for stage in (Stage.COMPLETED, Stage.TERMINATED):
        assert client.get(f"{API}/projects/{projects[stage].pk}", headers=headers).json()["allowed_moves"] == []


def test_a_move_is_dated_on_or_after_the_current_stage_and_not_in_the_future(client, yanhu_officer, data):
    headers = bearer(yanhu_officer)
    project = data["projects"]["yanhu"]  # 签约 100 days ago
    url = f"/projects/{project.pk}/move/"
    assert "on" in _errors(_send(client, "post", url, headers, {"to_stage": "landed", "on": _ago(101).isoformat()}))
    future = (_today() + dt.timedelta(days=1)).isoformat()
    assert "on" in _errors(_send(client, "post", url, headers, {"to_stage": "landed", "on": future}))
    assert "note" in _errors(_send(client, "post", url, headers, {"to_stage": "terminated", "note": "  "}))
    assert "on" in _errors(_send(client, "post", url, headers, {"to_stage": "landed", "on": "yesterday"}))
    project.refresh_from_db()
    assert project.stage == Stage.SIGNED and project.landed_on is None
    assert StageChange.objects.filter(project=project).count() == 1


def test_valid_moves_set_the_stage_dates_and_keep_the_history(client, yanhu_officer, data):
    headers = bearer(yanhu_officer)
    project = data["projects"]["talk"]  # 洽谈 20 days ago
    url = f"/projects/{project.pk}/move/"
    signed = _send(client, "post", url, headers, {"to_stage": "signed", "on": _ago(10).isoformat()})
    assert signed.status_code == 200, signed.content
    assert signed.json()["signed_on"] == _ago(10).isoformat() and signed.json()["stage_on"] == _ago(10).isoformat()
    etag = signed["ETag"]
    landed = _send(client, "post", url, headers, {"to_stage": "landed", "on": _ago(3).isoformat()}, if_match=etag)
    assert landed.status_code == 200 and landed.json()["landed_on"] == _ago(3).isoformat()
    # A move from a stale read is refused like any other stale write.
    assert _send(client, "post", url, headers, {"to_stage": "building"}, if_match=etag).status_code == 412
    stopped = _send(client, "post", url, headers, {"to_stage": "terminated", "note": "企业资金链断裂"})
    body = stopped.json()
    assert body["stage"] == "terminated" and body["termination_reason"] == "企业资金链断裂"
    assert body["terminated_on"] == _today().isoformat() and body["landed_on"] == _ago(3).isoformat()
    history = _items(client.get(f"{API}/projects/{project.pk}/stages/", headers=headers))
    assert [(row["from_stage"], row["to_stage"]) for row in history] == [
        ("", "negotiating"), ("negotiating", "signed"), ("signed", "landed"), ("landed", "terminated")]
    assert history[-1]["note"] == "企业资金链断裂" and history[-1]["by"]["username"] == yanhu_officer.username
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE, object_type="cooperation.project",
                                     object_id=str(project.pk), actor=yanhu_officer).count() == 3


# --- leads become projects ------------------------------------------------------------------------------------------
def test_a_lead_is_converted_once(client, yanhu_officer, data):
    headers = bearer(yanhu_officer)
    lead = data["leads"]["yanhu"]
    response = _send(client, "post", f"/leads/{lead.pk}/convert/", headers, {"university": data["sxu"].pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["lead"] == {"id": lead.pk, "title": "回乡办药厂"} and body["stage"] == "negotiating"
    assert body["name"] == "回乡办药厂" and body["region"]["code"] == YANHU
    assert body["university"]["id"] == data["sxu"].pk
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED and "已转为合作项目" in lead.outcome
    again = _send(client, "post", f"/leads/{lead.pk}/convert/", headers, {"name": "再来一次"})
    assert again.status_code == 409 and "已转为合作项目" in again.json()["detail"]
    assert Project.objects.filter(lead=lead).count() == 1
    assert "university" in _errors(_send(client, "post", f"/leads/{data['leads']['hejin'].pk}/convert/", headers,
                                         {"university": 999999}))


# --- scope ----------------------------------------------------------------------------------------------------------
def test_another_countys_project_and_lead_are_404_for_every_verb(client, yanhu_officer, data):
    headers = bearer(yanhu_officer)
    project, lead = data["projects"]["hejin"], data["leads"]["hejin"]
    assert client.get(f"{API}/projects/{project.pk}", headers=headers).status_code == 404
    assert _send(client, "patch", f"/projects/{project.pk}", headers, {"name": "改"}).status_code == 404
    assert _send(client, "post", f"/projects/{project.pk}/move/", headers, {"to_stage": "landed"}).status_code == 404
    assert client.get(f"{API}/projects/{project.pk}/stages/", headers=headers).status_code == 404
    assert client.get(f"{API}/projects/{project.pk}/milestones/", headers=headers).status_code == 404
    assert client.delete(f"{API}/projects/{project.pk}", headers=headers).status_code == 404
    assert _send(client, "post", f"/leads/{lead.pk}/convert/", headers, {}).status_code == 404
    assert client.get(f"{API}/agreements/{data['agreements']['hejin'].pk}", headers=headers).status_code == 404
    project.refresh_from_db()
    lead.refresh_from_db()
    assert project.name == "河津铝镁合金研究院" and project.stage == Stage.SIGNED
    assert lead.status == LeadStatus.NEW and not Project.objects.filter(lead=lead).exists()
    assert AuditEntry.objects.filter(action=AuditAction.ACCESS_DENIED, actor=yanhu_officer).count() == 8


def test_a_county_officer_cannot_file_or_link_into_another_county(client, yanhu_officer, data):
    headers = bearer(yanhu_officer)
    assert "region" in _errors(_send(client, "post", "/projects/", headers, {"name": "x", "region": HEJIN}))
    assert "agreement" in _errors(_send(client, "post", "/projects/", headers,
                                        {"name": "x", "agreement": data["agreements"]["hejin"].pk}))
    mine = data["projects"]["yanhu"]
    assert "region" in _errors(_send(client, "patch", f"/projects/{mine.pk}", headers, {"region": HEJIN}))
    assert "region" in _errors(_send(client, "post", "/agreements/", headers, {
        "title": "x", "university": data["sxu"].pk, "partner": "x", "signed_on": _ago(1).isoformat(),
        "region": HEJIN}))
    assert "project" in _errors(_send(client, "post", "/reports/", headers, {
        "project": data["projects"]["hejin"].pk, "period": services.period_start(_ago(60)).isoformat(),
        "percent_done": 1, "work": "x"}))
    assert not Project.objects.filter(name="x").exists() and Project.objects.get(pk=mine.pk).region.code == YANHU


def test_lists_hold_only_the_officers_county(client, yanhu_officer, city_admin, data):
    projects = data["projects"]
    yanhu = bearer(yanhu_officer)
    assert set(_ids(client.get(f"{API}/projects/", headers=yanhu))) == {
        projects[k].pk for k in ("yanhu", "landed", "talk")}
    assert set(_ids(client.get(f"{API}/projects/", headers=bearer(city_admin)))) == {p.pk for p in projects.values()}
    assert _ids(client.get(f"{API}/agreements/", headers=yanhu)) == [data["agreements"]["yanhu"].pk]
    response = client.get(f"{API}/projects/", {"region": region(HEJIN).pk}, headers=yanhu)
    assert "region" in _errors(response)  # another county is not even a choice
    # The shared reference (universities) is everyone's.
    assert len(_ids(client.get(f"{API}/universities/", headers=yanhu))) == 2


def test_figures_count_the_landing_rate_over_the_callers_scope(client, yanhu_officer, city_admin, data):
    body = client.get(f"{API}/figures/", {"by": "region"}, headers=bearer(city_admin)).json()
    assert {row["label"] for row in body["rows"]} == {"盐湖区", "河津市"}
    for row in body["rows"]:
        projects = Project.objects.filter(region_id=row["key"])
        signed = projects.filter(signed_on__isnull=False).count()
        landed = projects.filter(landed_on__isnull=False).count()
        assert (row["signed"], row["landed"]) == (signed, landed)
        assert row["landing_rate"] == round(100 * landed / signed, 1)
    assert body["total"]["signed"] == 3 and body["total"]["landed"] == 1 and body["total"]["landing_rate"] == 33.3
    assert body["total"]["project_amount"] == "580.00" and body["total"]["landed_amount"] == "200.00"
    assert body["total"]["agreements"] == 2 and body["total"]["agreement_amount"] == "150.00"

    mine = client.get(f"{API}/figures/", {"by": "region"}, headers=bearer(yanhu_officer)).json()
    assert [(row["label"], row["signed"], row["landed"], row["landing_rate"]) for row in mine["rows"]] == [
        ("盐湖区", 2, 1, 50.0)]
    assert mine["total"]["by_stage"] == {"negotiating": 1, "signed": 1, "landed": 1, "building": 0, "completed": 0,
                                         "terminated": 0}
    by_university = client.get(f"{API}/figures/", {"by": "university"}, headers=bearer(yanhu_officer)).json()
    assert {row["label"] for row in by_university["rows"]} == {"山西大学", "未关联院校"}
    by_year = client.get(f"{API}/figures/", {"by": "year"}, headers=bearer(yanhu_officer)).json()
    assert by_year["total"]["projects"] == 3 and by_year["total"]["agreements"] == 1
    assert "by" in _errors(client.get(f"{API}/figures/", {"by": "colour"}, headers=bearer(yanhu_officer)))


def test_a_missing_report_appears_and_disappears_once_posted(client, yanhu_officer, city_admin, data):
    headers = bearer(yanhu_officer)
    projects = data["projects"]
    rows = client.get(f"{API}/reports/missing/", {"latest_only": "true"}, headers=headers).json()
    assert {row["project"]["id"] for row in rows} == {projects["yanhu"].pk, projects["landed"].pk}
    assert {row["region"]["code"] for row in rows} == {YANHU}
    row = next(r for r in rows if r["project"]["id"] == projects["yanhu"].pk)
    period = dt.date.fromisoformat(row["period"])
    assert period == services.due_periods(projects["yanhu"])[-1]
    assert row["deadline"] == services.period_deadline(period).isoformat()
    everything = client.get(f"{API}/reports/missing/", headers=headers).json()
    assert len(everything) == sum(len(services.due_periods(projects[k])) for k in ("yanhu", "landed"))
    # The city sees 河津市's too.
    city = client.get(f"{API}/reports/missing/", {"latest_only": "true"}, headers=bearer(city_admin)).json()
    assert projects["hejin"].pk in {r["project"]["id"] for r in city}

    response = _send(client, "post", "/reports/", headers, {
        "project": projects["yanhu"].pk, "period": row["period"], "percent_done": 30, "work": "设备调试"})
    assert response.status_code == 201, response.content
    rows = client.get(f"{API}/reports/missing/", {"latest_only": "true"}, headers=headers).json()
    assert [r["project"]["id"] for r in rows] == [projects["landed"].pk]
    everything_now = client.get(f"{API}/reports/missing/", headers=headers).json()
    assert len(everything_now) == len(everything) - 1
    assert (projects["yanhu"].pk, row["period"]) not in {(r["project"]["id"], r["period"]) for r in everything_now}
    assert Report.objects.filter(project=projects["yanhu"]).count() == 1


# --- read-only roles and personal data --------------------------------------------------------------------------------
def test_a_leader_reads_but_cannot_write(client, leader, data):
    headers = bearer(leader)
    project = data["projects"]["yanhu"]
    assert client.get(f"{API}/projects/{project.pk}", headers=headers).status_code == 200
    assert len(_ids(client.get(f"{API}/projects/", headers=headers))) == 4
    assert client.get(f"{API}/figures/", headers=headers).status_code == 200
    assert client.get(f"{API}/reports/missing/", headers=headers).status_code == 200
    refused = [
        _send(client, "post", "/projects/", headers, {"name": "x", "region": YANHU}),
        _send(client, "patch", f"/projects/{project.pk}", headers, {"name": "改"}),
        client.delete(f"{API}/projects/{project.pk}", headers=headers),
        _send(client, "post", f"/projects/{project.pk}/move/", headers, {"to_stage": "landed"}),
        _send(client, "post", f"/projects/{project.pk}/milestones/", headers, {"title": "x", "due_on": "2030-01-01"}),
        _send(client, "post", f"/leads/{data['leads']['yanhu'].pk}/convert/", headers, {}),
        _send(client, "post", "/universities/", headers, {"name": "x", "province": "x"}),
        _send(client, "post", f"/universities/{data['sxu'].pk}/contacts/", headers, {"name": "x"}),
        _send(client, "patch", f"/agreements/{data['agreements']['yanhu'].pk}", headers, {"title": "改"}),
        _send(client, "post", "/reports/", headers, {"project": project.pk, "period": "2024-01-01",
                                                      "percent_done": 1, "work": "x"}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    project.refresh_from_db()
    assert project.name == "盐湖新材料中试基地" and project.stage == Stage.SIGNED
    assert Lead.objects.get(pk=data["leads"]["yanhu"].pk).status == LeadStatus.NEW


def test_a_leader_sees_masked_mobiles_and_nothing_is_audited(client, leader, data):
    headers = bearer(leader)
    rows = _items(client.get(f"{API}/universities/{data['sxu'].pk}/contacts/", headers=headers))
    assert [row["mobile"] for row in rows] == ["139****5678"]
    assert client.get(f"{API}/contacts/{rows[0]['id']}", headers=headers).json()["mobile"] == "139****5678"
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL).exists()


def test_cleared_roles_see_full_mobiles_and_it_is_audited(client, city_staff, data):
    headers = bearer(city_staff)
    rows = _items(client.get(f"{API}/universities/{data['sxu'].pk}/contacts/", headers=headers))
    assert [row["mobile"] for row in rows] == [MOBILE]
    contact = UniversityContact.objects.get()
    assert client.get(f"{API}/contacts/{contact.pk}", headers=headers).json()["mobile"] == MOBILE
    entries = AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL, actor=city_staff)
    assert entries.count() == 2 and entries.first().changes["ids"] == [contact.pk]


# --- pages ------------------------------------------------------------------------------------------------------------
def test_the_project_list_pages_by_cursor_at_the_same_cost_for_more_rows(client, city_admin, data):
    headers = bearer(city_admin)
    for project in Project.objects.all():
        project.databases.set(services.default_databases("project"))
    client.get(f"{API}/projects/", headers=headers)  # the token's last use is stamped once a minute
    with CaptureQueriesContext(connection) as few:
        client.get(f"{API}/projects/", headers=headers)
    for i in range(8):
        _project(city_admin, f"项目{i}", YANHU if i % 2 else HEJIN, agreement=data["agreements"]["yanhu"],
                 university=data["tyut"], line=item("cooperation_class", "talent"))
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"{API}/projects/", headers=headers)
    assert len(response.json()["items"]) == 12
    assert len(many.captured_queries) == len(few.captured_queries)
    first = client.get(f"{API}/projects/", {"limit": 5}, headers=headers).json()
    second = client.get(first["next"], headers=headers).json()
    third = client.get(second["next"], headers=headers).json()
    seen = [row["id"] for page in (first, second, third) for row in page["items"]]
    assert len(seen) == len(set(seen)) == 12 and third["next"] is None


def test_the_visit_list_reads_its_follow_ups_at_the_same_cost_for_more_rows(client, city_admin, data):
    headers = bearer(city_admin)

    def visit(n: int) -> None:
        with audit.acting(city_admin):
            made = services.save(Visit(university=data["sxu"], on=_ago(n), delegation="代表团", region=region(YANHU)),
                                 user=city_admin)
            FollowUp.objects.create(visit=made, description=f"事项{n}", status=FollowUpStatus.OPEN)

    visit(1)
    client.get(f"{API}/visits/", headers=headers)
    with CaptureQueriesContext(connection) as few:
        client.get(f"{API}/visits/", headers=headers)
    for n in range(2, 8):
        visit(n)
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"{API}/visits/", headers=headers)
    assert [len(v["follow_ups"]) for v in response.json()["items"]] == [1] * 7
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_schema_documents_the_cooperation_endpoints(client, city_admin):
    schema = client.get("/api/openapi.json", headers=bearer(city_admin)).json()
    paths = schema["paths"]
    for path in ("/api/cooperation/projects/{pk}/move/", "/api/cooperation/leads/{lead_id}/convert/",
                 "/api/cooperation/reports/missing/", "/api/cooperation/figures/"):
        assert path in paths, path
