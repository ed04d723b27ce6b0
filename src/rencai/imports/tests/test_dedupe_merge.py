"""Merging two records of one person and undoing it, on the real database: every related record
follows the survivor and comes back on undo; stale copies and other counties are refused; the
registry-wide run fills the queue and remembers 「不是同一人」."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.http import Http404

from rencai.core.models import AuditEntry
from rencai.imports.dedupe import find_candidates_bulk, find_candidates_for, merge, run_dedupe
from rencai.imports.models import DuplicatePair, DuplicateStatus, Merge
from rencai.talents import services
from rencai.talents.models import Tag, Talent, TalentDatabase, TalentEducation, TalentSearchTerm, TalentWork
from rencai.talents.tests.helpers import id_number, make_talent

pytestmark = pytest.mark.django_db


def relations(talent: Talent) -> dict:
    return {
        "education": sorted(TalentEducation.objects.filter(talent=talent).values_list("school", flat=True)),
        "work": sorted(TalentWork.objects.filter(talent=talent).values_list("unit", flat=True)),
        "tags": sorted(talent.tags.values_list("name", flat=True)),
        "databases": sorted(talent.databases.values_list("code", flat=True)),
    }


@pytest.fixture
def two_records(city_admin):
    shared, own = Tag.objects.create(name="乡贤"), Tag.objects.create(name="博士")
    first_db = TalentDatabase.objects.create(code="rural", name="乡村振兴人才库")
    second_db = TalentDatabase.objects.create(code="health", name="医疗卫生人才库")
    survivor = make_talent(
        city_admin, name="张伟华", birth_date=dt.date(1985, 3, 12), gender="male", work_unit="运城市人民医院",
        education_history=[{"school": "山西大学"}], tags=[shared], databases=[first_db],
    )
    merged = make_talent(
        city_admin, name="章伟华", birth_date=dt.date(1985, 3, 12), gender="male", mobile="13912345678",
        id_card=id_number("19850312"), email="zhang@example.com",
        education_history=[{"school": "清华大学"}], work_history=[{"unit": "北京协和医院", "start": "2010-07"}],
        tags=[shared, own], databases=[second_db],
    )
    return survivor, merged


def test_it_merges_every_related_record_into_the_survivor(city_admin, two_records):
    survivor, merged = two_records
    merged_pk = merged.pk
    result = merge.merge_talents(survivor, merged, user=city_admin, choices={"name": merge.SURVIVOR})
    survivor.refresh_from_db()
    assert not Talent.objects.filter(pk=merged_pk).exists()
    assert relations(survivor) == {
        "education": ["山西大学", "清华大学"], "work": ["北京协和医院"], "tags": ["乡贤", "博士"],
        "databases": ["health", "rural"],
    }
    # Empty fields of the survivor take the merged record's values; the rest stays.
    assert survivor.name == "张伟华"
    assert survivor.mobile == "13912345678" and survivor.id_card == id_number("19850312")
    assert survivor.email == "zhang@example.com" and survivor.work_unit == "运城市人民医院"
    assert result.chosen["mobile"] == merge.MERGED
    # Found by the merged record's number, pinyin and the tag it brought.
    assert TalentSearchTerm.objects.filter(talent=survivor, term="博士").exists()
    entry = AuditEntry.objects.filter(object_type="talents.talent", object_id=str(survivor.pk),
                                      message__startswith="合并重复记录").get()
    assert entry.changes["merged_id"] == merged_pk and entry.actor == city_admin
    with connection.cursor() as cursor:  # the snapshot is encrypted at rest
        cursor.execute("SELECT snapshot FROM imports_merge")
        stored = cursor.fetchone()[0]
    assert "13912345678" not in stored and "章伟华" not in stored


def test_undo_restores_both_records_with_their_relations(city_admin, two_records):
    survivor, merged = two_records
    before_survivor, before_merged = relations(survivor), relations(merged)
    merged_pk, merged_id_card = merged.pk, merged.id_card
    result = merge.merge_talents(survivor, merged, user=city_admin, choices={"name": merge.MERGED})
    assert Talent.objects.get(pk=survivor.pk).name == "章伟华"

    restored = merge.undo_merge(result, user=city_admin)
    survivor.refresh_from_db()
    assert restored.pk == merged_pk
    restored = Talent.objects.get(pk=merged_pk)
    assert restored.name == "章伟华" and restored.id_card == merged_id_card and restored.mobile == "13912345678"
    assert survivor.name == "张伟华" and survivor.id_card == "" and survivor.mobile == ""
    assert relations(survivor) == before_survivor
    assert relations(restored) == before_merged
    assert Talent.objects.filter(pk=merged_pk).filter(
        pk__in=TalentSearchTerm.objects.filter(term="章伟华").values("talent_id")).exists()
    result.refresh_from_db()
    assert result.undone_at is not None and result.undone_by == city_admin
    with pytest.raises(merge.MergeNotUndoable):
        merge.undo_merge(result, user=city_admin)


def test_undo_is_refused_once_the_survivor_changed(city_admin, two_records):
    survivor, merged = two_records
    result = merge.merge_talents(survivor, merged, user=city_admin)
    survivor = Talent.objects.get(pk=survivor.pk)
    survivor.position = "主任医师"
    services.save_talent(survivor, user=city_admin, confirm_duplicates=True)
    with pytest.raises(merge.MergeNotUndoable):
        merge.undo_merge(result, user=city_admin)
    assert not Talent.objects.filter(pk=result.merged_id).exists()


def test_a_merge_from_a_stale_copy_is_refused_and_changes_nothing(city_admin, two_records):
    survivor, merged = two_records
    shown_version = merged.version
    fresh = Talent.objects.get(pk=merged.pk)
    fresh.position = "副主任"
    services.save_talent(fresh, user=city_admin, confirm_duplicates=True)
    with pytest.raises(services.StaleTalent):
        merge.merge_talents(survivor, merged, user=city_admin, merged_version=shown_version)
    assert Talent.objects.filter(pk=merged.pk).exists()
    assert relations(Talent.objects.get(pk=survivor.pk))["education"] == ["山西大学"]
    assert not Merge.objects.exists()


def test_a_county_officer_cannot_merge_another_countys_record(city_admin, yanhu_officer):
    mine = make_talent(city_admin, name="李强", region_code="140802", birth_date=dt.date(1970, 1, 1))
    theirs = make_talent(city_admin, name="李强", region_code="140882", birth_date=dt.date(1970, 1, 1))
    with pytest.raises(Http404):
        merge.merge_talents(mine, theirs, user=yanhu_officer)
    with pytest.raises(Http404):
        merge.merge_talents(theirs, mine, user=yanhu_officer)
    assert Talent.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2


def test_the_run_proposes_homophone_pairs_and_never_again_once_decided_distinct(city_admin):
    a = make_talent(city_admin, name="张伟", birth_date=dt.date(1985, 3, 12), gender="male")
    b = make_talent(city_admin, name="章伟", birth_date=dt.date(1985, 3, 12), gender="male")
    make_talent(city_admin, name="王芳", birth_date=dt.date(1990, 6, 1), gender="female")
    result = run_dedupe()
    assert result.records == 3 and result.pairs == 1
    pair = DuplicatePair.objects.get()
    assert (pair.left_id, pair.right_id) == (a.pk, b.pk) and pair.status == DuplicateStatus.PENDING
    assert pair.evidence["name"]["level"] == "pinyin" and pair.score > 0.9

    merge.decide_distinct(pair, user=city_admin)
    again = run_dedupe()
    assert again.pairs == 0
    assert list(DuplicatePair.objects.values_list("status", flat=True)) == [DuplicateStatus.DISTINCT]


def test_find_candidates_for_a_record_being_entered(city_admin, hejin_officer):
    existing = make_talent(city_admin, name="张伟华", birth_date=dt.date(1985, 3, 12), gender="male",
                           mobile="13912345678")
    found = find_candidates_for({"name": "张伟化", "birth_date": dt.date(1985, 3, 21), "gender": "male",
                                 "mobile": "13912345678"}, user=city_admin)
    assert [pk for pk, _score in found] == [existing.pk]
    assert found[0][1].evidence["birth_date"]["level"] == "typo"
    # Another county's person is not even hinted at.
    assert find_candidates_for({"name": "张伟华", "birth_date": dt.date(1985, 3, 12)}, user=hejin_officer) == []
    assert find_candidates_for({"name": "李强", "birth_date": dt.date(1985, 3, 12)}, user=city_admin) == []


def test_the_manual_entry_warning_uses_the_same_scorer(city_admin, hejin_officer):
    first = make_talent(city_admin, name="张伟", birth_date=dt.date(1985, 3, 12), gender="male")
    with pytest.raises(services.PossibleDuplicates) as asked:
        make_talent(city_admin, name="章伟", birth_date=dt.date(1985, 3, 21), gender="male", confirm=False)
    assert asked.value.similar == [first]
    check = services.find_duplicates(Talent(name="章伟", birth_date=dt.date(1985, 3, 12)), user=hejin_officer)
    assert check.similar == []
    make_talent(city_admin, name="王芳", birth_date=dt.date(1985, 3, 12), gender="female", confirm=False)


def test_records_of_other_models_that_point_at_a_talent_follow_it_too(city_admin, two_records):
    # A Merge row points at its survivor like any later app's record would; merging that survivor
    # into a third record carries it along (found through Talent._meta.related_objects).
    survivor, merged = two_records
    first = merge.merge_talents(survivor, merged, user=city_admin)
    third = make_talent(city_admin, name="张伟华", birth_date=dt.date(1985, 3, 12), gender="male")
    second = merge.merge_talents(third, Talent.objects.get(pk=survivor.pk), user=city_admin)
    first.refresh_from_db()
    assert first.survivor_id == third.pk
    assert second.moved["imports.Merge"]["pks"] == [first.pk]
    assert relations(Talent.objects.get(pk=third.pk))["work"] == ["北京协和医院"]


def test_find_candidates_bulk_for_the_rows_of_an_import(city_admin, yanhu_officer):
    zhang = make_talent(city_admin, name="张伟华", birth_date=dt.date(1985, 3, 12), gender="male")
    li = make_talent(city_admin, name="李建国", birth_date=dt.date(1970, 5, 1), gender="male", region_code="140882",
                     native_place=None)
    rows = [
        {"name": "章伟华", "birth_date": dt.date(1985, 3, 12), "gender": "male"},
        {"name": "王芳", "birth_date": dt.date(1990, 6, 1), "gender": "female"},
        {"name": "李建国", "birth_date": dt.date(1970, 5, 1), "gender": "male"},
    ]
    found = find_candidates_bulk(rows, user=city_admin)
    assert sorted(found) == [0, 2]
    assert found[0][0][0] == zhang.pk and found[2][0][0] == li.pk and found[0][0][1] > 0.9
    # A county officer's import is matched against the county's records only.
    assert sorted(find_candidates_bulk(rows, user=yanhu_officer)) == [0]
