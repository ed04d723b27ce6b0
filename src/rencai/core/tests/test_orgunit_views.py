"""Org unit pages: the permission and scope matrix, masking, the audited "显示完整", bulk actions
within scope, optimistic locking and Chinese form errors."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rencai.core.models import AuditEntry, OrgUnit, Region
from rencai.core.models.audit import AuditAction
from rencai.core.models.orgunits import OrgUnitKind

pytestmark = pytest.mark.django_db

MOBILE = "13912345678"
MASKED = "139****5678"


@pytest.fixture
def units(refdata):
    yanhu = Region.objects.get(code="140802")
    hejin = Region.objects.get(code="140882")
    return {
        "yanhu": OrgUnit.objects.create(name="盐湖区人才办", kind=OrgUnitKind.TALENT_OFFICE, region=yanhu,
                                        contact_name="张三", contact_mobile=MOBILE),
        "hejin": OrgUnit.objects.create(name="河津市人才办", kind=OrgUnitKind.TALENT_OFFICE, region=hejin,
                                        contact_name="李四", contact_mobile="13700001111"),
    }


@pytest.fixture
def personas(city_admin, city_staff, yanhu_officer, hejin_officer, leader, system_admin):
    return {
        "city_admin": city_admin, "city_staff": city_staff, "yanhu": yanhu_officer, "hejin": hejin_officer,
        "leader": leader, "system_admin": system_admin,
    }


def form_data(unit: OrgUnit, client, **changes) -> dict:
    """The edit form as the browser would post it, token included."""
    page = client.get(f"/orgunits/{unit.pk}/edit/").content.decode()
    token = re.search(r'name="concurrency_token" value="([^"]*)"', page).group(1)
    data = {
        "name": unit.name, "kind": unit.kind, "region": unit.region_id, "parent": unit.parent_id or "",
        "contact_name": unit.contact_name, "contact_mobile": "", "address": unit.address, "notes": unit.notes,
        "concurrency_token": token,
    }
    data.update(changes)
    return data


# --- the matrix -------------------------------------------------------------------------------------
# (persona, unit, expected status) for every page that shows one unit. "own" is the persona's
# county's unit where it has one; "other" another county's.
OBJECT_PAGES = ["/orgunits/{pk}/", "/orgunits/{pk}/edit/", "/orgunits/{pk}/delete/", "/orgunits/{pk}/changelog/"]
OBJECT_MATRIX = [
    ("city_admin", "yanhu", [200, 200, 200, 200]),
    ("city_admin", "hejin", [200, 200, 200, 200]),
    ("city_staff", "hejin", [200, 200, 200, 200]),
    ("yanhu", "yanhu", [200, 200, 200, 200]),
    ("yanhu", "hejin", [404, 404, 404, 404]),  # out of region: not even its existence is shown
    ("hejin", "yanhu", [404, 404, 404, 404]),
    ("leader", "yanhu", [200, 404, 404, 200]),  # read-only: change/delete have no permission → 404
    ("system_admin", "yanhu", [404, 404, 404, 404]),  # no business permission at all
]


@pytest.mark.parametrize("persona,unit,expected", OBJECT_MATRIX)
def test_it_answers_object_pages_by_permission_and_region(client, personas, units, persona, unit, expected):
    client.force_login(personas[persona])
    got = [client.get(page.format(pk=units[unit].pk)).status_code for page in OBJECT_PAGES]
    assert got == expected


@pytest.mark.parametrize("page", ["/orgunits/", "/orgunits/add/", "/orgunits/{pk}/", "/orgunits/{pk}/edit/"])
def test_it_sends_anonymous_users_to_the_login_page(client, units, page):
    url = page.format(pk=units["yanhu"].pk)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("persona,list_status,add_status", [
    ("city_admin", 200, 200), ("yanhu", 200, 200), ("leader", 200, 403), ("system_admin", 403, 403),
])
def test_it_answers_403_for_list_and_add_without_permission(client, personas, units, persona, list_status, add_status):
    client.force_login(personas[persona])
    assert client.get("/orgunits/").status_code == list_status
    assert client.get("/orgunits/add/").status_code == add_status


def test_it_lists_only_the_units_of_the_officers_county(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    page = client.get("/orgunits/").content.decode()
    assert "盐湖区人才办" in page
    assert "河津市人才办" not in page
    assert "共 1 条" in page


def test_it_audits_a_refused_lookup_of_another_countys_unit(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    client.get(f"/orgunits/{units['hejin'].pk}/")
    denied = AuditEntry.objects.filter(action=AuditAction.ACCESS_DENIED, actor=yanhu_officer).last()
    assert denied is not None and denied.object_repr == f"/orgunits/{units['hejin'].pk}/"


# --- add / edit / delete -------------------------------------------------------------------------------
def test_it_creates_a_unit_in_the_officers_county_and_logs_it(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    yanhu = Region.objects.get(code="140802")
    response = client.post("/orgunits/add/", {
        "name": "盐湖区科技局", "kind": OrgUnitKind.GOVERNMENT, "region": yanhu.pk, "contact_mobile": "139 1234 0000",
    })
    unit = OrgUnit.objects.get(name="盐湖区科技局")
    assert response.status_code == 302 and response["Location"] == f"/orgunits/{unit.pk}/"
    assert unit.contact_mobile == "13912340000"  # normalised
    assert unit.created_by == yanhu_officer
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_type="core.orgunit", object_id=str(unit.pk))
    assert entry.actor == yanhu_officer
    assert "13912340000" not in str(entry.changes)  # the log keeps the masked value only
    follow = client.get(response["Location"]).content.decode()
    assert "已新增组织机构“盐湖区科技局”" in follow


def test_it_offers_an_officer_only_the_regions_they_cover(client, yanhu_officer, city_admin, units):
    client.force_login(yanhu_officer)
    page = client.get("/orgunits/add/").content.decode()
    options = re.findall(r'<select name="region".*?</select>', page, re.S)[0]
    assert "盐湖区" in options and "河津市" not in options and "运城市" not in options
    client.force_login(city_admin)
    page = client.get("/orgunits/add/").content.decode()
    options = re.findall(r'<select name="region".*?</select>', page, re.S)[0]
    assert "盐湖区" in options and "河津市" in options and "运城市" in options
    assert "太原市" not in options  # the city's own regions, not the whole country


def test_it_refuses_to_create_a_unit_in_another_county(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    hejin = Region.objects.get(code="140882")
    response = client.post("/orgunits/add/", {"name": "越界机构", "kind": OrgUnitKind.OTHER, "region": hejin.pk})
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert not OrgUnit.objects.filter(name="越界机构").exists()


def test_it_refuses_to_move_a_unit_into_another_county(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    unit = units["yanhu"]
    hejin = Region.objects.get(code="140882")
    response = client.post(f"/orgunits/{unit.pk}/edit/", form_data(unit, client, region=hejin.pk))
    assert response.status_code == 200
    unit.refresh_from_db()
    assert unit.region.code == "140802"


def test_it_rechecks_scope_inside_the_save_transaction(client, yanhu_officer, units, monkeypatch):
    """Even if a form offered a region out of scope, the save's own check refuses it."""
    from rencai.core import forms

    monkeypatch.setattr(forms, "region_choices", lambda user: Region.objects.all())
    client.force_login(yanhu_officer)
    unit = units["yanhu"]
    hejin = Region.objects.get(code="140882")
    response = client.post(f"/orgunits/{unit.pk}/edit/", form_data(unit, client, region=hejin.pk))
    assert response.status_code == 404
    unit.refresh_from_db()
    assert unit.region.code == "140802"
    assert not AuditEntry.objects.filter(action=AuditAction.UPDATE, object_type="core.orgunit", object_id=str(unit.pk)).exists()


