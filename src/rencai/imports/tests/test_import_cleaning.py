"""Cleaning cells: dates in every spelling counties use, ID numbers Excel spoiled, full-width
characters and spaces, dictionary values by label, code or synonym, regions, cross-field rules."""

from __future__ import annotations

import datetime as dt

import pytest

from rencai.core.models import DictionaryItem, Region
from rencai.imports.cleaning import CellError, Cleaner, parse_date, parse_id_card
from rencai.talents.choices import Gender, TalentKind
from rencai.talents.tests.helpers import id_number

pytestmark = pytest.mark.django_db
NUMBER = id_number("19850312", seq=31)


@pytest.mark.parametrize("value, expected", [
    ("1985-03-12", dt.date(1985, 3, 12)), ("1985/3/12", dt.date(1985, 3, 12)), ("1985.03", dt.date(1985, 3, 1)),
    ("1985年3月", dt.date(1985, 3, 1)), ("1985年3月12日", dt.date(1985, 3, 12)), ("198503", dt.date(1985, 3, 1)),
    (198503, dt.date(1985, 3, 1)), ("19850312", dt.date(1985, 3, 12)), (31118, dt.date(1985, 3, 12)),
    (31118.0, dt.date(1985, 3, 12)), ("１９８５．０３", dt.date(1985, 3, 1)),
    (dt.datetime(1985, 3, 12, 0, 0), dt.date(1985, 3, 12)), (dt.date(1985, 3, 12), dt.date(1985, 3, 12)),
])
def test_it_reads_dates_as_counties_write_them(value, expected):
    assert parse_date(value)[0] == expected


@pytest.mark.parametrize("value", ["1985年", "不详", "1985-13-01", "1985.02.30", True])
def test_it_refuses_what_is_not_a_date(value):
    with pytest.raises(CellError):
        parse_date(value)


def test_an_id_number_excel_turned_into_a_number_says_the_digits_are_lost():
    with pytest.raises(CellError) as caught:
        parse_id_card(float(NUMBER[:17] + "0"))
    assert "已丢失" in caught.value.message
    with pytest.raises(CellError) as caught:
        parse_id_card("1.40802E+17")
    assert "科学计数法" in caught.value.message and "已丢失" in caught.value.message


def test_an_id_number_in_full_width_or_with_spaces_is_normalised():
    full = NUMBER.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    assert parse_id_card(f" {full[:6]} {full[6:]} ") == NUMBER
    with pytest.raises(CellError) as caught:
        parse_id_card(NUMBER[:17] + ("0" if NUMBER[17] != "0" else "1"))
    assert "校验位" in caught.value.message


def test_a_row_is_cleaned_with_dictionaries_regions_and_cross_field_rules(city_admin):
    cleaner = Cleaner(city_admin, [])
    values, errors = cleaner.clean({
        "name": " 张　 伟 ", "id_card": NUMBER, "birth_date": "1985.03", "mobile": "１３９ １２３４ ５６７８",
        "education": "硕士研究生", "degree": "3", "political_status": "党员", "region": "运城市盐湖区",
        "native_place": "140802", "work_province": "北京", "work_unit": "  北京大学　 医学部 ", "kind": "在外",
        "tier": "C类", "email": "ｚｗ@example.com",
    })
    assert errors == {}
    assert values["name"] == "张伟"
    assert values["birth_date"] == dt.date(1985, 3, 12)  # the day taken from the ID number
    assert values["gender"] == Gender.MALE  # from the ID number
    assert values["mobile"] == "13912345678"
    assert values["education"] == DictionaryItem.objects.get(dictionary__code="education", code="10").pk
    assert values["degree"] == DictionaryItem.objects.get(dictionary__code="degree", code="3").pk
    assert values["region"] == Region.objects.get(code="140802").pk
    assert values["native_place"] == Region.objects.get(code="140802").pk
    assert values["work_province"] == Region.objects.get(code="110000").pk
    assert values["work_unit"] == "北京大学 医学部"
    assert values["kind"] == TalentKind.NATIVE
    assert values["email"] == "zw@example.com"


def test_birth_date_and_gender_must_agree_with_the_id_number(city_admin):
    values, errors = Cleaner(city_admin, []).clean(
        {"name": "张伟", "id_card": NUMBER, "birth_date": "1986-03-12", "gender": "女", "region": "盐湖区"})
    assert "1986-03-12" in errors["birth_date"] and "不一致" in errors["birth_date"]
    assert "性别" in errors["gender"]


def test_only_the_name_is_required(yanhu_officer, city_admin):
    cleaner = Cleaner(yanhu_officer, [])
    values, errors = cleaner.clean({"name": "张伟"})
    assert errors == {}
    cleaner.defaults_for_new(values, errors)
    assert errors == {}
    assert values["region"] == Region.objects.get(code="140802").pk  # the officer's one county
    assert values["kind"] == TalentKind.NATIVE
    values, errors = Cleaner(yanhu_officer, []).clean({"gender": "男"})
    assert errors["name"] == "姓名不能为空"
    # A city user has many counties: the region must come from the sheet or the whole file.
    values, errors = Cleaner(city_admin, []).clean({"name": "张伟"})
    Cleaner(city_admin, []).defaults_for_new(values, errors)
    assert "所属地区" in errors["region"]
    values, errors = Cleaner(city_admin, []).clean({"name": "张伟"}, {"region": "河津市"})
    assert errors == {} and values["region"] == Region.objects.get(code="140882").pk


def test_a_region_out_of_the_users_scope_is_an_error_that_says_so(yanhu_officer):
    values, errors = Cleaner(yanhu_officer, []).clean({"name": "张伟", "region": "河津市"})
    assert "不在您的数据范围内" in errors["region"]


def test_unknown_dictionary_values_and_bad_cells_name_the_problem(city_admin):
    values, errors = Cleaner(city_admin, []).clean({
        "name": "张伟", "region": "盐湖区", "education": "留学", "gender": "未知", "mobile": "1234",
        "email": "not-an-email", "category": "科技专家", "kind": "在外人才"})
    assert "留学" in errors["education"]
    assert "性别" in errors["gender"]
    assert "11 位" in errors["mobile"]
    assert "电子邮箱" in errors["email"]
    assert "不是在外人才的分类" in errors["category"]


def test_the_category_tells_the_kind_when_the_sheet_does_not(city_admin):
    values, errors = Cleaner(city_admin, []).clean({"name": "张伟", "region": "盐湖区", "category": "金融专家"})
    assert errors == {}
    assert values["kind"] == TalentKind.LOCAL
