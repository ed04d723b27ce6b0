"""Reference data: the regions of GB/T 2260 and the city's zones, the dictionaries, and a load
that is idempotent, fast, audited once, and keeps what administrators edited."""

import pytest

from rencai.core import audit
from rencai.core.models import AuditEntry, Dictionary, DictionaryItem, Region
from rencai.core.refdata import load_reference_data

pytestmark = pytest.mark.django_db

YUNCHENG_COUNTIES = {
    "140802": "盐湖区", "140821": "临猗县", "140822": "万荣县", "140823": "闻喜县", "140824": "稷山县",
    "140825": "新绛县", "140826": "绛县", "140827": "垣曲县", "140828": "夏县", "140829": "平陆县",
    "140830": "芮城县", "140881": "永济市", "140882": "河津市",
}
SHANXI_PREFECTURES = {
    "140100": "太原市", "140200": "大同市", "140300": "阳泉市", "140400": "长治市", "140500": "晋城市",
    "140600": "朔州市", "140700": "晋中市", "140800": "运城市", "140900": "忻州市", "141000": "临汾市",
    "141100": "吕梁市",
}


def _items(dictionary: str) -> dict[str, DictionaryItem]:
    return {i.code: i for i in DictionaryItem.objects.filter(dictionary__code=dictionary)}


def test_it_places_yanhu_and_hejin_under_yuncheng(refdata):
    yanhu = Region.objects.select_related("parent__parent").get(code="140802")
    assert (yanhu.name, yanhu.level) == ("盐湖区", "county")
    assert (yanhu.parent.code, yanhu.parent.name, yanhu.parent.level) == ("140800", "运城市", "prefecture")
    assert (yanhu.parent.parent.code, yanhu.parent.parent.name) == ("140000", "山西省")
    assert yanhu.path == "/140000/140800/140802/"
    assert yanhu.full_name == "山西省运城市盐湖区"
    assert Region.objects.get(code="140882").name == "河津市"


def test_it_has_the_13_county_level_units_and_two_zones_of_yuncheng(refdata):
    counties = dict(Region.objects.filter(parent__code="140800", level="county").values_list("code", "name"))
    assert counties == YUNCHENG_COUNTIES
    zones = {r.code: r for r in Region.objects.filter(parent__code="140800", level="zone")}
    assert {code: z.name for code, z in zones.items()} == {
        "140800901": "运城经济技术开发区", "140800902": "盐湖高新区",
    }
    assert all(not z.is_standard for z in zones.values())
    assert Region.objects.get(code="140802").is_standard


def test_it_has_every_prefecture_and_county_of_shanxi(refdata):
    prefectures = dict(Region.objects.filter(parent__code="140000", level="prefecture").values_list("code", "name"))
    assert prefectures == SHANXI_PREFECTURES
    counties = Region.objects.filter(path__startswith="/140000/", level="county")
    assert counties.count() == 117
    per_prefecture = {code: counties.filter(parent__code=code).count() for code in SHANXI_PREFECTURES}
    assert per_prefecture == {
        "140100": 10, "140200": 10, "140300": 5, "140400": 12, "140500": 6, "140600": 6,
        "140700": 11, "140800": 13, "140900": 14, "141000": 17, "141100": 13,
    }
    # Recent changes are in: 长治 潞州区 (2018), 大同 云州区 (2018), 晋中 太谷区 (2019).
    assert dict(Region.objects.filter(code__in=["140403", "140215", "140703"]).values_list("code", "name")) == {
        "140403": "潞州区", "140215": "云州区", "140703": "太谷区",
    }


def test_it_has_every_province_and_hangs_municipal_districts_under_the_municipality(refdata):
    assert Region.objects.filter(level="province").count() == 34
    assert Region.objects.filter(level="prefecture").count() == 333
    assert Region.objects.filter(level="county").count() > 2800
    assert Region.objects.get(code="110108").parent.code == "110000"  # 海淀区 → 北京市
    assert Region.objects.get(code="500240").parent.code == "500000"  # 石柱县 → 重庆市
    assert Region.objects.get(code="419001").parent.code == "410000"  # 济源市 → 河南省
    assert Region.objects.get(code="110108").full_name == "北京市海淀区"
    assert not Region.objects.filter(name__in=["市辖区", "县", "省直辖县级行政区划"]).exists()
    assert not Region.objects.filter(code="130171").exists()  # a statistics-only development zone
    assert not Region.objects.filter(level="county", code="441900").exists()  # 东莞 only as prefecture
    assert Region.objects.get(code="810000").name == "香港特别行政区"


