"""Who am I, regions and dictionaries through the API: read-only reference data."""

import pytest

from rencai.core.models import Dictionary, DictionaryItem
from rencai.core.services.tokens import create_token

pytestmark = pytest.mark.django_db


def bearer(user) -> dict:
    _, raw = create_token(user)
    return {"Authorization": f"Bearer {raw}"}


def _codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["code"] for item in response.json()["items"]]


@pytest.fixture
def tiers(refdata):
    dictionary, _ = Dictionary.objects.get_or_create(code="api_test_tier", defaults={"name": "测试层次"})
    top = DictionaryItem.objects.create(dictionary=dictionary, code="A", label="A 类（顶尖人才）", sort_order=1)
    DictionaryItem.objects.create(dictionary=dictionary, code="B", label="B 类", sort_order=2, parent=top)
    DictionaryItem.objects.create(dictionary=dictionary, code="Z", label="停用类", sort_order=9, is_active=False)
    return dictionary


def test_me_names_the_tokens_user_roles_and_regions(client, yanhu_officer):
    body = client.get("/api/me", headers=bearer(yanhu_officer)).json()
    assert body["username"] == "yanhu" and body["full_name"] == "盐湖区专员"
    assert body["roles"] == [{"code": "county_officer", "name": "县级专员"}]
    assert [region["code"] for region in body["regions"]] == ["140802"]
    assert body["sees_all_regions"] is False and body["can_view_personal"] is True
    assert "core.view_orgunit" in body["permissions"] and "core.view_user" not in body["permissions"]


def test_me_for_an_administrator(client, audit_admin):
    body = client.get("/api/me", headers=bearer(audit_admin)).json()
    assert body["roles"][0]["code"] == "audit_admin" and body["regions"] == []
    assert "core.view_orgunit" not in body["permissions"]


def test_regions_filter_by_level_parent_and_text(client, leader):
    headers = bearer(leader)
    counties = _codes(client.get("/api/regions/?parent=140800&level=county&limit=200", headers=headers))
    assert "140802" in counties and "140882" in counties and "140800" not in counties
    assert counties == sorted(counties)  # in path order
    found = client.get("/api/regions/?q=盐湖", headers=headers).json()["items"]
    assert "140802" in [item["code"] for item in found] and all("盐湖" in item["name"] for item in found)
    assert "140882" in _codes(client.get("/api/regions/?q=1408&limit=200", headers=headers))
    bad = client.get("/api/regions/?level=galaxy", headers=headers)
    assert bad.status_code == 422 and "level" in bad.json()["errors"]


def test_one_region_by_code(client, yanhu_officer):
    headers = bearer(yanhu_officer)
    body = client.get("/api/regions/140882", headers=headers).json()
    assert body["name"] == "河津市" and body["parent"] == "140800" and body["level"] == "county"
    assert body["level_label"] == "县级"
    assert client.get("/api/regions/999999", headers=headers).status_code == 404


def test_reference_data_needs_the_view_permission(client, audit_admin, tiers):
    headers = bearer(audit_admin)
    assert client.get("/api/regions/", headers=headers).status_code == 403
    assert client.get("/api/regions/140802", headers=headers).status_code == 403
    assert client.get("/api/dictionaries/", headers=headers).status_code == 403
    assert client.get(f"/api/dictionaries/{tiers.code}/items", headers=headers).status_code == 403


def test_reference_data_is_read_only(client, city_admin):
    headers = bearer(city_admin)
    assert client.post("/api/regions/", {}, content_type="application/json", headers=headers).status_code == 405
    assert client.delete("/api/regions/140802", headers=headers).status_code == 405


def test_dictionaries_and_their_items(client, yanhu_officer, tiers):
    headers = bearer(yanhu_officer)
    listed = {item["code"]: item for item in client.get("/api/dictionaries/?limit=200", headers=headers).json()["items"]}
    assert listed[tiers.code]["item_count"] == 3 and listed[tiers.code]["name"] == "测试层次"
    items = client.get(f"/api/dictionaries/{tiers.code}/items", headers=headers).json()["items"]
    assert [item["code"] for item in items] == ["A", "B", "Z"]  # by sort order
    assert items[1]["parent"] == "A" and items[0]["parent"] is None
    assert _codes(client.get(f"/api/dictionaries/{tiers.code}/items?is_active=true", headers=headers)) == ["A", "B"]
    assert _codes(client.get(f"/api/dictionaries/{tiers.code}/items?q=顶尖", headers=headers)) == ["A"]
    assert client.get("/api/dictionaries/no_such_dictionary/items", headers=headers).status_code == 404
