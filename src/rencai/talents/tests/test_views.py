"""Talent pages: scope per persona in the list and on every object page, search and filters
through the list, masking and the audited 「显示完整」, the histories and tabs, create and edit
through the form (histories, duplicates, optimistic locking), bulk edit, saved views, the
settings pages, and the list's query count."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rencai.core.models import AuditEntry
from rencai.core.models.audit import AuditAction
from rencai.core.views.generic import ObjectTab, register_tab
from rencai.talents.choices import TalentKind, TalentStatus
from rencai.talents.models import Tag, Talent, TalentDatabase, TalentEducation, TalentWork
from rencai.talents.tables import age_on
from rencai.talents.tests.helpers import form_values, id_number, item, make_talent, region, today

pytestmark = pytest.mark.django_db

YANHU_ID = id_number("19850312", male=True, seq=31)
MOBILE = "13912345678"


@pytest.fixture
def personas(city_admin, city_staff, yanhu_officer, hejin_officer, leader, system_admin):
    return {
        "city_admin": city_admin, "city_staff": city_staff, "yanhu": yanhu_officer, "hejin": hejin_officer,
        "leader": leader, "system_admin": system_admin,
    }


@pytest.fixture
def talents(city_admin):
    return {
        "yanhu": make_talent(city_admin, name="张伟", region_code="140802", id_card=YANHU_ID, mobile=MOBILE,
                             work_unit="北京理工大学", category=item("talent_category_native", "04"),
                             tier=item("talent_tier", "C"), title_level=item("title_level", "1"),
                             education=item("education", "10")),
        "hejin": make_talent(city_admin, name="李刚", region_code="140882", native_place=region("140882"),
                             work_unit="太原钢铁集团"),
    }


# --- scope ------------------------------------------------------------------------------------------
OBJECT_PAGES = ["/talents/{pk}/", "/talents/{pk}/edit/", "/talents/{pk}/delete/", "/talents/{pk}/changelog/",
                "/talents/{pk}/tab/education/", "/talents/{pk}/tab/work/"]
OBJECT_MATRIX = [
    ("city_admin", "yanhu", [200] * 6),
    ("city_staff", "hejin", [200] * 6),
    ("yanhu", "yanhu", [200] * 6),
    ("yanhu", "hejin", [404] * 6),  # another county: not even its existence is shown
    ("hejin", "yanhu", [404] * 6),
    ("leader", "yanhu", [200, 404, 404, 200, 200, 200]),  # read-only
    ("system_admin", "yanhu", [404] * 6),  # no business data at all
]


@pytest.mark.parametrize("persona,talent,expected", OBJECT_MATRIX)
def test_it_answers_object_pages_by_permission_and_region(client, personas, talents, persona, talent, expected):
    client.force_login(personas[persona])
    got = [client.get(page.format(pk=talents[talent].pk)).status_code for page in OBJECT_PAGES]
    assert got == expected


@pytest.mark.parametrize("persona,list_status,add_status", [
    ("city_admin", 200, 200), ("yanhu", 200, 200), ("leader", 200, 403), ("system_admin", 403, 403),
])
def test_it_answers_403_for_list_and_add_without_permission(client, personas, talents, persona, list_status, add_status):
    client.force_login(personas[persona])
    assert client.get("/talents/").status_code == list_status
    assert client.get("/talents/add/").status_code == add_status


@pytest.mark.parametrize("persona,shown,hidden", [
    ("city_admin", ["张伟", "李刚"], []),
    ("leader", ["张伟", "李刚"], []),
    ("yanhu", ["张伟"], ["李刚"]),
    ("hejin", ["李刚"], ["张伟"]),
])
def test_it_lists_only_the_talents_in_the_personas_scope(client, personas, talents, persona, shown, hidden):
    client.force_login(personas[persona])
    page = client.get("/talents/").content.decode()
    for name in shown:
        assert name in page
    for name in hidden:
        assert name not in page
    assert f"共 {len(shown)} 条" in page


def test_it_sends_anonymous_users_to_the_login_page(client, talents):
    response = client.get(f"/talents/{talents['yanhu'].pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- search and filters through the list -------------------------------------------------------------------
def test_it_searches_the_list_within_scope(client, yanhu_officer, city_admin, talents):
    client.force_login(city_admin)
    page = client.get("/talents/", {"q": "李刚"}).content.decode()
    assert "共 1 条" in page and "李刚" in page
    client.force_login(yanhu_officer)
    page = client.get("/talents/", {"q": "李刚"}).content.decode()  # another county's person
    assert "共 0 条" in page and ">李刚</a>" not in page


def test_it_finds_a_talent_by_exact_id_number_and_mobile(client, city_admin, talents):
    client.force_login(city_admin)
    for query in (YANHU_ID, MOBILE):
        page = client.get("/talents/", {"q": query}).content.decode()
        assert "共 1 条" in page and "张伟" in page


@pytest.mark.parametrize("params,expected", [
    ({"kind": "native"}, {"张伟", "李刚"}),
    ({"kind": "local"}, set()),
    ({"tier": "C"}, {"张伟"}),
    ({"region": "140882"}, {"李刚"}),
    ({"region": "140800"}, {"张伟", "李刚"}),  # the city includes its counties
    ({"native_place": "140882"}, {"李刚"}),
    ({"status": TalentStatus.IN_CONTACT}, {"张伟", "李刚"}),
    ({"title_level": "1"}, {"张伟"}),
    ({"age": 0}, {"张伟"}),
    ({"age": 1}, set()),
])
def test_it_filters_the_list(client, city_admin, talents, params, expected):
    lookups = {"tier": ("talent_tier", None), "title_level": ("title_level", None)}
    query = {}
    for name, value in params.items():
        if name == "age":  # 张伟 was born on 1985-03-12: exactly his age, or a year older
            age = age_on(dt.date(1985, 3, 12), today()) + value
            query.update(age_min=age, age_max=age)
        elif name in ("region", "native_place"):
            query[name] = region(value).pk
        elif name in lookups:
            query[name] = item(lookups[name][0], value).pk
        else:
            query[name] = value
    client.force_login(city_admin)
    page = client.get("/talents/", query).content.decode()
    shown = {name for name in ("张伟", "李刚") if f">{name}</a>" in page}
    assert shown == expected


def test_it_refuses_to_filter_by_another_county(client, yanhu_officer, talents):
    client.force_login(yanhu_officer)
    page = client.get("/talents/", {"region": region("140882").pk}).content.decode()
    assert "李刚" not in page
    assert "选择一个有效的选项" in page


def test_it_keeps_the_list_query_count_flat(client, city_admin, talents):
    for i in range(30):
        make_talent(city_admin, name=f"测试{i:02d}", tags=[Tag.objects.get_or_create(name="博士")[0]],
                    databases=list(TalentDatabase.objects.filter(code="native_excellent")),
                    category=item("talent_category_native", "03"), tier=item("talent_tier", "D"),
                    liaison_officer=city_admin)
    client.force_login(city_admin)
    client.post("/talents/", {"columns": ["name", "region", "category", "tier", "databases", "tags", "liaison_officer",
                                          "education", "native_place", "mobile"], "per_page": "25"})
    client.get("/talents/")  # warm up per-session lookups
    with CaptureQueriesContext(connection) as small:
        client.get("/talents/", {"per_page": 25, "kind": "native"})
    client.post("/talents/", {"columns": ["name", "region", "category", "tier", "databases", "tags", "liaison_officer",
                                          "education", "native_place", "mobile"], "per_page": "100"})
    with CaptureQueriesContext(connection) as large:
        response = client.get("/talents/", {"kind": "native"})
    assert response.content.decode().count("/talents/") > 32
    assert len(large.captured_queries) == len(small.captured_queries)
    # One query per filter select (the drill-down dimensions), none per row.
    assert len(large.captured_queries) <= 36


def _listed_names(page: str) -> list[str]:
    return re.findall(r'<a href="/talents/\d+/">([^<]+)</a>', page)


def test_a_broad_filter_reads_its_page_through_the_ordering_index(client, city_admin, talents, monkeypatch):
    from rencai.core.pagination import KeysetPaginator

    for i in range(30):
        make_talent(city_admin, name=f"测试{i:02d}", region_code=("140802", "140882", "140821")[i % 3],
                    native_place=region(("140802", "140882", "140821")[i % 3]))
    client.force_login(city_admin)
    planned = client.get("/talents/", {"kind": "native"}).content.decode()
    # As if the filter kept more rows than the count goes to (a broad filter at scale).
    monkeypatch.setattr(KeysetPaginator, "count", lambda self, limit=10_000: (limit, True))
    with CaptureQueriesContext(connection) as queries:
        hinted = client.get("/talents/", {"kind": "native"}).content.decode()
    assert _listed_names(hinted) == _listed_names(planned) and len(_listed_names(hinted)) == 25
    if connection.vendor == "sqlite":
        assert any('INDEXED BY "talents_region_name_idx"' in q["sql"] for q in queries.captured_queries)
    after = re.search(r'href="/talents/(\?[^"]*after=[^"]+)"', hinted).group(1).replace("&amp;", "&")
    second = client.get(f"/talents/{after}").content.decode()
    assert len(_listed_names(second)) == 7 and not set(_listed_names(second)) & set(_listed_names(hinted))


# --- detail, masking, reveal -------------------------------------------------------------------------------
MASKED_ID = YANHU_ID[:6] + "********" + YANHU_ID[-4:]


@pytest.mark.parametrize("persona,can_reveal", [("city_admin", True), ("yanhu", True), ("leader", False)])
def test_it_masks_personal_numbers_for_everyone_and_offers_the_reveal_by_role(client, personas, talents, persona, can_reveal):
    client.force_login(personas[persona])
    page = client.get(f"/talents/{talents['yanhu'].pk}/").content.decode()
    assert YANHU_ID not in page and MOBILE not in page
    assert MASKED_ID in page and "139****5678" in page
    assert ("显示完整" in page) is can_reveal


def test_it_reveals_a_full_id_number_once_asked_and_audits_it(client, yanhu_officer, leader, talents):
    talent = talents["yanhu"]
    client.force_login(leader)
    assert client.post(f"/talents/{talent.pk}/reveal/id_card/").status_code == 403
    client.force_login(yanhu_officer)
    response = client.post(f"/talents/{talent.pk}/reveal/id_card/")
    assert response.status_code == 200 and YANHU_ID in response.content.decode()
    entry = AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL, actor=yanhu_officer).get()
    assert entry.object_id == str(talent.pk) and entry.changes == {"field": "id_card"}
    client.force_login(yanhu_officer)
    assert client.post(f"/talents/{talents['hejin'].pk}/reveal/id_card/").status_code == 404


def test_it_masks_the_mobile_in_the_list_for_every_role(client, city_admin, talents):
    client.force_login(city_admin)
    page = client.get("/talents/").content.decode()
    assert MOBILE not in page and "139****5678" in page


def test_it_shows_the_profile_in_sections_with_labels(client, city_admin, talents):
    client.force_login(city_admin)
    page = client.get(f"/talents/{talents['yanhu'].pk}/").content.decode()
    for title in ("身份信息", "籍贯与所在地", "人才分类", "工作与学术", "联络与来源"):
        assert title in page
    assert "高校" in page and "省级领军人才" in page and "正高级" in page and "研究生" in page
    # Birth date and gender were taken from the ID-card number.
    assert "1985-03-12" in page and 'data-field="gender"' in page


def test_it_shows_the_histories_as_tabs(client, city_admin):
    talent = make_talent(city_admin, name="王芳", education_history=[
        {"start": "2003-09", "end": "2007-07", "school": "山西大学", "major": "计算机科学", "education": item("education", "20")},
    ], work_history=[{"start": "2007-08", "end": "", "unit": "运城学院", "position": "讲师"}])
    client.force_login(city_admin)
    page = client.get(f"/talents/{talent.pk}/").content.decode()
    assert "学习经历" in page and "工作经历" in page
    education = client.get(f"/talents/{talent.pk}/tab/education/").content.decode()
    assert "山西大学" in education and "大学本科" in education
    work = client.get(f"/talents/{talent.pk}/tab/work/").content.decode()
    assert "运城学院" in work and "至今" in work


def test_another_area_can_add_a_tab(client, city_admin, talents):
    register_tab(Talent, ObjectTab("contacts_test", "联络记录（测试）", "talents/_tab_work.html",
                                   get_context=lambda request, obj: {"rows": []}))
    try:
        client.force_login(city_admin)
        page = client.get(f"/talents/{talents['yanhu'].pk}/").content.decode()
        assert "联络记录（测试）" in page
        assert client.get(f"/talents/{talents['yanhu'].pk}/tab/contacts_test/").status_code == 200
    finally:
        from rencai.core.views import generic

        generic._tabs["talents.talent"].pop("contacts_test")


def test_it_shows_the_change_history(client, city_admin, talents):
    talent = talents["yanhu"]
    talent.work_unit = "清华大学"
    from rencai.core import audit
    from rencai.talents import services

    with audit.acting(city_admin):
        services.save_talent(talent, user=city_admin, tags=[Tag.objects.create(name="博士")],
                             work=[{"start": "2015-09", "unit": "清华大学"}])
    client.force_login(city_admin)
    page = client.get(f"/talents/{talent.pk}/changelog/").content.decode()
    assert "清华大学" in page and "北京理工大学" in page
    assert "新增：博士" in page  # the tag, under its field's name
    assert "工作经历" in page and "新增：2015-09–至今 清华大学" in page


# --- create and edit through the form -------------------------------------------------------------------------
def _add_data(**overrides) -> dict:
    data = {
        "name": "赵敏", "kind": TalentKind.NATIVE, "region": region("140802").pk, "native_place": region("140802").pk,
        "id_card": id_number("19880620", male=False, seq=45), "work_country": "中国",
        "work_province": region("110000").pk, "status": TalentStatus.IN_CONTACT, "source": "manual",
        "category": item("talent_category_native", "03").pk, "work_unit": "中国银行总行",
        "education-TOTAL_FORMS": "2", "education-INITIAL_FORMS": "0",
        "work-TOTAL_FORMS": "2", "work-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_it_creates_a_talent_with_histories_and_fills_birth_and_gender(client, yanhu_officer):
    client.force_login(yanhu_officer)
    response = client.post("/talents/add/", _add_data(**{
        "education-0-start": "2006-09", "education-0-end": "2010-07", "education-0-school": "南开大学",
        "work-0-start": "2010-08", "work-0-unit": "中国银行总行", "work-0-position": "经理",
        "databases": [TalentDatabase.objects.get(code="native_excellent").pk], "new_tags": "金融、博士",
    }))
    talent = Talent.objects.get(name="赵敏")
    assert response.status_code == 302 and response["Location"] == f"/talents/{talent.pk}/"
    assert talent.birth_date.isoformat() == "1988-06-20" and talent.gender == "female"
    assert talent.created_by == yanhu_officer and talent.version == 1
    assert [e.school for e in talent.education_history.all()] == ["南开大学"]
    assert [w.unit for w in talent.work_history.all()] == ["中国银行总行"]
    assert sorted(t.name for t in talent.tags.all()) == ["博士", "金融"]
    assert [d.code for d in talent.databases.all()] == ["native_excellent"]
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_type="talents.talent", object_id=str(talent.pk))
    assert talent.id_card not in str(entry.changes)  # masked in the log


def test_it_names_the_field_that_disagrees_with_the_id_number(client, yanhu_officer):
    client.force_login(yanhu_officer)
    page = client.post("/talents/add/", _add_data(birth_date="1988-06-21", gender="male")).content.decode()
    assert "出生日期 1988-06-21 与身份证号码中的 1988-06-20 不一致" in page
    assert "性别“男”与身份证号码不一致" in page
    assert not Talent.objects.filter(name="赵敏").exists()


def test_it_refuses_a_native_talent_from_outside_the_city(client, yanhu_officer):
    client.force_login(yanhu_officer)
    page = client.post("/talents/add/", _add_data(native_place=region("140105").pk)).content.decode()
    assert "在外人才的籍贯应为本市的县（市、区）" in page


def test_it_refuses_a_category_of_the_other_kind(client, yanhu_officer):
    client.force_login(yanhu_officer)
    page = client.post("/talents/add/", _add_data(category=item("talent_system_local", "01").pk)).content.decode()
    assert "“科技专家”不是在外人才的分类" in page


def test_it_refuses_to_create_in_another_county(client, yanhu_officer):
    client.force_login(yanhu_officer)
    page = client.post("/talents/add/", _add_data(region=region("140882").pk)).content.decode()
    assert "选择一个有效的选项" in page
    assert not Talent.objects.filter(name="赵敏").exists()


def test_it_refuses_a_city_outside_the_work_province(client, yanhu_officer):
    client.force_login(yanhu_officer)
    page = client.post("/talents/add/", _add_data(work_city=region("140100").pk)).content.decode()
    assert "太原市不在北京市" in page


# --- duplicates -------------------------------------------------------------------------------------------------
def test_it_refuses_a_second_record_with_the_same_id_number_and_links_the_first(client, yanhu_officer, talents):
    client.force_login(yanhu_officer)
    page = client.post("/talents/add/", _add_data(id_card=YANHU_ID, confirm_duplicates="1")).content.decode()
    assert 'data-testid="duplicate-id"' in page
    assert f'href="/talents/{talents["yanhu"].pk}/"' in page
    assert Talent.objects.count() == 2


def test_it_does_not_reveal_a_duplicate_in_another_county(client, hejin_officer, talents):
    client.force_login(hejin_officer)
    page = client.post("/talents/add/", _add_data(id_card=YANHU_ID, region=region("140882").pk,
                                                  native_place=region("140882").pk)).content.decode()
    assert "其他地区已登记相同身份证号的人才" in page
    assert f'/talents/{talents["yanhu"].pk}/' not in page and "张伟" not in page
    assert Talent.objects.count() == 2


def test_it_asks_before_saving_the_same_name_and_birth_date(client, yanhu_officer, talents):
    client.force_login(yanhu_officer)
    data = _add_data(name="张伟", id_card=None, birth_date="1985-03-12", gender="male")
    page = client.post("/talents/add/", data).content.decode()
    assert 'data-testid="duplicates"' in page and "仍然保存" in page
    assert f'href="/talents/{talents["yanhu"].pk}/"' in page
    assert Talent.objects.filter(name="张伟").count() == 1
    response = client.post("/talents/add/", {**data, "confirm_duplicates": "1"})
    assert response.status_code == 302
    assert Talent.objects.filter(name="张伟").count() == 2


def test_it_asks_before_saving_the_same_name_and_mobile(client, yanhu_officer, talents):
    client.force_login(yanhu_officer)
    page = client.post("/talents/add/", _add_data(name="张伟", id_card=None, mobile="139-1234-5678")).content.decode()
    assert 'data-testid="duplicates"' in page


# --- editing and optimistic locking ------------------------------------------------------------------------------------
def _edit_data(client, talent, **changes) -> dict:
    data = form_values(client.get(f"/talents/{talent.pk}/edit/").content.decode())
    data.pop("csrfmiddlewaretoken", None)
    data.update(changes)
    return data


def test_it_edits_a_talent_and_its_histories(client, yanhu_officer, city_admin):
    talent = make_talent(city_admin, name="王芳", work_history=[{"start": "2007-08", "unit": "运城学院", "position": "讲师"}])
    client.force_login(yanhu_officer)
    row = talent.work_history.get()
    data = _edit_data(client, talent, work_unit="山西大学", **{
        "work-0-position": "副教授", "work-1-start": "2015-01", "work-1-unit": "山西大学", "work-1-position": "教授",
    })
    response = client.post(f"/talents/{talent.pk}/edit/", data)
    if response.status_code != 302:
        open("/tmp/rv-talentui/edit.html", "w").write(response.content.decode())
    assert response.status_code == 302
    talent.refresh_from_db()
    assert talent.work_unit == "山西大学" and talent.version == 2
    assert [(w.unit, w.position) for w in talent.work_history.order_by("start")] == [("运城学院", "副教授"), ("山西大学", "教授")]
    assert talent.work_history.filter(pk=row.pk).exists()  # the same row, changed
    assert AuditEntry.objects.filter(object_type="talents.talent", object_id=str(talent.pk),
                                     message="修改履历").exists()
    data = _edit_data(client, talent, **{"work-0-DELETE": "on"})
    assert client.post(f"/talents/{talent.pk}/edit/", data).status_code == 302
    assert [w.unit for w in talent.work_history.all()] == ["山西大学"]


def test_it_refuses_an_edit_made_on_a_stale_copy_and_keeps_the_input(client, yanhu_officer, city_admin, talents):
    talent = talents["yanhu"]
    client.force_login(yanhu_officer)
    stale = _edit_data(client, talent, work_unit="我的修改")
    # Someone else saves first.
    from rencai.core import audit
    from rencai.talents import services

    fresh = Talent.objects.get(pk=talent.pk)
    fresh.position = "院长"
    with audit.acting(city_admin):
        services.save_talent(fresh, user=city_admin)
    response = client.post(f"/talents/{talent.pk}/edit/", stale)
    assert response.status_code == 409
    page = response.content.decode()
    assert 'data-testid="conflict"' in page and "我的修改" in page
    talent.refresh_from_db()
    assert talent.position == "院长" and talent.work_unit == "北京理工大学" and talent.version == 2


def test_the_service_refuses_a_stale_version(city_admin, talents):
    from rencai.talents import services

    first = Talent.objects.get(pk=talents["yanhu"].pk)
    second = Talent.objects.get(pk=talents["yanhu"].pk)
    first.position = "一"
    services.save_talent(first, user=city_admin)
    second.position = "二"
    with pytest.raises(services.StaleTalent):
        services.save_talent(second, user=city_admin)
    assert Talent.objects.get(pk=first.pk).position == "一"


def test_an_edit_of_an_unchanged_identity_does_not_ask_about_duplicates(client, yanhu_officer, city_admin, talents):
    make_talent(city_admin, name="张伟", birth_date=talents["yanhu"].birth_date, gender="male")
    client.force_login(yanhu_officer)
    response = client.post(f"/talents/{talents['yanhu'].pk}/edit/", _edit_data(client, talents["yanhu"], position="教授"))
    assert response.status_code == 302


def test_the_form_never_sends_a_stored_number_to_the_browser(client, city_admin, talents):
    client.force_login(city_admin)
    page = client.get(f"/talents/{talents['yanhu'].pk}/edit/").content.decode()
    assert YANHU_ID not in page and MOBILE not in page
    assert MASKED_ID in page  # as the hint of an empty input


# --- delete ---------------------------------------------------------------------------------------------------
def test_it_deletes_a_talent_with_its_histories(client, yanhu_officer, city_admin):
    talent = make_talent(city_admin, name="王芳", work_history=[{"unit": "运城学院"}])
    client.force_login(yanhu_officer)
    response = client.post(f"/talents/{talent.pk}/delete/")
    assert response.status_code == 302
    assert not Talent.objects.filter(pk=talent.pk).exists() and not TalentWork.objects.exists()
    assert AuditEntry.objects.filter(action=AuditAction.DELETE, object_type="talents.talent").exists()


# --- bulk edit ------------------------------------------------------------------------------------------------
def test_it_bulk_edits_only_within_scope_all_or_nothing(client, yanhu_officer, city_admin, talents):
    other = make_talent(city_admin, name="王芳", region_code="140802")
    doctor = Tag.objects.create(name="博士")
    client.force_login(yanhu_officer)
    pks = [talents["yanhu"].pk, other.pk, talents["hejin"].pk]  # the last is another county's
    page = client.post("/talents/edit/", {"pk": pks}).content.decode()
    assert "已选 2 条" in page
    response = client.post("/talents/edit/", {
        "pk": pks, "_apply": "1", "tier": item("talent_tier", "B").pk, "status": TalentStatus.LOST,
        "add_databases": [TalentDatabase.objects.get(code="native_excellent").pk], "add_tags": [doctor.pk],
    })
    assert response.status_code == 302
    for talent in (talents["yanhu"], other):
        talent.refresh_from_db()
        assert talent.tier.code == "B" and talent.status == TalentStatus.LOST and talent.version == 2
        assert [t.name for t in talent.tags.all()] == ["博士"]
        assert [d.code for d in talent.databases.all()] == ["native_excellent"]
    untouched = Talent.objects.get(pk=talents["hejin"].pk)
    assert untouched.tier is None and untouched.status == TalentStatus.IN_CONTACT
    # A category of the other kind is refused for every record: nothing saved.
    response = client.post("/talents/edit/", {
        "pk": pks, "_apply": "1", "category": item("talent_system_local", "01").pk,
        "remove_tags": [doctor.pk],
    })
    page = response.content.decode()
    assert "不是在外人才的分类" in page
    assert Tag.objects.get(pk=doctor.pk).talents.count() == 2


def test_it_bulk_removes_tags_and_databases(client, city_admin):
    doctor = Tag.objects.create(name="博士")
    database = TalentDatabase.objects.get(code="native_excellent")
    talent = make_talent(city_admin, name="王芳", tags=[doctor], databases=[database])
    client.force_login(city_admin)
    response = client.post("/talents/edit/", {"pk": [talent.pk], "_apply": "1", "remove_tags": [doctor.pk],
                                              "remove_databases": [database.pk]})
    assert response.status_code == 302
    assert not talent.tags.exists() and not talent.databases.exists()
    removed = [e.changes for e in AuditEntry.objects.filter(object_type="talents.talent", object_id=str(talent.pk))
               if "removed" in (e.changes.get("tags") or e.changes.get("databases") or {})]
    assert removed == [{"tags": {"removed": ["博士"]}}, {"databases": {"removed": ["在外优秀人才库"]}}] or \
        removed == [{"databases": {"removed": ["在外优秀人才库"]}}, {"tags": {"removed": ["博士"]}}]


# --- saved views ---------------------------------------------------------------------------------------------
def test_it_saves_lists_applies_and_deletes_a_view(client, yanhu_officer, city_admin, talents):
    client.force_login(city_admin)
    response = client.post("/talents/views/save/", {
        "name": "河津在外", "query": f"region={region('140882').pk}&kind=native&after=abc",
        "columns": ["name", "work_unit", "nonsense"],
    })
    assert response.status_code == 302
    view = city_admin.__class__.objects.get(pk=city_admin.pk).preferences["saved_views"]["talents.talent"][0]
    assert view["name"] == "河津在外" and view["columns"] == ["name", "work_unit"]
    assert "after" not in view["query"]
    page = client.get("/talents/").content.decode()
    assert 'data-testid="saved-views"' in page and "河津在外" in page
    applied = client.get(response["Location"]).content.decode()
    assert "李刚" in applied and ">张伟</a>" not in applied
    header = re.search(r"<thead>.*?</thead>", applied, re.S).group(0)
    assert "工作单位" in header and "人才分类" not in header  # the view's own columns
    # Saved views are per user.
    client.force_login(yanhu_officer)
    assert "河津在外" not in client.get("/talents/").content.decode()
    assert client.post(f"/talents/views/{view['id']}/delete/").status_code == 404
    client.force_login(city_admin)
    assert client.post(f"/talents/views/{view['id']}/delete/").status_code == 302
    assert "河津在外" not in client.get("/talents/").content.decode()


# --- settings -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona,list_status,add_status", [
    ("city_admin", 200, 200), ("city_staff", 200, 403), ("yanhu", 200, 403), ("system_admin", 403, 403),
])
def test_only_the_city_admin_changes_the_talent_databases(client, personas, persona, list_status, add_status):
    client.force_login(personas[persona])
    assert client.get("/talents/databases/").status_code == list_status
    assert client.get("/talents/databases/add/").status_code == add_status


def test_the_city_admin_adds_a_talent_database(client, city_admin):
    client.force_login(city_admin)
    response = client.post("/talents/databases/add/", {"code": "rural", "name": "乡村振兴人才库", "sort_order": "30",
                                                       "is_active": "on"})
    assert response.status_code == 302
    assert TalentDatabase.objects.filter(code="rural", name="乡村振兴人才库").exists()
    page = client.get("/talents/databases/").content.decode()
    assert "乡村振兴人才库" in page and "在外优秀人才库" in page and "/talents/tags/" in page


def test_tags_are_listed_and_added(client, yanhu_officer):
    client.force_login(yanhu_officer)
    assert client.post("/talents/tags/add/", {"name": "乡贤"}).status_code == 302
    assert "乡贤" in client.get("/talents/tags/").content.decode()


def test_the_sidebar_links_the_registry(client, yanhu_officer):
    client.force_login(yanhu_officer)
    page = client.get("/").content.decode()
    assert 'href="/talents/"' in page and 'href="/talents/add/"' in page and 'href="/talents/databases/"' in page


def test_the_education_history_rows_are_scoped_like_their_talent(yanhu_officer, city_admin):
    talent = make_talent(city_admin, name="李刚", region_code="140882", native_place=region("140882"),
                         education_history=[{"school": "太原理工大学"}])
    assert TalentEducation.objects.filter(talent=talent).exists()
    assert not TalentEducation.objects.restrict(yanhu_officer, "view").exists()