def test_it_has_the_56_ethnicities_with_their_letter_codes(refdata):
    items = _items("ethnicity")
    codes = [f"{n:02d}" for n in range(1, 57)]
    assert all(code in items for code in codes)
    assert (items["01"].label, items["02"].label, items["56"].label) == ("汉族", "蒙古族", "基诺族")
    assert "HA" in items["01"].synonyms and "MG" in items["02"].synonyms
    assert len({items[c].label for c in codes}) == 56
    assert Dictionary.objects.get(code="ethnicity").standard == "GB/T 3304-1991"


def test_it_has_the_talent_tiers_a_to_e_with_definitions(refdata):
    tiers = _items("talent_tier")
    assert {code: item.label for code, item in tiers.items()} == {
        "A": "国内外顶尖人才", "B": "国家级领军人才", "C": "省级领军人才", "D": "市级领军人才", "E": "高级人才",
    }
    assert all(len(item.description) > 20 for item in tiers.values())
    assert "院士" in tiers["A"].description


def test_it_has_the_other_dictionaries(refdata):
    education = _items("education")
    assert education["10"].label == "研究生" and "硕士研究生" in education["10"].synonyms
    assert education["20"].label == "大学本科"
    assert [i.label for i in DictionaryItem.objects.filter(dictionary__code="degree")] == ["博士", "硕士", "学士"]
    political = _items("political_status")
    assert (political["01"].label, political["13"].label) == ("中共党员", "群众")
    assert list(_items("title_level")[c].label for c in "1234") == ["正高级", "副高级", "中级", "助理级"]
    assert sorted(_items("industry")) == [chr(c) for c in range(ord("A"), ord("T") + 1)]
    disciplines = _items("discipline")
    assert len(disciplines) == 62 and disciplines["110"].label == "数学" and disciplines["910"].label == "统计学"
    native = DictionaryItem.objects.filter(dictionary__code="talent_category_native")
    assert [i.label for i in native] == ["党政机关", "军队", "经济/企业", "高校", "科研院所", "医疗卫生", "其他"]
    local = [i.label for i in DictionaryItem.objects.filter(dictionary__code="talent_system_local")]
    assert local[:3] == ["科技专家", "金融专家", "年轻一代民营企业家"]


def test_a_second_load_adds_nothing_and_the_load_is_audited_once(refdata):
    regions, items = Region.objects.count(), DictionaryItem.objects.count()
    summary = load_reference_data()
    assert not summary.changed
    assert summary.regions.created == 0 and summary.dictionary_items.created == 0
    assert (Region.objects.count(), DictionaryItem.objects.count()) == (regions, items)
    entries = AuditEntry.objects.filter(object_type="refdata")
    assert entries.count() == 1
    assert entries.get().changes["regions"]["created"] == regions
    # No per-row entries: the load is one event.
    assert not AuditEntry.objects.filter(object_type__in=["core.region", "core.dictionaryitem"]).exists()
    assert audit.verify().ok


def test_it_loads_in_bulk(db, django_assert_max_num_queries):
    with django_assert_max_num_queries(60):
        summary = load_reference_data()
    assert summary.regions.created == Region.objects.count() > 3000


def test_it_updates_shipped_values_but_keeps_what_an_administrator_edited(refdata, city_admin):
    # A value from an older release (written by a loader: no change-log entry of its own).
    Region.objects.filter(code="140821").update(name="临猗（旧）")
    DictionaryItem.objects.filter(dictionary__code="talent_tier", code="A").update(label="旧名称")
    # An administrator's edits go through the change log.
    with audit.acting(city_admin):
        hejin = Region.objects.get(code="140882")
        hejin.name = "河津市（本地名称）"
        hejin.save()
        item = DictionaryItem.objects.get(dictionary__code="ethnicity", code="01")
        item.synonyms = [*item.synonyms, "汉人"]
        item.save()

    summary = load_reference_data()
    assert Region.objects.get(code="140821").name == "临猗县"
    assert _items("talent_tier")["A"].label == "国内外顶尖人才"
    assert Region.objects.get(code="140882").name == "河津市（本地名称）"
    assert "汉人" in _items("ethnicity")["01"].synonyms
    assert (summary.regions.updated, summary.regions.kept_edited) == (1, 1)
    assert (summary.dictionary_items.updated, summary.dictionary_items.kept_edited) == (1, 1)
    assert AuditEntry.objects.filter(object_type="refdata").count() == 2


def test_it_recreates_a_deleted_region_with_its_path(refdata):
    Region.objects.filter(code="140800902").delete()
    summary = load_reference_data()
    assert summary.regions.created == 1
    assert Region.objects.get(code="140800902").path == "/140000/140800/140800902/"
