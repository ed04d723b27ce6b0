"""Org units through the API: the same permissions, data scope and masking as the web UI."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rencai.core.models import AuditEntry, OrgUnit, Region
from rencai.core.models.audit import AuditAction
from rencai.core.services.tokens import create_token

pytestmark = pytest.mark.django_db

YANHU_MOBILE = "13812345678"
HEJIN_MOBILE = "13912345678"


def bearer(user) -> dict:
    _, raw = create_token(user)
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def units(refdata):
    yanhu = OrgUnit.objects.create(
        name="盐湖区人才办", kind="talent_office", region=Region.objects.get(code="140802"),
        contact_name="张三", contact_mobile=YANHU_MOBILE,
    )
    hejin = OrgUnit.objects.create(
        name="河津市人才办", kind="talent_office", region=Region.objects.get(code="140882"),
        contact_name="李四", contact_mobile=HEJIN_MOBILE,
    )
    return {"yanhu": yanhu, "hejin": hejin}


def _names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["name"] for item in response.json()["items"]}


def _post(client, headers, data):
    return client.post("/api/orgunits/", data, content_type="application/json", headers=headers)


def _patch(client, headers, unit_id, data):
    return client.patch(f"/api/orgunits/{unit_id}", data, content_type="application/json", headers=headers)


# --- scope per persona ------------------------------------------------------------------------------
def test_the_city_administrator_sees_both_counties(client, city_admin, units):
    headers = bearer(city_admin)
    assert _names(client.get("/api/orgunits/", headers=headers)) == {"盐湖区人才办", "河津市人才办"}
    assert client.get(f"/api/orgunits/{units['hejin'].pk}", headers=headers).status_code == 200


def test_the_yanhu_officer_sees_only_yanhu(client, yanhu_officer, units):
    headers = bearer(yanhu_officer)
    assert _names(client.get("/api/orgunits/", headers=headers)) == {"盐湖区人才办"}
    assert client.get(f"/api/orgunits/{units['yanhu'].pk}", headers=headers).status_code == 200
    hejin_id = units["hejin"].pk
    for response in (
        client.get(f"/api/orgunits/{hejin_id}", headers=headers),
        _patch(client, headers, hejin_id, {"name": "改名"}),
        client.delete(f"/api/orgunits/{hejin_id}", headers=headers),
    ):
        assert response.status_code == 404
        assert "数据范围" in response.json()["detail"]
    hejin = OrgUnit.objects.get(pk=hejin_id)
    assert hejin.name == "河津市人才办"
    denied = AuditEntry.objects.filter(action=AuditAction.ACCESS_DENIED, actor=yanhu_officer)
    assert denied.count() == 3 and denied.latest("id").message == "API 404"


def test_a_region_filter_outside_scope_is_refused_not_widened(client, yanhu_officer, units):
    hejin_region = Region.objects.get(code="140882")
    response = client.get(f"/api/orgunits/?region={hejin_region.pk}", headers=bearer(yanhu_officer))
    assert response.status_code == 422 and "region" in response.json()["errors"]


def test_the_leader_reads_everything_masked_and_writes_nothing(client, leader, units):
    headers = bearer(leader)
    items = client.get("/api/orgunits/", headers=headers).json()["items"]
    assert {item["contact_mobile"] for item in items} == {"138****5678", "139****5678"}
    detail = client.get(f"/api/orgunits/{units['yanhu'].pk}", headers=headers).json()
    assert detail["contact_mobile"] == "138****5678"
    assert YANHU_MOBILE not in client.get("/api/orgunits/", headers=headers).content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL).exists()
    assert _post(client, headers, {"name": "新机构", "region": "140802"}).status_code == 403
    assert _patch(client, headers, units["yanhu"].pk, {"name": "改名"}).status_code == 403
    assert client.delete(f"/api/orgunits/{units['yanhu'].pk}", headers=headers).status_code == 403
    assert OrgUnit.objects.count() == 2 and OrgUnit.objects.get(pk=units["yanhu"].pk).name == "盐湖区人才办"


@pytest.mark.parametrize("persona", ["system_admin", "security_admin", "audit_admin"])
def test_the_three_administrators_see_no_org_unit(client, request, persona, units):
    headers = bearer(request.getfixturevalue(persona))
    assert client.get("/api/orgunits/", headers=headers).status_code == 403
    response = client.get(f"/api/orgunits/{units['yanhu'].pk}", headers=headers)
    assert response.status_code == 403 and "张三" not in response.content.decode()
    assert _post(client, headers, {"name": "新机构", "region": "140802"}).status_code == 403


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("city_admin", YANHU_MOBILE), ("city_staff", YANHU_MOBILE), ("yanhu_officer", YANHU_MOBILE), ("leader", "138****5678")],
)
def test_the_mobile_is_masked_unless_the_role_may_see_it(client, request, persona, expected, units):
    user = request.getfixturevalue(persona)
    response = client.get(f"/api/orgunits/{units['yanhu'].pk}", headers=bearer(user))
    assert response.json()["contact_mobile"] == expected
    full_views = AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL, actor=user)
    assert full_views.exists() == (expected == YANHU_MOBILE)


def test_a_list_with_full_values_is_audited_once(client, city_admin, units):
    client.get("/api/orgunits/", headers=bearer(city_admin))
    entry = AuditEntry.objects.get(action=AuditAction.VIEW_PERSONAL)
    assert entry.actor_id == city_admin.pk and entry.object_type == "core.orgunit"
    assert sorted(entry.changes["ids"]) == sorted([units["yanhu"].pk, units["hejin"].pk])
    assert YANHU_MOBILE not in str(entry.changes)


# --- writes ---------------------------------------------------------------------------------------------
def test_a_county_officer_creates_in_their_county(client, yanhu_officer, units):
    headers = bearer(yanhu_officer)
    response = _post(client, headers, {
        "name": "盐湖区科技局", "kind": "government", "region": "140802", "parent": units["yanhu"].pk,
        "contact_mobile": "+86 138 0000 1111",
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["region"]["code"] == "140802" and body["parent"] == {"id": units["yanhu"].pk, "name": "盐湖区人才办"}
    assert body["contact_mobile"] == "13800001111"  # normalised
    created = OrgUnit.objects.get(pk=body["id"])
    assert created.created_by_id == yanhu_officer.pk
    entry = AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="core.orgunit", object_id=str(created.pk)).get()
    assert entry.actor_id == yanhu_officer.pk and entry.region_code == "140802"


def test_a_county_officer_cannot_create_in_another_county(client, yanhu_officer, units):
    response = _post(client, bearer(yanhu_officer), {"name": "河津市科技局", "region": "140882"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"region": ["所选地区不存在，或不在您的数据范围内。"]}
    assert not OrgUnit.objects.filter(name="河津市科技局").exists()


def test_a_parent_out_of_scope_is_refused(client, yanhu_officer, units):
    response = _post(client, bearer(yanhu_officer), {"name": "盐湖区科技局", "region": "140802", "parent": units["hejin"].pk})
    assert response.status_code == 422 and list(response.json()["errors"]) == ["parent"]


def test_model_validation_errors_are_chinese_and_per_field(client, city_admin, units):
    headers = bearer(city_admin)
    response = _post(client, headers, {"name": "", "region": "140802", "kind": "bogus", "contact_mobile": "12345"})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"name", "kind", "contact_mobile"}
    assert errors["contact_mobile"] == ["手机号码应为 11 位数字，以 13–19 开头。"]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in message) for messages in errors.values() for message in messages)
    duplicate = _post(client, headers, {"name": "盐湖区人才办", "region": "140802"})
    assert duplicate.status_code == 422 and duplicate.json()["errors"] == {"__all__": ["同一地区已有同名机构。"]}
    unknown = _post(client, headers, {"name": "新机构", "region": "140802", "colour": "red"})
    assert unknown.status_code == 422 and unknown.json()["errors"] == {"colour": ["不接受此字段。"]}


def test_patch_changes_only_what_is_sent(client, yanhu_officer, units):
    unit = units["yanhu"]
    response = _patch(client, bearer(yanhu_officer), unit.pk, {"address": "运城市盐湖区解放路 1 号"})
    assert response.status_code == 200, response.content
    unit.refresh_from_db()
    assert unit.address == "运城市盐湖区解放路 1 号" and unit.name == "盐湖区人才办" and unit.contact_mobile == YANHU_MOBILE
    entry = AuditEntry.objects.filter(action=AuditAction.UPDATE, object_type="core.orgunit", object_id=str(unit.pk)).latest("id")
    assert set(entry.changes) == {"address"} and entry.actor_id == yanhu_officer.pk


def test_a_unit_cannot_be_moved_out_of_scope(client, yanhu_officer, city_admin, units):
    unit = units["yanhu"]
    response = _patch(client, bearer(yanhu_officer), unit.pk, {"region": "140882"})
    assert response.status_code == 422 and "region" in response.json()["errors"]
    unit.refresh_from_db()
    assert unit.region.code == "140802"
    moved = _patch(client, bearer(city_admin), unit.pk, {"region": "140882"})
    assert moved.status_code == 200 and moved.json()["region"]["code"] == "140882"


def test_a_unit_cannot_become_its_own_ancestor(client, city_admin, units):
    parent = units["yanhu"]
    child = OrgUnit.objects.create(name="盐湖区人才服务中心", region=parent.region, parent=parent)
    response = _patch(client, bearer(city_admin), parent.pk, {"parent": child.pk})
    assert response.status_code == 422 and response.json()["errors"] == {"parent": ["上级机构不能是本机构或其下级机构。"]}


def test_delete_and_the_unit_with_children(client, city_admin, units):
    headers = bearer(city_admin)
    parent = units["yanhu"]
    child = OrgUnit.objects.create(name="盐湖区人才服务中心", region=parent.region, parent=parent)
    blocked = client.delete(f"/api/orgunits/{parent.pk}", headers=headers)
    assert blocked.status_code == 409 and blocked.json()["detail"]
    assert OrgUnit.objects.filter(pk=parent.pk).exists()
    assert client.delete(f"/api/orgunits/{child.pk}", headers=headers).status_code == 204
    assert not OrgUnit.objects.filter(pk=child.pk).exists()
    entry = AuditEntry.objects.filter(action=AuditAction.DELETE, object_type="core.orgunit", object_id=str(child.pk)).get()
    assert entry.actor_id == city_admin.pk


# --- listing ----------------------------------------------------------------------------------------------
def test_the_filters_are_the_ui_filterset(client, city_admin, units):
    headers = bearer(city_admin)
    OrgUnit.objects.create(name="盐湖区教育局", kind="government", region=Region.objects.get(code="140802"))
    assert _names(client.get("/api/orgunits/?q=河津", headers=headers)) == {"河津市人才办"}
    assert _names(client.get("/api/orgunits/?kind=government", headers=headers)) == {"盐湖区教育局"}
    yanhu = Region.objects.get(code="140802")
    assert _names(client.get(f"/api/orgunits/?region={yanhu.pk}", headers=headers)) == {"盐湖区人才办", "盐湖区教育局"}
    city = Region.objects.get(code="140800")
    assert len(_names(client.get(f"/api/orgunits/?region={city.pk}", headers=headers))) == 3  # with the counties under it
    bad = client.get("/api/orgunits/?kind=bogus", headers=headers)
    assert bad.status_code == 422 and "kind" in bad.json()["errors"]


def test_pages_follow_the_cursor_without_gaps_or_repeats(client, city_admin, units):
    headers = bearer(city_admin)
    region = Region.objects.get(code="140802")
    for number in range(5):
        OrgUnit.objects.create(name=f"盐湖区单位{number}", region=region)
    seen, url = [], "/api/orgunits/?limit=3"
    while url:
        body = client.get(url, headers=headers).json()
        assert len(body["items"]) <= 3
        seen += [item["id"] for item in body["items"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == OrgUnit.objects.count()
    bad = client.get("/api/orgunits/?cursor=not-a-cursor", headers=headers)
    assert bad.status_code == 422 and "cursor" in bad.json()["errors"]


def test_the_page_size_is_capped(client, city_admin, units):
    region = Region.objects.get(code="140802")
    OrgUnit.objects.bulk_create(OrgUnit(name=f"单位{n:03d}", region=region) for n in range(205))
    body = client.get("/api/orgunits/?limit=1000", headers=bearer(city_admin)).json()
    assert len(body["items"]) == 200 and body["next"]


def test_the_list_costs_the_same_queries_for_more_rows(client, yanhu_officer, units):
    headers = bearer(yanhu_officer)
    region = Region.objects.get(code="140802")

    def count_queries() -> int:
        client.get("/api/me", headers=headers)  # the token's last use is written once
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/orgunits/", headers=headers).status_code == 200
        return len(queries)

    few = count_queries()
    parent = units["yanhu"]
    for number in range(12):
        OrgUnit.objects.create(name=f"盐湖区单位{number}", region=region, parent=parent, contact_mobile=YANHU_MOBILE)
    assert count_queries() == few
    assert few <= 12, few


def test_if_match_refuses_a_stale_write(client, city_admin, yanhu_officer, units):
    unit = units["yanhu"]
    headers = bearer(yanhu_officer)
    read = client.get(f"/api/orgunits/{unit.pk}", headers=headers)
    etag = read.headers["ETag"]
    # Someone else changes the unit after we read it.
    assert _patch(client, bearer(city_admin), unit.pk, {"notes": "市里改过"}).status_code == 200
    stale = client.patch(
        f"/api/orgunits/{unit.pk}", {"name": "我们的改名"}, content_type="application/json", headers={**headers, "If-Match": etag}
    )
    assert stale.status_code == 412 and stale.json()["detail"] == "该记录已被他人修改，请重新读取后再提交。"
    assert client.delete(f"/api/orgunits/{unit.pk}", headers={**headers, "If-Match": etag}).status_code == 412
    unit.refresh_from_db()
    assert unit.name == "盐湖区人才办" and unit.notes == "市里改过"
    fresh = client.get(f"/api/orgunits/{unit.pk}", headers=headers).headers["ETag"]
    done = client.patch(
        f"/api/orgunits/{unit.pk}", {"name": "我们的改名"}, content_type="application/json", headers={**headers, "If-Match": fresh}
    )
    assert done.status_code == 200 and done.headers["ETag"] != fresh