def test_it_saves_an_edit_and_keeps_the_mobile_when_left_empty(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    unit = units["yanhu"]
    response = client.post(f"/orgunits/{unit.pk}/edit/", form_data(unit, client, address="运城市盐湖区解放路 1 号"))
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.address == "运城市盐湖区解放路 1 号"
    assert unit.contact_mobile == MOBILE
    entry = AuditEntry.objects.filter(action=AuditAction.UPDATE, object_type="core.orgunit", object_id=str(unit.pk)).last()
    assert set(entry.changes) == {"address"}
    assert "已保存组织机构“盐湖区人才办”的修改" in client.get(response["Location"]).content.decode()


def test_it_never_puts_the_full_mobile_into_the_edit_form(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    page = client.get(f"/orgunits/{units['yanhu'].pk}/edit/").content.decode()
    assert MOBILE not in page
    assert f'placeholder="{MASKED}"' in page


def test_it_clears_the_mobile_only_when_asked(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    unit = units["yanhu"]
    client.post(f"/orgunits/{unit.pk}/edit/", form_data(unit, client, contact_mobile__clear="on"))
    unit.refresh_from_db()
    assert unit.contact_mobile == ""


def test_it_shows_field_errors_in_chinese(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    unit = units["yanhu"]
    response = client.post(f"/orgunits/{unit.pk}/edit/", form_data(unit, client, name="", contact_mobile="12345"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "这个字段是必填项。" in page
    assert "手机号码应为 11 位数字" in page
    assert "is-invalid" in page
    yanhu = Region.objects.get(code="140802")
    OrgUnit.objects.create(name="盐湖区财政局", region=yanhu)
    response = client.post(f"/orgunits/{unit.pk}/edit/", form_data(unit, client, name="盐湖区财政局"))
    assert "同一地区已有同名机构。" in response.content.decode()


def test_it_refuses_a_stale_edit_and_keeps_the_users_input(client, yanhu_officer, city_admin, units):
    unit = units["yanhu"]
    client.force_login(yanhu_officer)
    stale = form_data(unit, client, address="盐湖区的填写")
    # Meanwhile the city administrator saves the same record.
    from django.test import Client

    other = Client()
    other.force_login(city_admin)
    assert other.post(f"/orgunits/{unit.pk}/edit/", form_data(unit, other, address="市里的修改")).status_code == 302

    response = client.post(f"/orgunits/{unit.pk}/edit/", stale)
    page = response.content.decode()
    assert response.status_code == 409
    assert "在您编辑期间，这条记录已被“市管理员”于" in page
    assert 'value="盐湖区的填写"' in page  # nothing lost: the user's input is still in the form
    assert "市里的修改" in page  # and what is saved now is shown beside it
    unit.refresh_from_db()
    assert unit.address == "市里的修改"

    # The refreshed form carries the new token: a deliberate second submit goes through.
    token = re.search(r'name="concurrency_token" value="([^"]*)"', page).group(1)
    response = client.post(f"/orgunits/{unit.pk}/edit/", {**stale, "concurrency_token": token})
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.address == "盐湖区的填写"


def test_it_refuses_an_edit_without_a_version(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    unit = units["yanhu"]
    data = form_data(unit, client, address="没有版本")
    del data["concurrency_token"]
    assert client.post(f"/orgunits/{unit.pk}/edit/", data).status_code == 409
    unit.refresh_from_db()
    assert unit.address == ""


def test_it_deletes_a_unit_in_scope_and_not_one_out_of_scope(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    assert client.post(f"/orgunits/{units['hejin'].pk}/delete/").status_code == 404
    assert OrgUnit.objects.filter(pk=units["hejin"].pk).exists()
    response = client.post(f"/orgunits/{units['yanhu'].pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/orgunits/"
    assert not OrgUnit.objects.filter(pk=units["yanhu"].pk).exists()
    assert AuditEntry.objects.filter(action=AuditAction.DELETE, object_type="core.orgunit", object_id=str(units["yanhu"].pk)).exists()


def test_it_refuses_to_delete_a_unit_that_others_report_to(client, yanhu_officer, units):
    parent = units["yanhu"]
    OrgUnit.objects.create(name="盐湖区人才服务站", region=parent.region, parent=parent)
    client.force_login(yanhu_officer)
    response = client.post(f"/orgunits/{parent.pk}/delete/")
    assert response.status_code == 409
    assert "仍被 1 条记录引用，不能删除" in response.content.decode()
    assert OrgUnit.objects.filter(pk=parent.pk).exists()


def test_it_shows_the_change_history_of_a_unit(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    unit = units["yanhu"]
    client.post(f"/orgunits/{unit.pk}/edit/", form_data(unit, client, kind=OrgUnitKind.GOVERNMENT))
    page = client.get(f"/orgunits/{unit.pk}/changelog/").content.decode()
    assert "新增" in page and "修改" in page
    assert "人才工作机构" in page and "政府部门" in page  # choice labels, not codes
    assert "yanhu" in page


# --- masking and "显示完整" ----------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["city_admin", "city_staff", "yanhu", "leader"])
def test_it_masks_the_mobile_in_the_list_for_every_role(client, personas, units, persona):
    # Full values are seen one record at a time, through the audited "显示完整" action.
    client.force_login(personas[persona])
    page = client.get("/orgunits/").content.decode()
    assert MOBILE not in page
    assert MASKED in page


@pytest.mark.parametrize("persona,button", [("city_admin", True), ("yanhu", True), ("leader", False)])
def test_it_masks_the_mobile_on_the_detail_page_for_everyone(client, personas, units, persona, button):
    client.force_login(personas[persona])
    page = client.get(f"/orgunits/{units['yanhu'].pk}/").content.decode()
    assert MASKED in page and MOBILE not in page
    assert ("显示完整" in page) is button


def test_it_reveals_the_full_mobile_and_audits_it(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    unit = units["yanhu"]
    response = client.post(f"/orgunits/{unit.pk}/reveal/contact_mobile/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert MOBILE in response.content.decode()
    entry = AuditEntry.objects.get(action=AuditAction.VIEW_PERSONAL, object_type="core.orgunit", object_id=str(unit.pk))
    assert entry.actor == yanhu_officer and entry.object_type == "core.orgunit"
    assert entry.region_code == "140802"
    assert "联系人手机" in entry.message
    stored = f"{entry.changes} {entry.message} {entry.object_repr}"
    assert MOBILE not in stored and "5678" not in stored  # never the value itself


def test_it_refuses_the_leader_the_full_mobile(client, leader, units):
    client.force_login(leader)
    response = client.post(f"/orgunits/{units['yanhu'].pk}/reveal/contact_mobile/")
    assert response.status_code == 403
    assert MOBILE not in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL).exists()
    assert AuditEntry.objects.filter(action=AuditAction.ACCESS_DENIED, actor=leader).exists()


def test_it_refuses_to_reveal_another_countys_mobile(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    assert client.post(f"/orgunits/{units['hejin'].pk}/reveal/contact_mobile/").status_code == 404
    assert client.post(f"/orgunits/{units['yanhu'].pk}/reveal/name/").status_code == 404  # not a protected field
    assert client.get(f"/orgunits/{units['yanhu'].pk}/reveal/contact_mobile/").status_code == 405
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL).exists()


# --- bulk edit and bulk delete ---------------------------------------------------------------------------
def test_it_bulk_edits_only_the_units_in_scope(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    pks = [units["yanhu"].pk, units["hejin"].pk]
    form = client.post("/orgunits/edit/", {"pk": pks, "return_url": "/orgunits/"})
    page = form.content.decode()
    assert form.status_code == 200
    assert "盐湖区人才办" in page and "河津市人才办" not in page
    response = client.post("/orgunits/edit/", {"pk": pks, "_apply": "1", "kind": OrgUnitKind.INSTITUTION,
                                               "return_url": "/orgunits/"})
    assert response.status_code == 302
    units["yanhu"].refresh_from_db()
    units["hejin"].refresh_from_db()
    assert units["yanhu"].kind == OrgUnitKind.INSTITUTION
    assert units["hejin"].kind == OrgUnitKind.TALENT_OFFICE
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE, object_type="core.orgunit", object_id=str(units["yanhu"].pk)).exists()


def test_it_refuses_a_bulk_move_into_another_county(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    hejin = Region.objects.get(code="140882")
    response = client.post("/orgunits/edit/", {"pk": [units["yanhu"].pk], "_apply": "1", "region": hejin.pk})
    assert response.status_code == 200  # the region is not even a valid choice
    assert "选择一个有效的选项" in response.content.decode()
    units["yanhu"].refresh_from_db()
    assert units["yanhu"].region.code == "140802"


def test_it_applies_a_bulk_edit_to_all_or_none(client, city_admin, units):
    """Moving both units into one county would give two units the same name there? No — but
    renaming is not bulk; moving 河津's unit next to a namesake is: nothing may be saved."""
    yanhu = Region.objects.get(code="140802")
    OrgUnit.objects.create(name="河津市人才办", region=yanhu)  # a namesake already in 盐湖区
    client.force_login(city_admin)
    response = client.post("/orgunits/edit/", {
        "pk": [units["yanhu"].pk, units["hejin"].pk], "_apply": "1", "region": yanhu.pk, "kind": OrgUnitKind.OTHER,
    })
    page = response.content.decode()
    assert response.status_code == 200
    assert "河津市人才办：同一地区已有同名机构。" in page
    units["yanhu"].refresh_from_db()
    assert units["yanhu"].kind == OrgUnitKind.TALENT_OFFICE  # not even the valid row changed


def test_it_bulk_deletes_only_the_units_in_scope(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    pks = [units["yanhu"].pk, units["hejin"].pk]
    confirm = client.post("/orgunits/delete/", {"pk": pks})
    assert confirm.status_code == 200 and "确定删除这 1 条组织机构吗" in confirm.content.decode()
    response = client.post("/orgunits/delete/", {"pk": pks, "_confirm": "1"})
    assert response.status_code == 302
    assert not OrgUnit.objects.filter(pk=units["yanhu"].pk).exists()
    assert OrgUnit.objects.filter(pk=units["hejin"].pk).exists()


def test_it_refuses_bulk_actions_without_permission(client, leader, units):
    client.force_login(leader)
    assert client.post("/orgunits/edit/", {"pk": [units["yanhu"].pk], "_apply": "1", "kind": "other"}).status_code == 403
    assert client.post("/orgunits/delete/", {"pk": [units["yanhu"].pk], "_confirm": "1"}).status_code == 403
    assert OrgUnit.objects.count() == 2
    page = client.get("/orgunits/").content.decode()
    assert "批量删除" not in page and 'name="pk"' not in page


# --- the list page ------------------------------------------------------------------------------------
def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/orgunits/").status_code == 200
    return len(queries)


def test_it_lists_with_a_fixed_number_of_queries(client, yanhu_officer, units):
    client.force_login(yanhu_officer)
    yanhu = Region.objects.get(code="140802")
    parent = units["yanhu"]
    OrgUnit.objects.bulk_create([OrgUnit(name=f"盐湖区单位{i:02d}", region=yanhu, parent=parent) for i in range(3)])
    few = _list_queries(client)
    OrgUnit.objects.bulk_create([OrgUnit(name=f"盐湖区单位{i:02d}", region=yanhu, parent=parent) for i in range(3, 40)])
    many = _list_queries(client)
    assert many == few  # no query per row (regions and parents come with the page)
    assert many <= 12


def test_it_filters_with_htmx_and_answers_only_the_results(client, city_admin, units):
    client.force_login(city_admin)
    hejin = Region.objects.get(code="140882")
    response = client.get(f"/orgunits/?region={hejin.pk}", HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="object-list-results")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page and "<form method=\"get\"" not in page
    assert "河津市人才办" in page and "盐湖区人才办" not in page
    assert "共 1 条" in page
    full = client.get(f"/orgunits/?region={hejin.pk}").content.decode()
    assert "<html" in full and 'hx-target="#object-list-results"' in full and 'hx-push-url="true"' in full


def test_it_searches_by_name(client, city_admin, units):
    client.force_login(city_admin)
    page = client.get("/orgunits/?q=河津").content.decode()
    assert "河津市人才办" in page and "盐湖区人才办" not in page


def test_it_names_the_regions_a_unit_moved_between(client, city_admin, units):
    client.force_login(city_admin)
    unit = units["yanhu"]
    hejin = Region.objects.get(code="140882")
    assert client.post(f"/orgunits/{unit.pk}/edit/", form_data(unit, client, region=hejin.pk)).status_code == 302
    page = client.get(f"/orgunits/{unit.pk}/changelog/").content.decode()
    assert re.search(r"<td>所属地区</td><td[^>]*>盐湖区</td><td>河津市</td>", page)
