"""Reference data pages: regions (行政区划), dictionaries (数据字典) and dictionary items."""

from __future__ import annotations

import re

import pytest

from rencai.core.models import AuditEntry, Dictionary, DictionaryItem, Region
from rencai.core.models.audit import AuditAction

pytestmark = pytest.mark.django_db


def region(code: str) -> Region:
    return Region.objects.get(code=code)


def token_of(page: str) -> str:
    return re.search(r'name="concurrency_token" value="([^"]*)"', page).group(1)


# --- regions ---------------------------------------------------------------------------------------------
def test_it_lists_the_counties_under_yuncheng(client, yanhu_officer):
    client.force_login(yanhu_officer)
    page = client.get("/reference/regions/?parent=140800").content.decode().split('id="object-list-results"')[1]
    assert f'<a href="/reference/regions/{region("140802").pk}/">盐湖区</a>' in page
    assert "河津市" in page and "太原市" not in page and "小店区" not in page


def test_it_filters_regions_by_level_and_search(client, yanhu_officer):
    client.force_login(yanhu_officer)
    page = client.get("/reference/regions/?q=盐湖&level=county").content.decode()
    results = page.split('id="object-list-results"')[1]
    assert "盐湖区" in results and "共 1 条" in results
    results = client.get("/reference/regions/?q=140802").content.decode().split('id="object-list-results"')[1]
    assert "盐湖区" in results and "共 1 条" in results
    results = client.get("/reference/regions/?level=prefecture&parent=140000").content.decode()
    results = results.split('id="object-list-results"')[1]
    assert "运城市" in results and "盐湖区" not in results


def test_it_shows_a_city_with_its_counties(client, yanhu_officer):
    client.force_login(yanhu_officer)
    city = region("140800")
    page = client.get(f"/reference/regions/{city.pk}/").content.decode()
    assert "<h2 class=\"page-title\">运城市</h2>" in page
    children = page.split("下级区划")[1]
    assert f'<a href="/reference/regions/{region("140802").pk}/">盐湖区</a>' in children
    assert "永济市" in children and "河津市" in children


def test_it_shows_a_county_under_its_city(client, yanhu_officer):
    client.force_login(yanhu_officer)
    county = region("140802")
    page = client.get(f"/reference/regions/{county.pk}/").content.decode()
    assert "山西省运城市盐湖区" in page  # the full name
    assert f'<a href="/reference/regions/{region("140800").pk}/">运城市</a>' in page  # breadcrumb and parent
    crumbs = re.findall(r'<li class="breadcrumb-item[^"]*"[^>]*>(?:<a [^>]*>)?([^<]*)', page)
    assert crumbs == ["首页", "行政区划", "山西省", "运城市", "盐湖区"]
    assert "/edit/" not in page  # a county officer may not edit regions


def test_it_lets_only_region_editors_edit_a_region(client, city_admin, city_staff, system_admin):
    county = region("140802")
    client.force_login(city_staff)
    assert client.get(f"/reference/regions/{county.pk}/edit/").status_code == 404
    client.force_login(city_admin)
    page = client.get(f"/reference/regions/{county.pk}/edit/").content.decode()
    response = client.post(f"/reference/regions/{county.pk}/edit/", {
        "name": "盐湖区", "level": "county", "parent": region("140800").pk, "sort_order": 5,
        "is_active": "on", "concurrency_token": token_of(page),
    })
    assert response.status_code == 302
    county.refresh_from_db()
    assert county.sort_order == 5
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE, object_type="core.region",
                                     object_id=str(county.pk), actor=city_admin).exists()
    changelog = client.get(f"/reference/regions/{county.pk}/changelog/").content.decode()
    assert "排序" in changelog and "city_admin" in changelog


def test_it_refuses_to_make_a_region_its_own_ancestor(client, city_admin):
    client.force_login(city_admin)
    city = region("140800")
    page = client.get(f"/reference/regions/{city.pk}/edit/").content.decode()
    response = client.post(f"/reference/regions/{city.pk}/edit/", {
        "name": "运城市", "level": "prefecture", "parent": region("140802").pk, "sort_order": 0,
        "is_active": "on", "concurrency_token": token_of(page),
    })
    assert "上级不能是本区划或其下级区划。" in response.content.decode()
    city.refresh_from_db()
    assert city.parent.code == "140000"


def test_it_offers_no_region_add_or_delete_page(client, city_admin):
    client.force_login(city_admin)
    assert client.get("/reference/regions/add/").status_code == 404
    assert client.get(f"/reference/regions/{region('140802').pk}/delete/").status_code == 404


def test_it_hides_regions_from_users_without_the_permission(client, audit_admin):
    client.force_login(audit_admin)
    assert client.get("/reference/regions/").status_code == 403
    assert client.get(f"/reference/regions/{region('140802').pk}/").status_code == 404


# --- dictionaries and their items -------------------------------------------------------------------------
@pytest.fixture
def tiers(refdata):
    return Dictionary.objects.get(code="talent_tier")


