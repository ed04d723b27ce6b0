"""The registry's service functions: one transaction each, scope re-checked inside it, audited,
search index kept in step; duplicates; optimistic locking; histories; bulk edit all or nothing;
saved views."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from rencai.core import audit
from rencai.core.models import AuditEntry, User
from rencai.core.models.audit import AuditAction
from rencai.talents import search, services
from rencai.talents.choices import TalentStatus
from rencai.talents.models import Tag, Talent, TalentDatabase, TalentWork
from rencai.talents.tests.helpers import id_number, item, make_talent, region

pytestmark = pytest.mark.django_db

NUMBER = id_number("19850312", seq=31)


@pytest.fixture
def indexed(monkeypatch):
    """The talents the search index was asked to bring up to date."""
    calls = []
    real = search.index_talent

    def record(talent):
        calls.append(talent.pk)
        real(talent)

    monkeypatch.setattr(search, "index_talent", record)
    return calls


# --- create and update -----------------------------------------------------------------------------------
def test_it_creates_audits_and_indexes_a_talent(city_admin, indexed):
    talent = make_talent(city_admin, name="张伟", id_card=NUMBER)
    assert talent.version == 1 and indexed == [talent.pk]
    assert talent.birth_date.isoformat() == "1985-03-12" and talent.gender == "male"
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_type="talents.talent")
    assert entry.actor == city_admin and entry.region_code == "140802"


def test_it_raises_the_version_by_one_per_save_and_refuses_a_stale_one(city_admin, indexed):
    talent = make_talent(city_admin, name="张伟")
    copy = Talent.objects.get(pk=talent.pk)
    talent.position = "教授"
    services.save_talent(talent, user=city_admin)
    assert Talent.objects.get(pk=talent.pk).version == 2
    copy.position = "讲师"
    with pytest.raises(services.StaleTalent):
        services.save_talent(copy, user=city_admin)
    assert Talent.objects.get(pk=talent.pk).position == "教授"
    with pytest.raises(services.StaleTalent):
        services.save_talent(Talent.objects.get(pk=talent.pk), user=city_admin, expected_version=1)
    assert indexed == [talent.pk, talent.pk]  # the refused saves indexed nothing


def test_it_refuses_to_save_into_another_county(yanhu_officer, city_admin):
    talent = make_talent(city_admin, name="李刚", region_code="140882", native_place=region("140882"))
    with pytest.raises(ValidationError) as refused:
        services.save_talent(Talent(name="越界", kind="native", region=region("140882")), user=yanhu_officer)
    assert "region" in refused.value.message_dict
    talent.region = region("140802")
    with pytest.raises(Http404):
        services.save_talent(talent, user=yanhu_officer)  # not theirs to change


def test_it_refuses_a_talent_database_of_the_other_kind(city_admin):
    local = TalentDatabase.objects.get(code="local_excellent")
    with pytest.raises(ValidationError) as refused:
        make_talent(city_admin, name="张伟", databases=[local])
    assert refused.value.message_dict == {"databases": ["本土优秀人才库只收录本土人才。"]}


# --- duplicates -------------------------------------------------------------------------------------------------
def test_the_same_id_number_is_refused_naming_a_visible_record(city_admin, yanhu_officer, hejin_officer):
    first = make_talent(city_admin, name="张伟", id_card=NUMBER)
    with pytest.raises(services.DuplicateIdCard) as refused:
        services.save_talent(Talent(name="张伟", kind="native", region=region("140802"), id_card=NUMBER),
                             user=yanhu_officer, confirm_duplicates=True)
    assert refused.value.existing == first and refused.value.visible
    with pytest.raises(services.DuplicateIdCard) as refused:
        services.save_talent(Talent(name="某人", kind="local", region=region("140882"), id_card=NUMBER),
                             user=hejin_officer, confirm_duplicates=True)
    assert not refused.value.visible and "张伟" not in refused.value.messages[0]


def test_look_alikes_are_asked_about_then_saved_on_confirmation(city_admin):
    first = make_talent(city_admin, name="张伟", mobile="13912345678")
    with pytest.raises(services.PossibleDuplicates) as asked:
        make_talent(city_admin, name="张伟", mobile="139 1234 5678", confirm=False)
    assert asked.value.similar == [first]
    make_talent(city_admin, name="张伟", mobile="13912345678", confirm=True)
    assert Talent.objects.filter(name="张伟").count() == 2


def test_look_alikes_in_another_county_are_not_hinted_at(city_admin, hejin_officer):
    make_talent(city_admin, name="张伟", mobile="13912345678")
    check = services.find_duplicates(Talent(name="张伟", mobile="13912345678"), user=hejin_officer)
    assert check.similar == [] and check.id_match is None


def test_a_different_name_with_the_same_birth_date_is_no_duplicate(city_admin):
    make_talent(city_admin, name="张伟", id_card=NUMBER)
    make_talent(city_admin, name="王芳", birth_date=Talent.objects.get().birth_date, confirm=False)


# --- histories -----------------------------------------------------------------------------------------------
def test_histories_are_synced_and_summarised_on_the_talent(city_admin):
    talent = make_talent(city_admin, name="王芳", work_history=[{"unit": "运城学院", "start": "2007-08"},
                                                               {"unit": "山西大学", "start": "2012-01"}])
    rows = {w.unit: w for w in talent.work_history.all()}
    with audit.acting(city_admin):
        services.save_talent(talent, user=city_admin, work=[
            {"id": rows["运城学院"].pk, "unit": "运城学院", "start": "2007-08", "position": "讲师"},
            {"unit": "清华大学", "start": "2018-03"},
        ])
    assert sorted(TalentWork.objects.values_list("unit", flat=True)) == ["清华大学", "运城学院"]
    assert TalentWork.objects.get(unit="运城学院").pk == rows["运城学院"].pk
    summary = AuditEntry.objects.get(object_type="talents.talent", message="修改履历").changes["工作经历"]
    assert summary["added"] == ["2018-03–至今 清华大学"]
    assert summary["removed"] == ["2012-01–至今 山西大学"]
    assert summary["changed"] == ["2007-08–至今 运城学院"]


def test_an_unchanged_history_writes_nothing(city_admin):
    talent = make_talent(city_admin, name="王芳", education_history=[{"school": "山西大学", "education": item("education", "20")}])
    row = talent.education_history.get()
    before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    services.save_talent(talent, user=city_admin, education=[
        {"id": row.pk, "school": "山西大学", "education": item("education", "20"), "start": "", "end": "", "major": "",
         "degree": None},
    ])
    # Only the talent's own version moved; no history entry, no summary.
    assert not AuditEntry.objects.filter(pk__gt=before, object_type="talents.talenteducation").exists()
    assert not AuditEntry.objects.filter(pk__gt=before, message="修改履历").exists()


# --- delete ------------------------------------------------------------------------------------------------------
def test_delete_is_scoped_and_logs_every_row(city_admin, yanhu_officer):
    talent = make_talent(city_admin, name="李刚", region_code="140882", native_place=region("140882"),
                         work_history=[{"unit": "河津电厂"}])
    with pytest.raises(Http404):
        services.delete_talent(talent, user=yanhu_officer)
    with audit.acting(city_admin):
        services.delete_talent(talent, user=city_admin)
    assert set(AuditEntry.objects.filter(action=AuditAction.DELETE).values_list("object_type", flat=True)) == {
        "talents.talent", "talents.talentwork"}


# --- bulk -------------------------------------------------------------------------------------------------------
def test_bulk_update_changes_every_row_or_none(city_admin, yanhu_officer, indexed):
    a = make_talent(city_admin, name="甲")
    b = make_talent(city_admin, name="乙", kind="local", native_place=None)
    doctor = Tag.objects.create(name="博士")
    queryset = Talent.objects.restrict(yanhu_officer, "change")
    with pytest.raises(ValidationError) as refused:
        services.bulk_update_talents(queryset, user=yanhu_officer, changes={"category": item("talent_category_native", "02")},
                                     add_tags=[doctor])
    assert refused.value.messages == ["乙：“军队”不是本土人才的分类，请按人才类别选择。"]
    assert not doctor.talents.exists() and Talent.objects.get(pk=a.pk).category is None
    indexed.clear()
    count = services.bulk_update_talents(queryset, user=yanhu_officer, changes={"status": TalentStatus.LOST},
                                         add_tags=[doctor])
    assert count == 2 and sorted(indexed) == sorted([a.pk, b.pk])
    assert set(Talent.objects.values_list("status", "version")) == {(TalentStatus.LOST, 2)}
    assert doctor.talents.count() == 2


def test_bulk_update_logs_only_real_membership_changes(city_admin):
    database = TalentDatabase.objects.get(code="native_excellent")
    member = make_talent(city_admin, name="甲", databases=[database])
    other = make_talent(city_admin, name="乙")
    before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    with audit.acting(city_admin):
        services.bulk_update_talents(Talent.objects.all(), user=city_admin, changes={}, add_databases=[database])
    entries = [e for e in AuditEntry.objects.filter(pk__gt=before, object_type="talents.talent") if "databases" in e.changes]
    assert [(e.object_id, e.changes["databases"]) for e in entries] == [(str(other.pk), {"added": ["在外优秀人才库"]})]
    assert set(database.talents.all()) == {member, other}


def test_bulk_update_refuses_unknown_fields(city_admin):
    with pytest.raises(ValueError):
        services.bulk_update_talents(Talent.objects.all(), user=city_admin, changes={"region": region("140882")})


# --- saved views -------------------------------------------------------------------------------------------------
def test_saved_views_are_per_user_replaced_by_name_and_deleted(city_admin, yanhu_officer):
    first = services.save_view(city_admin, "talents.talent", name="A类", query="tier=1", columns=["name"])
    again = services.save_view(city_admin, "talents.talent", name="A类", query="tier=1&kind=native", columns=["name", "tier"])
    assert again["id"] == first["id"]
    fresh = User.objects.get(pk=city_admin.pk)
    assert services.saved_views(fresh, "talents.talent") == [again]
    assert services.saved_views(User.objects.get(pk=yanhu_officer.pk), "talents.talent") == []
    assert not services.delete_view(yanhu_officer, "talents.talent", first["id"])
    assert services.delete_view(city_admin, "talents.talent", first["id"])
    assert services.saved_views(User.objects.get(pk=city_admin.pk), "talents.talent") == []
    with pytest.raises(ValidationError):
        services.save_view(city_admin, "talents.talent", name="  ", query="", columns=[])
