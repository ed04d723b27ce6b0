"""The import itself: preview statuses, all or nothing and valid rows only, match modes, undo,
re-import of the same file, values for the whole file, data scope, audit, error report, template."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook

from rencai.core.loading import bulk_load
from rencai.core.models import AuditEntry, Region
from rencai.imports import pipeline
from rencai.imports.mapping import save_mapping, suggest
from rencai.imports.models import ImportBatch, ImportBatchStatus
from rencai.imports.pipeline import ImportOptions, ImportRefused, UndoRefused
from rencai.imports.tests.files import HEADERS, csv_file, upload, xls, xlsx
from rencai.talents import services
from rencai.talents.models import Talent, TalentSearchTerm
from rencai.talents.tests.helpers import id_number, make_talent, region

pytestmark = pytest.mark.django_db

ZHANG = id_number("19850312", seq=31)
LI = id_number("19900101", male=False, seq=32)
WANG = id_number("19780520", seq=33, county="140882")


def sheet_rows():
    return [
        HEADERS,
        ["张伟", "男", ZHANG, "1985.03", "13912345678", "硕士研究生", "盐湖区", "运城学院"],
        ["李娜", "女", LI, "1990年1月", None, "本科", "盐湖区", None],
        ["王强", None, WANG, 28630, "13800001111", "大专", "河津市", "河津市人民医院"],
    ]


def options(path_rows=None, **kwargs) -> ImportOptions:
    columns = {i: f for i, f in enumerate(suggest(HEADERS)) if f}
    return ImportOptions(columns=columns, **kwargs)


def test_preview_gives_each_row_a_status_and_writes_nothing(tmp_path, city_admin):
    make_talent(city_admin, name="张伟", id_card=ZHANG, region_code="140802")
    make_talent(city_admin, name="李娜", birth_date=dt.date(1990, 1, 1), region_code="140802")  # no ID number
    rows = sheet_rows() + [["赵六", "男", "1.40802E+17", None, None, None, "盐湖区", None]]
    up = upload(xlsx(tmp_path / "a.xlsx", rows), city_admin)
    before = Talent.objects.count()
    result = pipeline.preview(up, options(mode="update"), city_admin)
    assert Talent.objects.count() == before
    statuses = {row.number: row.status for row in result.rows}
    assert statuses == {2: "update", 3: "duplicate", 4: "new", 5: "error"}
    assert result.counts == {"new": 1, "update": 1, "duplicate": 1, "error": 1, "skip": 0, "total": 4}
    error_row = result.rows[3]
    assert "已丢失" in error_row.errors["身份证号"]
    assert error_row.bad_columns == [2]
    assert result.rows[0].match.name == "张伟"
    shown = result.rows[2].display
    assert shown["姓名"] == "王强" and shown["最高学历"] == "大学专科" and shown["所属地区"] == "河津市"
    assert shown["出生日期"] == "1978-05-20" and shown["身份证号"] == WANG  # the city admin may see it in full
    skipped = pipeline.preview(up, options(), city_admin).rows[0]
    assert skipped.status == "skip" and skipped.match.name == "张伟"  # the person it is, in skip mode too


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(tmp_path, city_admin):
    rows = sheet_rows() + [["", "男", None, None, None, None, "盐湖区", "无名氏单位"]]
    up = upload(xlsx(tmp_path / "a.xlsx", rows), city_admin)
    with pytest.raises(ImportRefused) as caught:
        pipeline.run_import(up, options(), city_admin)
    assert not Talent.objects.exists()
    assert not TalentSearchTerm.objects.exists()
    batch = caught.value.batch
    assert batch.status == ImportBatchStatus.FAILED
    assert batch.errors == [[5, {"姓名": "姓名不能为空"}, [0]]]
    assert "没有导入任何数据" in caught.value.message


def test_valid_only_imports_the_good_rows_and_keeps_the_errors(tmp_path, city_admin):
    rows = sheet_rows() + [["坏行", "男", ZHANG[:17] + "0", None, None, None, "盐湖区", None]]
    up = upload(xlsx(tmp_path / "a.xlsx", rows), city_admin)
    batch = pipeline.run_import(up, options(valid_only=True), city_admin)
    assert batch.status == ImportBatchStatus.DONE
    assert batch.counts == {"created": 3, "updated": 0, "skipped": 0, "duplicates": 0, "errors": 1, "total": 4}
    assert sorted(Talent.objects.values_list("name", flat=True)) == ["张伟", "李娜", "王强"]
    zhang = Talent.objects.get(name="张伟")
    assert zhang.birth_date == dt.date(1985, 3, 12) and zhang.education.code == "10"
    assert zhang.mobile == "13912345678" and zhang.region.code == "140802"
    assert zhang.source == "import" and zhang.source_ref == batch.reference
    wang = Talent.objects.get(name="王强")
    assert wang.birth_date == dt.date(1978, 5, 20) and wang.gender == "male"  # serial number; gender from ID
    # Found by the registry's search like any talent, and by the keyed hash of the ID number.
    assert TalentSearchTerm.objects.filter(talent=zhang, term="张伟").exists()
    assert services.find_duplicates(Talent(id_card=ZHANG, name="x"), user=city_admin).id_match == zhang
    # One audit entry for the whole batch, with the file's name and hash.
    entry = AuditEntry.objects.filter(object_type="imports.importbatch", object_id=str(batch.pk),
                                      message__startswith="导入人才").get()
    assert entry.changes["sha256"] == up.sha256 and entry.changes["counts"]["created"] == 3


def test_importing_the_same_file_twice_creates_nobody_twice(tmp_path, city_admin):
    rows = sheet_rows() + [["孙悦", "女", None, "1992-05-06", None, None, "盐湖区", None]]  # no ID number
    up = upload(xlsx(tmp_path / "a.xlsx", rows), city_admin)
    pipeline.run_import(up, options(), city_admin)
    again = pipeline.run_import(upload(xlsx(tmp_path / "a.xlsx", rows), city_admin), options(), city_admin)
    assert again.counts["created"] == 0 and again.counts["skipped"] == 4
    assert Talent.objects.count() == 4
    update = pipeline.run_import(up, options(mode="update"), city_admin)
    assert update.counts["created"] == 0 and update.counts["updated"] == 0  # nothing differs
    assert Talent.objects.count() == 4


def test_update_mode_overwrites_and_a_blank_cell_never_does(tmp_path, city_admin):
    zhang = make_talent(city_admin, name="张伟", id_card=ZHANG, work_unit="旧单位", school="山西大学",
                        mobile="13700000000")
    rows = [HEADERS + ["毕业院校"], ["张伟", None, ZHANG, None, "13912345678", None, "盐湖区", "运城学院", None]]
    up = upload(xlsx(tmp_path / "a.xlsx", rows), city_admin)
    columns = {i: f for i, f in enumerate(suggest(rows[0])) if f}
    batch = pipeline.run_import(up, ImportOptions(columns=columns, mode="update"), city_admin)
    assert batch.counts["updated"] == 1
    zhang.refresh_from_db()
    assert zhang.work_unit == "运城学院" and zhang.mobile == "13912345678"
    assert zhang.school == "山西大学"  # blank cell: kept
    assert zhang.version == 2
    assert services.find_duplicates(Talent(name="张伟", mobile="13912345678"), user=city_admin).similar == [zhang]


def test_fill_mode_fills_only_blank_fields(tmp_path, city_admin):
    zhang = make_talent(city_admin, name="张伟", id_card=ZHANG, work_unit="旧单位")
    rows = [["姓名", "身份证号", "工作单位", "手机"], ["张伟", ZHANG, "运城学院", "13912345678"]]
    up = upload(xlsx(tmp_path / "a.xlsx", rows), city_admin)
    batch = pipeline.run_import(up, ImportOptions(columns={0: "name", 1: "id_card", 2: "work_unit", 3: "mobile"},
                                                  mode="fill"), city_admin)
    assert batch.counts["updated"] == 1
    zhang.refresh_from_db()
    assert zhang.work_unit == "旧单位" and zhang.mobile == "13912345678"


def test_skip_mode_leaves_existing_people_alone(tmp_path, city_admin):
    zhang = make_talent(city_admin, name="张伟", id_card=ZHANG, work_unit="旧单位")
    up = upload(xlsx(tmp_path / "a.xlsx", sheet_rows()), city_admin)
    batch = pipeline.run_import(up, options(), city_admin)
    assert batch.counts["skipped"] == 1 and batch.counts["created"] == 2
    zhang.refresh_from_db()
    assert zhang.work_unit == "旧单位" and zhang.version == 1


def test_undo_removes_what_was_created_and_restores_what_was_updated(tmp_path, city_admin):
    zhang = make_talent(city_admin, name="张伟", id_card=ZHANG, work_unit="旧单位")
    up = upload(xlsx(tmp_path / "a.xlsx", sheet_rows()), city_admin)
    batch = pipeline.run_import(up, options(mode="update"), city_admin)
    assert batch.counts["created"] == 2 and batch.counts["updated"] == 1
    pipeline.undo(batch, city_admin)
    assert list(Talent.objects.values_list("name", flat=True)) == ["张伟"]
    zhang.refresh_from_db()
    assert zhang.work_unit == "旧单位" and zhang.mobile == ""
    assert zhang.education is None
    assert not TalentSearchTerm.objects.filter(term="运城学院").exists()
    batch.refresh_from_db()
    assert batch.status == ImportBatchStatus.UNDONE and batch.undone_by == city_admin
    assert AuditEntry.objects.filter(object_type="imports.importbatch", action="delete").exists()
    with pytest.raises(UndoRefused):
        pipeline.undo(batch, city_admin)


def test_undo_is_refused_once_a_record_changed_since(tmp_path, city_admin):
    up = upload(xlsx(tmp_path / "a.xlsx", sheet_rows()), city_admin)
    batch = pipeline.run_import(up, options(), city_admin)
    li = Talent.objects.get(name="李娜")
    li.work_unit = "后来填的单位"
    services.save_talent(li, user=city_admin)
    with pytest.raises(UndoRefused) as caught:
        pipeline.undo(batch, city_admin)
    assert "已被修改" in caught.value.message
    assert Talent.objects.count() == 3


def test_fixed_values_fill_what_the_sheet_lacks(tmp_path, city_admin):
    rows = [["名字", "联系电话"], ["张伟", 13912345678], ["李娜", None]]
    up = upload(csv_file(tmp_path / "a.csv", rows, encoding="gbk"), city_admin)
    batch = pipeline.run_import(up, ImportOptions(columns={0: "name", 1: "mobile"},
                                                  fixed={"region": "永济市", "kind": "本土人才"}), city_admin)
    assert batch.counts["created"] == 2
    assert set(Talent.objects.values_list("region__code", "kind")) == {("140881", "local")}
    assert Talent.objects.get(name="张伟").mobile == "13912345678"


def test_a_county_officer_imports_only_into_their_county(tmp_path, yanhu_officer):
    up = upload(xls(tmp_path / "a.xls", sheet_rows()), yanhu_officer)
    with pytest.raises(ImportRefused) as caught:
        pipeline.run_import(up, options(), yanhu_officer)
    assert caught.value.batch.errors == [[4, {"所属地区": "“河津市”不在您的数据范围内，您只能导入本人负责地区的人才"}, [6]]]
    batch = pipeline.run_import(up, options(valid_only=True), yanhu_officer)
    assert set(Talent.objects.values_list("region__code", flat=True)) == {"140802"}
    assert batch.counts["created"] == 2


def test_an_id_number_registered_in_another_county_is_not_revealed_or_overwritten(tmp_path, city_admin, yanhu_officer):
    make_talent(city_admin, name="王强", id_card=WANG, region_code="140882", work_unit="河津")
    rows = [["姓名", "身份证号"], ["王强", WANG]]
    up = upload(xlsx(tmp_path / "a.xlsx", rows), yanhu_officer)
    result = pipeline.preview(up, ImportOptions(columns={0: "name", 1: "id_card"}, mode="update"), yanhu_officer)
    assert result.rows[0].status == "error"
    assert "其他地区已登记" in result.rows[0].errors["身份证号"]
    from rencai.core.models import Role, User

    Role.objects.filter(code="county_officer").update(can_view_personal=False)
    officer = User.objects.get(pk=yanhu_officer.pk)
    shown = pipeline.preview(up, ImportOptions(columns={0: "name", 1: "id_card"}), officer).rows[0].display
    assert shown["身份证号"] == WANG[:6] + "********" + WANG[-4:]  # masked for a role without personal data
    assert result.rows[0].match is None


def test_two_rows_of_one_person_in_a_file(tmp_path, city_admin):
    rows = sheet_rows() + [["张伟", "男", ZHANG, None, None, None, "盐湖区", None],
                           ["孙悦", None, None, "1992-05-06", None, None, "盐湖区", None],
                           ["孙悦", None, None, "1992-05-06", None, None, "盐湖区", None]]
    up = upload(xlsx(tmp_path / "a.xlsx", rows), city_admin)
    result = pipeline.preview(up, options(), city_admin)
    by_number = {row.number: row for row in result.rows}
    assert by_number[5].status == "error" and "第 2 行" in by_number[5].errors["身份证号"]
    assert by_number[7].status == "duplicate"


def test_rows_of_one_name_and_birth_date_are_two_people_when_their_id_numbers_differ(tmp_path, city_admin):
    """王伟 born on one day twice, with two ID numbers: two people. A third 王伟 of that day without
    an ID number may be either: held back."""
    first, second = id_number("19850312", seq=41), id_number("19850312", seq=43)
    rows = [HEADERS,
            ["王伟", "男", first, "1985-03-12", None, None, "盐湖区", None],
            ["王伟", "男", second, "1985-03-12", None, None, "盐湖区", None],
            ["王伟", "男", None, "1985-03-12", None, None, "盐湖区", None],
            ["赵敏", "女", None, "1991-07-08", "13911112222", None, "盐湖区", None],
            ["赵敏", "女", id_number("19910708", male=False, seq=44), "1991-07-08", None, None, "盐湖区", None]]
    up = upload(xlsx(tmp_path / "a.xlsx", rows), city_admin)
    statuses = {row.number: row.status for row in pipeline.preview(up, options(), city_admin).rows}
    assert statuses == {2: "new", 3: "new", 4: "duplicate", 5: "new", 6: "duplicate"}


def test_a_row_like_someone_registered_is_held_back_as_a_possible_duplicate(tmp_path, city_admin, yanhu_officer):
    # The dedupe scorer judges each row the exact rules leave new against the registry: a
    # homophone typo of a registered name with the same birth date and county is a possible
    # duplicate, and so is the same name and birth date with an ID number the record lacks;
    # someone of the same name born another year is not.
    zhang = make_talent(city_admin, name="张伟", birth_date=dt.date(1985, 3, 12), region_code="140802",
                        work_unit="运城学院")
    make_talent(city_admin, name="李娜", id_card=LI, mobile="13911112222", region_code="140802")
    make_talent(city_admin, name="刘洋", birth_date=dt.date(1990, 7, 1), region_code="140882")  # 河津市
    rows = [
        HEADERS,
        ["章伟", "男", None, "1985-03-12", None, None, "盐湖区", "运城学院"],
        ["张伟", "男", ZHANG, None, None, None, "盐湖区", None],
        ["张伟", "男", id_number("19790101", seq=44), None, None, None, "盐湖区", None],
        ["刘阳", "男", None, "1990-07-01", None, None, "盐湖区", None],
        ["李娜", "女", None, "1991-01-01", "13911112222", None, "盐湖区", None],  # the exact rule: her record
    ]
    up = upload(xlsx(tmp_path / "a.xlsx", rows), yanhu_officer)
    result = pipeline.preview(up, options(), yanhu_officer)
    statuses = {row.number: row.status for row in result.rows}
    assert statuses == {2: "duplicate", 3: "duplicate", 4: "new", 5: "new", 6: "skip"}
    homophone = result.rows[0]
    assert homophone.match == zhang and result.rows[1].match == zhang
    assert "“张伟”" in homophone.errors["重复"] and "同音" in homophone.errors["重复"]
    # 刘洋 of 河津市 is outside the 盐湖区 officer's scope: not looked at, not revealed.
    assert "刘洋" not in str(result.errors)
    batch = pipeline.run_import(up, options(valid_only=True), yanhu_officer)
    assert batch.counts["created"] == 2 and batch.counts["duplicates"] == 2
    assert not Talent.objects.filter(name="章伟").exists()
    assert [number for number, _messages, _columns in batch.errors] == [2, 3]


def test_a_running_import_can_be_cancelled_and_reports_progress(tmp_path, city_admin, monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 2)
    up = upload(xlsx(tmp_path / "a.xlsx", sheet_rows()), city_admin)
    reports = []
    with pytest.raises(ImportRefused) as caught:
        pipeline.run_import(up, options(), city_admin, progress=lambda p, m: reports.append(p), cancelled=lambda: True)
    assert caught.value.batch.status == ImportBatchStatus.CANCELLED
    assert not Talent.objects.exists()
    batch = pipeline.run_import(up, options(), city_admin, progress=lambda p, m: reports.append(p))
    assert batch.counts["created"] == 3 and reports[-1] == 100


def test_options_round_trip_through_json():
    opts = ImportOptions(sheet="人才", header_row=2, columns={0: "name", 3: "mobile"}, mode="fill", valid_only=True,
                         fixed={"region": "盐湖区"})
    assert ImportOptions.from_json(json.loads(json.dumps(opts.to_json()))) == opts
    with pytest.raises(ValueError):
        ImportOptions(columns={0: "password"})


def test_the_error_report_has_the_original_rows_a_reason_and_highlights(tmp_path, city_admin):
    rows = sheet_rows() + [["赵六", "男", 140802198503120000, "不详", None, None, "盐湖区", None]]
    up = upload(xlsx(tmp_path / "a.xlsx", rows, title="盐湖区人才名单"), city_admin)
    with pytest.raises(ImportRefused) as caught:
        pipeline.run_import(up, options(header_row=1), city_admin)
    book = load_workbook(io.BytesIO(pipeline.error_report(caught.value.batch)))
    sheet = book.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["行号", "姓名", "性别"] and values[0][-1] == "错误原因"
    assert values[1][0] == 6 and values[1][1] == "赵六"
    assert "已丢失" in values[1][-1] and "出生年月" in values[1][-1]
    assert sheet.cell(row=2, column=4).fill.fgColor.rgb.endswith("FFC7CE")  # 身份证号
    assert sheet.cell(row=2, column=2).fill.fgColor.rgb in (None, "00000000")
    assert len(values) == 2


def test_the_template_has_headers_drop_downs_and_instructions(city_admin):
    book = load_workbook(io.BytesIO(pipeline.template_workbook()))
    sheet = book["人才信息"]
    headers = [c.value for c in sheet[1]]
    assert headers[0] == "姓名*" and "最高学历" in headers
    assert suggest([h.rstrip("*") for h in headers]) == [h for h in pipeline.FIELDS]
    education = headers.index("最高学历") + 1
    from openpyxl.utils import get_column_letter

    letter = get_column_letter(education)
    ranges = [str(v.sqref) for v in sheet.data_validations.dataValidation]
    assert any(r.startswith(f"{letter}2") for r in ranges)
    lists = book["可选值"]
    column = [c.value for c in next(col for col in lists.iter_cols() if col[0].value == "最高学历")]
    assert "研究生" in column
    assert "填写说明" in book.sheetnames and book["填写说明"]["A1"].value == "栏目"


def test_saved_mappings_apply_to_a_sources_next_sheet(tmp_path, city_admin):
    from rencai.imports.mapping import columns_from_mapping

    headers = ["人员名称", "证件", "县区"]
    mapping = save_mapping(name="盐湖区人社局", source="盐湖区人社局", headers=headers,
                           columns={0: "name", 1: "id_card", 2: "region"}, fixed={"kind": "本土人才"}, header_row=0,
                           user=city_admin)
    assert suggest(headers) == [None, None, "region"]
    assert columns_from_mapping(mapping, ["县区 ", "人员名称", "证件"]) == {0: "region", 1: "name", 2: "id_card"}


def test_a_batch_is_recorded_with_who_and_which_file(tmp_path, city_admin):
    up = upload(xlsx(tmp_path / "名单.xlsx", sheet_rows()), city_admin)
    batch = pipeline.run_import(up, options(), city_admin)
    batch = ImportBatch.objects.get(pk=batch.pk)
    assert batch.user == city_admin and batch.upload.file_name == "名单.xlsx" and len(batch.upload.sha256) == 64
    assert batch.options["columns"]["0"] == "name"
    assert batch.finished_at is not None
    assert Region.objects.get(code="140802").pk in set(Talent.objects.values_list("region_id", flat=True))
    assert region("140802").name == "盐湖区"


def _index_names() -> set[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        names = set()
        for table in ("talents_talent", "talents_talentsearchterm"):
            names |= {name for name, c in connection.introspection.get_constraints(cursor, table).items() if c["index"]}
    return names


def test_a_large_load_sets_the_indexes_aside_only_when_it_writes_new_rows(tmp_path, city_admin, monkeypatch):
    monkeypatch.setattr(pipeline, "LARGE_LOAD_ROWS", 1)
    entered = []
    real = pipeline.bulk_load

    def recording(*args, **kwargs):
        entered.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "bulk_load", recording)
    path = xlsx(tmp_path / "a.xlsx", sheet_rows())
    assert pipeline.run_import(upload(path, city_admin), options(), city_admin).counts["created"] == 3
    assert entered == [1]
    again = pipeline.run_import(upload(path, city_admin), options(), city_admin)
    assert again.counts["skipped"] == 3 and entered == [1]  # the same file again: nothing new, nothing rebuilt


def test_the_registry_keeps_no_index_on_references_nobody_filters_by():
    # Each index is written on every insert and rebuilt by every large load.
    from django.db import connection

    with connection.cursor() as cursor:
        indexed = {column for c in connection.introspection.get_constraints(cursor, "talents_talent").values()
                   if c["index"] for column in c["columns"]}
    assert not indexed & {"degree_id", "discipline_id", "ethnicity_id", "political_status_id", "work_city_id"}
    assert {"education_id", "native_place_id", "work_province_id", "liaison_officer_id"} <= indexed


def test_a_large_load_keeps_the_indexes_its_rows_are_matched_through():
    # Without them each chunk's lookup reads every row written so far (quadratic at a million).
    from django.db import connection, transaction

    with transaction.atomic(), bulk_load(connection, [Talent], keep=pipeline.MATCH_INDEXES):
        during = _index_names()
        with connection.cursor() as cursor:
            columns = {tuple(c["columns"]) for name, c in connection.introspection.get_constraints(
                cursor, "talents_talent").items() if name in during and c["index"] and not c["unique"]}
    assert ("name",) in columns and "talents_unique_id_card" in during
    assert "talents_birth_idx" not in during
    assert "talents_birth_idx" in _index_names()


def test_a_first_load_sets_the_id_number_index_aside_and_a_duplicate_still_fails_it(city_admin):
    # An import into an empty registry looks nothing up: the unique ID-number index goes too, and
    # is built again at the end, where two records of one number would still stop the load.
    from django.db import IntegrityError, connection, transaction

    from rencai.core import crypto

    with transaction.atomic(), bulk_load(connection, [Talent], keep=pipeline.APPENDED_INDEXES,
                                         unique=[("id_card_hash",)]):
        assert "talents_unique_id_card" not in _index_names()
    assert "talents_unique_id_card" in _index_names()
    digest = crypto.lookup_hash("id_card", ZHANG)
    with pytest.raises(IntegrityError), transaction.atomic():
        with bulk_load(connection, [Talent], unique=[("id_card_hash",)]):
            for name in ("张伟", "张卫"):
                talent = make_talent(city_admin, name=name)
                Talent.objects.filter(pk=talent.pk).update(id_card_hash=digest)
    assert "talents_unique_id_card" in _index_names() and not Talent.objects.filter(id_card_hash=digest).exists()


def test_a_large_load_rebuilds_the_registrys_indexes_and_a_refused_one_keeps_them(tmp_path, city_admin, monkeypatch):
    monkeypatch.setattr(pipeline, "LARGE_LOAD_ROWS", 1)  # every load counts as large here
    before = _index_names()
    assert {"talents_birth_idx", "talents_term_idx"} <= before
    up = upload(xlsx(tmp_path / "a.xlsx", sheet_rows()), city_admin)
    during = []
    committing = pipeline._Pass.commit_chunk

    def commit_chunk(self, results):
        committing(self, results)
        during.append(_index_names())

    monkeypatch.setattr(pipeline._Pass, "commit_chunk", commit_chunk)
    batch = pipeline.run_import(up, options(), city_admin)
    assert batch.counts["created"] == 3
    # Into the empty registry: the ID number's and the name's indexes were away while it wrote.
    assert during and not {"talents_unique_id_card", "talents_birth_idx"} & during[0]
    assert _index_names() == before
    assert Talent.objects.filter(birth_date=dt.date(1985, 3, 12)).count() == 1
    assert TalentSearchTerm.objects.filter(term="王强").exists()
    Talent.objects.all().delete()
    bad = upload(xlsx(tmp_path / "b.xlsx", sheet_rows() + [["", "男"]]), city_admin)
    with pytest.raises(ImportRefused):
        pipeline.run_import(bad, options(), city_admin)
    assert _index_names() == before and not Talent.objects.exists()