def test_it_lists_dictionaries_with_their_item_counts(client, leader, tiers):
    client.force_login(leader)
    page = client.get("/reference/dictionaries/").content.decode()
    assert "人才层次" in page and "民族" in page
    results = client.get("/reference/dictionaries/?q=tier").content.decode().split('id="object-list-results"')[1]
    assert "人才层次" in results and "民族" not in results
    results = client.get("/reference/dictionaries/?q=人才层次").content.decode().split('id="object-list-results"')[1]
    assert "共 1 条" in results and f">{tiers.items.count()}<" in results


def test_it_shows_a_dictionary_with_its_items(client, leader, tiers):
    client.force_login(leader)
    page = client.get(f"/reference/dictionaries/{tiers.pk}/").content.decode()
    assert "国内外顶尖人才" in page and "国家级领军人才" in page
    assert "新增字典项" not in page  # the leader reads, does not edit


def test_it_filters_a_dictionarys_items_with_htmx(client, leader, tiers):
    client.force_login(leader)
    response = client.get(f"/reference/dictionaries/{tiers.pk}/?q=国家级", HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="dictionary-items")
    page = response.content.decode()
    assert "<html" not in page
    assert "国家级领军人才" in page and "国内外顶尖人才" not in page


def test_it_adds_edits_and_deletes_an_item_from_the_dictionarys_page(client, city_admin, tiers):
    client.force_login(city_admin)
    detail = client.get(f"/reference/dictionaries/{tiers.pk}/").content.decode()
    assert f'href="/reference/dictionary-items/add/?dictionary={tiers.pk}"' in detail

    form = client.get(f"/reference/dictionary-items/add/?dictionary={tiers.pk}").content.decode()
    assert "人才层次" in form  # the breadcrumb leads back to the dictionary
    response = client.post(f"/reference/dictionary-items/add/?dictionary={tiers.pk}", {
        "dictionary": tiers.pk, "code": "F", "label": "其他优秀人才", "synonyms": "F类、F类人才",
        "sort_order": 60, "is_active": "on",
    })
    assert response.status_code == 302 and response["Location"] == f"/reference/dictionaries/{tiers.pk}/"
    item = DictionaryItem.objects.get(dictionary=tiers, code="F")
    assert item.synonyms == ["F类", "F类人才"]

    page = client.get(f"/reference/dictionary-items/{item.pk}/edit/").content.decode()
    response = client.post(f"/reference/dictionary-items/{item.pk}/edit/", {
        "dictionary": tiers.pk, "code": "F", "label": "其他高层次人才", "synonyms": "F类", "sort_order": 60,
        "is_active": "on", "concurrency_token": token_of(page),
    })
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.label == "其他高层次人才"

    response = client.post(f"/reference/dictionary-items/{item.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == f"/reference/dictionaries/{tiers.pk}/"
    assert not DictionaryItem.objects.filter(pk=item.pk).exists()


def test_it_refuses_a_duplicate_item_code_in_chinese(client, city_admin, tiers):
    client.force_login(city_admin)
    response = client.post(f"/reference/dictionary-items/add/?dictionary={tiers.pk}", {
        "dictionary": tiers.pk, "code": "A", "label": "重复", "sort_order": 0,
    })
    assert response.status_code == 200
    assert "同一字典中的代码不能重复。" in response.content.decode()


def test_it_needs_a_dictionary_to_add_an_item_to(client, city_admin):
    client.force_login(city_admin)
    assert client.get("/reference/dictionary-items/add/").status_code == 404
    assert client.get("/reference/dictionary-items/add/?dictionary=999999").status_code == 404


def test_it_refuses_item_changes_to_read_only_roles(client, city_staff, tiers):
    client.force_login(city_staff)
    item = tiers.items.get(code="A")
    assert client.get(f"/reference/dictionary-items/add/?dictionary={tiers.pk}").status_code == 403
    assert client.get(f"/reference/dictionary-items/{item.pk}/edit/").status_code == 404
    assert client.post(f"/reference/dictionary-items/{item.pk}/delete/").status_code == 404
    assert DictionaryItem.objects.filter(pk=item.pk).exists()


def test_it_refuses_a_stale_region_edit_even_without_a_stamp_column(client, city_admin):
    """Regions have no version or updated_at: the token is a digest of the row."""
    client.force_login(city_admin)
    county = region("140802")
    page = client.get(f"/reference/regions/{county.pk}/edit/").content.decode()
    Region.objects.filter(pk=county.pk).update(sort_order=7)  # someone else's save
    response = client.post(f"/reference/regions/{county.pk}/edit/", {
        "name": "盐湖区（改）", "level": "county", "parent": region("140800").pk, "sort_order": 0,
        "is_active": "on", "concurrency_token": token_of(page),
    })
    assert response.status_code == 409
    county.refresh_from_db()
    assert county.name == "盐湖区" and county.sort_order == 7
