"""Talents through the API: scope per persona, search and filters like the list page, masking by
role (full values audited), create with codes, duplicates, PATCH with If-Match, delete, counts
and cursor pages, and a flat query count."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rencai.api.filtering import apply_filters
from rencai.core.models import AuditEntry
from rencai.core.models.audit import AuditAction
from rencai.core.services.tokens import create_token
from rencai.talents.api import TalentQuery
from rencai.talents.filters import TalentFilterSet
from rencai.talents.models import Talent, TalentDatabase
from rencai.talents.tests.helpers import id_number, item, make_talent, region

pytestmark = pytest.mark.django_db

YANHU_ID = id_number("19850312", male=True, seq=31)
MOBILE = "13912345678"


def bearer(user) -> dict:
    _, raw = create_token(user)
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def talents(city_admin):
    return {
        "yanhu": make_talent(city_admin, name="张伟", id_card=YANHU_ID, mobile=MOBILE, work_unit="北京理工大学",
                             category=item("talent_category_native", "04"), tier=item("talent_tier", "C"),
                             databases=list(TalentDatabase.objects.filter(code="native_excellent")),
                             education_history=[{"school": "北京理工大学", "education": item("education", "10")}]),
        "hejin": make_talent(city_admin, name="李刚", region_code="140882", native_place=region("140882"),
                             work_unit="太原钢铁集团"),
    }


def _names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["items"]}


def _post(client, headers, data):
    return client.post("/api/talents/", data, content_type="application/json", headers=headers)


def _patch(client, headers, pk, data, if_match=None):
    if if_match:
        headers = {**headers, "If-Match": if_match}
    return client.patch(f"/api/talents/{pk}", data, content_type="application/json", headers=headers)


# --- scope -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona,expected", [
    ("city_admin", {"张伟", "李刚"}), ("leader", {"张伟", "李刚"}), ("yanhu_officer", {"张伟"}), ("hejin_officer", {"李刚"}),
])
def test_it_lists_the_talents_in_scope(client, request, talents, persona, expected):
    user = request.getfixturevalue(persona)
    response = client.get("/api/talents/", headers=bearer(user))
    assert _names(response) == expected
    assert response.json()["count"] == len(expected) and response.json()["count_capped"] is False


def test_another_countys_talent_is_404_for_every_verb(client, yanhu_officer, talents):
    headers = bearer(yanhu_officer)
    pk = talents["hejin"].pk
    assert client.get(f"/api/talents/{pk}", headers=headers).status_code == 404
    assert _patch(client, headers, pk, {"position": "x"}).status_code == 404
    assert client.delete(f"/api/talents/{pk}", headers=headers).status_code == 404
    assert Talent.objects.get(pk=pk).position == ""


def test_administrators_without_business_roles_get_403(client, system_admin, talents):
    assert client.get("/api/talents/", headers=bearer(system_admin)).status_code == 403


def test_a_leader_reads_but_cannot_write(client, leader, talents):
    headers = bearer(leader)
    assert client.get(f"/api/talents/{talents['yanhu'].pk}", headers=headers).status_code == 200
    assert _post(client, headers, {"name": "x", "kind": "native", "region": "140802"}).status_code == 403
    assert _patch(client, headers, talents["yanhu"].pk, {"position": "x"}).status_code == 403


# --- search and filters ------------------------------------------------------------------------------------
def test_it_searches_within_scope(client, yanhu_officer, city_admin, talents):
    assert _names(client.get("/api/talents/", {"q": "李刚"}, headers=bearer(city_admin))) == {"李刚"}
    assert _names(client.get("/api/talents/", {"q": "李刚"}, headers=bearer(yanhu_officer))) == set()
    assert _names(client.get("/api/talents/", {"q": YANHU_ID}, headers=bearer(yanhu_officer))) == {"张伟"}
    assert _names(client.get("/api/talents/", {"q": MOBILE}, headers=bearer(city_admin))) == {"张伟"}


def test_it_filters_like_the_list_page(client, city_admin, yanhu_officer, talents):
    headers = bearer(city_admin)
    assert _names(client.get("/api/talents/", {"tier": item("talent_tier", "C").pk}, headers=headers)) == {"张伟"}
    assert _names(client.get("/api/talents/", {"region": region("140800").pk}, headers=headers)) == {"张伟", "李刚"}
    assert _names(client.get("/api/talents/", {"databases": TalentDatabase.objects.get(code="native_excellent").pk},
                             headers=headers)) == {"张伟"}
    response = client.get("/api/talents/", {"region": region("140882").pk}, headers=bearer(yanhu_officer))
    assert response.status_code == 422 and "region" in response.json()["errors"]


def test_a_request_builds_only_the_filters_it_sends(city_admin, talents):
    in_scope = Talent.objects.restrict(city_admin, "view")  # the permissions are read here, once
    with CaptureQueriesContext(connection) as queries:
        found = list(apply_filters(TalentFilterSet, TalentQuery(q="张伟"), in_scope, city_admin))
    read = {re.search(r'FROM "(\w+)"', query["sql"])[1] for query in queries.captured_queries}
    # The search index and the page: no region, category or 籍贯 choices of the filters not sent.
    assert read == {"talents_talentsearchterm", "talents_talent"}
    assert [t.name for t in found] == ["张伟"]
    tier = str(item("talent_tier", "C").pk)
    assert [t.name for t in apply_filters(TalentFilterSet, TalentQuery(q="张伟", tier=tier), in_scope, city_admin)] == ["张伟"]
    assert not apply_filters(TalentFilterSet, TalentQuery(q="李刚", tier=tier), in_scope, city_admin).exists()


def test_it_pages_by_cursor_with_a_count(client, city_admin, talents):
    for i in range(5):
        make_talent(city_admin, name=f"王{i}")
    headers = bearer(city_admin)
    seen, url = [], "/api/talents/?limit=3"
    while url:
        body = client.get(url, headers=headers).json()
        assert body["count"] == 7
        seen.extend(row["name"] for row in body["items"])
        url = body["next"]
    assert len(seen) == 7 and len(set(seen)) == 7


def test_it_pages_search_results_in_rank_order(client, city_admin, talents):
    for i in range(4):
        make_talent(city_admin, name=f"张伟{i}")
    headers = bearer(city_admin)
    first = client.get("/api/talents/", {"q": "张伟", "limit": 2}, headers=headers).json()
    assert first["count"] == 5
    second = client.get(first["next"], headers=headers).json()
    third = client.get(second["next"], headers=headers).json()
    names = [row["name"] for page in (first, second, third) for row in page["items"]]
    assert sorted(names) == ["张伟", "张伟0", "张伟1", "张伟2", "张伟3"] and third["next"] is None


def test_the_list_costs_the_same_queries_for_more_rows(client, city_admin, talents):
    headers = bearer(city_admin)
    client.get("/api/talents/", headers=headers)  # the token's last use is stamped once a minute
    with CaptureQueriesContext(connection) as few:
        client.get("/api/talents/", headers=headers)
    for i in range(20):
        make_talent(city_admin, name=f"测试{i}", tier=item("talent_tier", "D"), tags=[],
                    databases=list(TalentDatabase.objects.filter(code="native_excellent")))
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/talents/", headers=headers)
    assert len(response.json()["items"]) == 22
    assert len(many.captured_queries) == len(few.captured_queries)


def _read(queries) -> list[str]:
    """What each statement read or wrote: its first table (savepoints left out)."""
    tables = []
    for query in queries.captured_queries:
        sql = query["sql"]
        if not sql.startswith(("SAVEPOINT", "RELEASE")):
            tables.append(re.search(r'FROM "(\w+)"', sql)[1] if sql.startswith("SELECT") else
                          " ".join(sql.split()[:3]).replace('"', ""))
    return tables


def test_a_search_reads_each_thing_it_shows_once(client, city_admin, yanhu_officer, talents):
    shown = ["talents_talentsearchterm", "talents_talentsearchterm", "talents_talent", "talents_talentdatabase",
             "talents_tag", "core_region", "core_dictionaryitem"]
    audited = ["UPDATE core_auditchainhead SET", "INSERT INTO core_auditentry", "UPDATE core_auditchainhead SET"]
    for user, scope, counted in ((city_admin, [], []), (yanhu_officer, ["core_region", "core_region"], ["talents_talent"])):
        headers = bearer(user)
        client.get("/api/talents/", {"q": "张伟"}, headers=headers)  # the token's last use is stamped once a minute
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/talents/", {"q": "张伟"}, headers=headers).json()["count"] == 1
        # The token, the permissions and roles (a county officer's regions), the index (how many
        # entries, then those to rank), the page, one query per kind of record it points to, the
        # count (none when the search is the whole answer: it counted what it ranked), and the
        # audit entry of the full values shown.
        assert _read(queries) == ["core_apitoken", "auth_permission", "core_role", *scope, *shown, *counted,
                                  *audited]


# --- masking ---------------------------------------------------------------------------------------------------
def test_it_masks_personal_numbers_for_a_leader(client, leader, talents):
    body = client.get(f"/api/talents/{talents['yanhu'].pk}", headers=bearer(leader)).json()
    assert body["id_card"] == YANHU_ID[:6] + "********" + YANHU_ID[-4:]
    assert body["mobile"] == "139****5678"
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL).exists()


def test_it_shows_full_values_to_cleared_roles_and_audits_it(client, yanhu_officer, talents):
    body = client.get(f"/api/talents/{talents['yanhu'].pk}", headers=bearer(yanhu_officer)).json()
    assert body["id_card"] == YANHU_ID and body["mobile"] == MOBILE
    entry = AuditEntry.objects.get(action=AuditAction.VIEW_PERSONAL, actor=yanhu_officer)
    assert entry.changes["ids"] == [talents["yanhu"].pk]
    client.get("/api/talents/", headers=bearer(yanhu_officer))
    assert AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL, actor=yanhu_officer).count() == 2


def test_it_carries_labels_and_codes(client, city_admin, talents):
    body = client.get(f"/api/talents/{talents['yanhu'].pk}", headers=bearer(city_admin)).json()
    assert body["category"]["code"] == "04" and body["category"]["label"] == "高校"
    assert body["tier"] == {"id": item("talent_tier", "C").pk, "code": "C", "label": "省级领军人才"}
    assert body["region"]["code"] == "140802" and body["kind_label"] == "在外人才"
    assert body["databases"][0]["code"] == "native_excellent"
    assert body["birth_date"] == "1985-03-12" and body["gender"] == "male" and body["gender_label"] == "男"
    assert body["education_history"][0]["school"] == "北京理工大学"
    assert body["education_history"][0]["education"]["label"] == "研究生"


# --- create ------------------------------------------------------------------------------------------------------
NEW = {
    "name": "赵敏", "kind": "native", "region": "140802", "native_place": "140802",
    "id_card": id_number("19880620", male=False, seq=45), "category": "03", "tier": "D",
    "work_province": "110000", "databases": ["native_excellent"], "tags": ["金融"],
    "education_history": [{"start": "2006-09", "end": "2010-07", "school": "南开大学", "degree": "4"}],
    "work_history": [{"start": "2010-08", "unit": "中国银行总行"}],
}


def test_it_creates_a_talent_from_codes(client, yanhu_officer):
    response = _post(client, bearer(yanhu_officer), NEW)
    assert response.status_code == 201, response.content
    body = response.json()
    talent = Talent.objects.get(pk=body["id"])
    assert talent.birth_date.isoformat() == "1988-06-20" and talent.gender == "female"
    assert talent.category.label == "经济/企业" and talent.created_by == yanhu_officer
    assert body["tags"] == ["金融"] and body["work_history"][0]["unit"] == "中国银行总行"
    assert response["ETag"] == '"1"'


@pytest.mark.parametrize("changes,field", [
    ({"region": "140882"}, "region"),  # another county
    ({"category": "99"}, "category"),
    ({"native_place": "140105"}, "native_place"),  # 在外人才 must come from the city
    ({"birth_date": "1988-06-21"}, "birth_date"),
    ({"gender": "male"}, "gender"),
    ({"id_card": "140802198806200000"}, "id_card"),
    ({"id_card": "140802880620452"}, "id_card"),  # 15-digit legacy number
    ({"databases": ["local_excellent"]}, "databases"),
    ({"work_history": [{"start": "2010-13", "unit": "x"}]}, "work_history.1.start"),
])
def test_it_names_the_field_it_refuses(client, yanhu_officer, changes, field):
    response = _post(client, bearer(yanhu_officer), {**NEW, **changes})
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    assert not Talent.objects.filter(name="赵敏").exists()


def test_it_refuses_a_registered_id_number_with_409(client, yanhu_officer, hejin_officer, talents):
    response = _post(client, bearer(yanhu_officer), {**NEW, "id_card": YANHU_ID, "birth_date": None})
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_id_card" and response.json()["existing"]["id"] == talents["yanhu"].pk
    # In another county: refused without saying whose it is.
    response = _post(client, bearer(hejin_officer), {**NEW, "id_card": YANHU_ID, "region": "140882", "native_place": "140882"})
    assert response.status_code == 409 and response.json()["existing"] is None
    assert "张伟" not in response.content.decode()
    assert Talent.objects.count() == 2


def test_it_asks_before_creating_a_look_alike(client, yanhu_officer, talents):
    data = {**NEW, "name": "张伟", "id_card": "", "mobile": MOBILE}
    response = _post(client, bearer(yanhu_officer), data)
    assert response.status_code == 409 and response.json()["code"] == "possible_duplicates"
    assert [d["id"] for d in response.json()["duplicates"]] == [talents["yanhu"].pk]
    assert not Talent.objects.filter(tags__name="金融").exists()  # nothing of it was saved
    response = _post(client, bearer(yanhu_officer), {**data, "confirm_duplicates": True})
    assert response.status_code == 201
    assert Talent.objects.filter(name="张伟").count() == 2


def test_a_role_without_clearance_cannot_write_personal_numbers(client, yanhu_officer, talents):
    from rencai.core.models import Role

    Role.objects.filter(code="county_officer").update(can_view_personal=False)
    response = _patch(client, bearer(yanhu_officer), talents["yanhu"].pk, {"mobile": "13700000000"})
    assert response.status_code == 422 and "mobile" in response.json()["errors"]
    assert Talent.objects.get(pk=talents["yanhu"].pk).mobile == MOBILE


# --- update and delete --------------------------------------------------------------------------------------------
def test_it_patches_with_if_match_and_refuses_a_stale_one(client, yanhu_officer, talents):
    headers = bearer(yanhu_officer)
    pk = talents["yanhu"].pk
    etag = client.get(f"/api/talents/{pk}", headers=headers)["ETag"]
    response = _patch(client, headers, pk, {"position": "教授", "tags": ["博士"]}, if_match=etag)
    assert response.status_code == 200, response.content
    assert response.json()["position"] == "教授" and response.json()["version"] == 2 and response["ETag"] == '"2"'
    stale = _patch(client, headers, pk, {"position": "讲师"}, if_match=etag)
    assert stale.status_code == 412
    assert _patch(client, headers, pk, {"position": "讲师", "version": 1}).status_code == 412
    talent = Talent.objects.get(pk=pk)
    assert talent.position == "教授" and talent.version == 2
    assert talent.work_unit == "北京理工大学"  # fields not sent are kept


def test_it_refuses_to_move_a_talent_out_of_scope(client, yanhu_officer, talents):
    response = _patch(client, bearer(yanhu_officer), talents["yanhu"].pk, {"region": "140882"})
    assert response.status_code == 422
    assert Talent.objects.get(pk=talents["yanhu"].pk).region.code == "140802"


def test_it_deletes_with_if_match(client, yanhu_officer, talents):
    headers = bearer(yanhu_officer)
    pk = talents["yanhu"].pk
    assert client.delete(f"/api/talents/{pk}", headers={**headers, "If-Match": '"7"'}).status_code == 412
    assert client.delete(f"/api/talents/{pk}", headers={**headers, "If-Match": '"1"'}).status_code == 204
    assert not Talent.objects.filter(pk=pk).exists()
    assert AuditEntry.objects.filter(action=AuditAction.DELETE, object_type="talents.talent", actor=yanhu_officer).exists()
