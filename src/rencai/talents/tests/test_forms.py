"""The talent form: Chinese field errors for ID-card numbers (check digit, dates, 15-digit legacy
numbers), birth date and gender that disagree with the number, 籍贯 of 在外人才, categories of
the other kind, work place, history rows; scoped choices; personal fields never sent in full."""

from __future__ import annotations

import pytest

from rencai.core.models import Role
from rencai.talents.choices import TalentKind
from rencai.talents.forms import TalentBulkEditForm, TalentForm
from rencai.talents.models import Talent, TalentDatabase
from rencai.talents.tests.helpers import id_number, item, make_talent, region

pytestmark = pytest.mark.django_db

NUMBER = id_number("19880620", male=False, seq=45)  # 1988-06-20, female


def data(**overrides) -> dict:
    values = {
        "name": "赵敏", "kind": TalentKind.NATIVE, "region": region("140802").pk, "native_place": region("140802").pk,
        "id_card": NUMBER, "work_country": "中国", "status": "in_contact", "source": "manual",
        "education-TOTAL_FORMS": "1", "education-INITIAL_FORMS": "0", "work-TOTAL_FORMS": "1", "work-INITIAL_FORMS": "0",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def errors_of(user, **overrides) -> dict:
    form = TalentForm(data(**overrides), user=user, instance=Talent())
    form.is_valid()
    return form.errors


# --- ID-card numbers -------------------------------------------------------------------------------------
def test_a_valid_number_fills_birth_date_and_gender(yanhu_officer):
    form = TalentForm(data(), user=yanhu_officer, instance=Talent())
    assert form.is_valid(), form.errors
    assert form.instance.birth_date.isoformat() == "1988-06-20" and form.instance.gender == "female"


def test_a_wrong_check_digit_is_named(yanhu_officer):
    wrong = NUMBER[:17] + ("0" if NUMBER[17] != "0" else "1")
    errors = errors_of(yanhu_officer, id_card=wrong)
    assert "校验位不符" in errors["id_card"][0] and NUMBER[17] in errors["id_card"][0]


def test_a_legacy_15_digit_number_is_refused_with_the_reason(yanhu_officer):
    errors = errors_of(yanhu_officer, id_card="140802880620452")
    assert errors["id_card"] == ["这是 15 位旧身份证号码，已停止使用，请填写 18 位号码。"]


def test_an_impossible_birth_date_in_the_number_is_named(yanhu_officer):
    first17 = "14080219880231045"  # 31 February
    from rencai.core.validators import id_check_char

    errors = errors_of(yanhu_officer, id_card=first17 + id_check_char(first17))
    assert "19880231 不是有效日期" in errors["id_card"][0]


def test_a_birth_date_that_disagrees_is_named(yanhu_officer):
    errors = errors_of(yanhu_officer, birth_date="1988-06-21")
    assert errors["birth_date"] == ["出生日期 1988-06-21 与身份证号码中的 1988-06-20 不一致，请核对出生日期或身份证号码。"]
    assert "gender" not in errors


def test_a_gender_that_disagrees_is_named(yanhu_officer):
    errors = errors_of(yanhu_officer, gender="male", birth_date="1988-06-20")
    assert list(errors) == ["gender"]
    assert "性别“男”与身份证号码不一致（按身份证号码应为“女”）" in errors["gender"][0]


def test_a_mobile_number_is_checked(yanhu_officer):
    assert "手机号码应为 11 位数字" in errors_of(yanhu_officer, mobile="1391234")["mobile"][0]


# --- origin, classification, place -------------------------------------------------------------------------------
def test_a_native_talent_comes_from_a_county_of_the_city(yanhu_officer):
    assert errors_of(yanhu_officer, native_place=region("140105").pk)["native_place"] == ["在外人才的籍贯应为本市的县（市、区）。"]
    assert errors_of(yanhu_officer, native_place=region("140800").pk)["native_place"]  # a city is not a county
    # Local talent may come from anywhere.
    assert "native_place" not in errors_of(yanhu_officer, kind=TalentKind.LOCAL, native_place=region("140105").pk)


def test_the_category_belongs_to_the_kinds_dictionary(yanhu_officer):
    errors = errors_of(yanhu_officer, kind=TalentKind.LOCAL, native_place=None, category=item("talent_category_native", "01").pk)
    assert errors["category"] == ["“党政机关”不是本土人才的分类，请按人才类别选择。"]
    assert not errors_of(yanhu_officer, category=item("talent_category_native", "01").pk)


def test_a_talent_database_of_the_other_kind_is_refused(yanhu_officer):
    local = TalentDatabase.objects.get(code="local_excellent")
    assert errors_of(yanhu_officer, databases=[local.pk])["databases"] == ["本土优秀人才库只收录本土人才。"]


def test_the_work_place_is_checked(yanhu_officer):
    assert errors_of(yanhu_officer, work_country="美国", work_province=region("110000").pk)["work_province"]
    assert errors_of(yanhu_officer, work_province=region("610000").pk, work_city=region("140100").pk)["work_city"] == ["太原市不在陕西省。"]
    form = TalentForm(data(work_city=region("610100").pk), user=yanhu_officer, instance=Talent())
    assert form.is_valid(), form.errors
    assert form.instance.work_province.code == "610000"  # filled from the city


def test_required_fields_are_named_in_chinese(yanhu_officer):
    errors = errors_of(yanhu_officer, name="", kind="")
    assert errors["name"] == ["这个字段是必填项。"] and errors["kind"] == ["这个字段是必填项。"]


# --- histories -----------------------------------------------------------------------------------------------
def test_history_months_and_order_are_checked(yanhu_officer):
    form = TalentForm(data(**{"work-0-start": "2010-13", "work-0-unit": "运城学院"}), user=yanhu_officer, instance=Talent())
    assert not form.is_valid()
    assert form.work_formset.forms[0].errors["start"] == ["请按“2008-09”的格式填写年月。"]
    form = TalentForm(data(**{"education-0-start": "2010-09", "education-0-end": "2006-07", "education-0-school": "山西大学"}),
                      user=yanhu_officer, instance=Talent())
    assert not form.is_valid()
    assert form.education_formset.forms[0].errors["end"] == ["结束年月不能早于开始年月。"]


def test_blank_history_rows_are_not_saved(yanhu_officer):
    form = TalentForm(data(), user=yanhu_officer, instance=Talent())
    assert form.is_valid()
    assert form.save_arguments()["education"] == [] and form.save_arguments()["work"] == []


# --- scoped choices and personal fields ------------------------------------------------------------------------
def test_an_officer_is_offered_only_their_county_and_its_liaison_officers(yanhu_officer, hejin_officer, city_admin):
    form = TalentForm(user=yanhu_officer, instance=Talent())
    assert [r.code for r in form.fields["region"].queryset] == ["140802"]
    officers = set(form.fields["liaison_officer"].queryset)
    assert yanhu_officer in officers and hejin_officer not in officers
    assert hejin_officer in set(TalentForm(user=city_admin, instance=Talent()).fields["liaison_officer"].queryset)
    assert "140882" not in {r.code for r in form.fields["region"].queryset}
    errors = errors_of(yanhu_officer, region=region("140882").pk)
    assert "region" in errors


def test_native_place_lists_the_citys_counties_first(yanhu_officer):
    choices = TalentForm(user=yanhu_officer, instance=Talent()).fields["native_place"].choices
    group, counties = choices[1]
    assert group == "运城市（本市）"
    assert (region("140802").pk, "运城市 盐湖区") in counties


def test_a_role_without_clearance_cannot_see_or_write_personal_numbers(yanhu_officer, city_admin):
    talent = make_talent(city_admin, name="张伟", id_card=NUMBER, mobile="13912345678", other_phones="0359-2020202")
    Role.objects.filter(code="county_officer").update(can_view_personal=False)
    yanhu_officer = type(yanhu_officer).objects.get(pk=yanhu_officer.pk)
    form = TalentForm(user=yanhu_officer, instance=talent)
    assert "id_card" not in form.fields and "mobile" not in form.fields and "other_phones" not in form.fields


def test_stored_numbers_stay_out_of_the_form_and_empty_keeps_them(city_admin):
    talent = make_talent(city_admin, name="张伟", id_card=NUMBER, mobile="13912345678", other_phones="0359-2020202")
    form = TalentForm(user=city_admin, instance=talent)
    html = str(form["id_card"]) + str(form["mobile"]) + str(form["other_phones"])
    assert NUMBER not in html and "13912345678" not in html and "2020202" not in html
    posted = data(name="张伟", id_card="", mobile="", other_phones="", concurrency_token="1")
    form = TalentForm(posted, user=city_admin, instance=Talent.objects.get(pk=talent.pk))
    assert form.is_valid(), form.errors
    assert form.instance.id_card == NUMBER and form.instance.mobile == "13912345678"
    assert form.instance.other_phones == "0359-2020202"


def test_new_tags_are_split_on_chinese_and_latin_separators(yanhu_officer):
    form = TalentForm(data(new_tags="乡贤、博士，返乡意向, 博士"), user=yanhu_officer, instance=Talent())
    assert form.is_valid(), form.errors
    assert [t.name for t in form.tags_to_save()] == ["乡贤", "博士", "返乡意向"]


# --- bulk edit -----------------------------------------------------------------------------------------------------
def test_bulk_edit_refuses_adding_and_removing_the_same_database(yanhu_officer):
    database = TalentDatabase.objects.get(code="native_excellent")
    form = TalentBulkEditForm({"add_databases": [database.pk], "remove_databases": [database.pk]}, user=yanhu_officer,
                              model=Talent)
    assert not form.is_valid()
    assert form.errors["remove_databases"] == ["同一个人才库不能同时加入和移出。"]


def test_bulk_edit_with_nothing_filled_changes_nothing(yanhu_officer):
    form = TalentBulkEditForm({}, user=yanhu_officer, model=Talent)
    assert form.is_valid()
    assert form.changed_values() == {}


def test_bulk_edit_starts_with_every_field_unchanged(yanhu_officer):
    # The model's defaults (status 在联) are no choice of the user's: submitted as rendered, the
    # form must change nothing.
    html = str(TalentBulkEditForm(user=yanhu_officer, model=Talent)["status"])
    assert '<option value="" selected>—— 不修改 ——</option>' in html
    assert 'value="in_contact" selected' not in html
