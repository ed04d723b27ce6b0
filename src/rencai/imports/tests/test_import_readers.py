"""Reading uploads: type by content, encodings, protected, corrupt and oversized files, empty
sheets, title rows, merged cells and formulas — each with a real file written here."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import pytest

from rencai.imports.models import ImportUpload
from rencai.imports.readers import ImportFileError, store_upload
from rencai.imports.tests.files import HEADERS, csv_file, encrypted_xlsx, xls, xlsx

pytestmark = pytest.mark.django_db

ROWS = [HEADERS, ["张伟", "男", None, "1985-03-12", "13912345678", "本科", "盐湖区", "运城学院"]]


def refused(path, user) -> str:
    with pytest.raises(ImportFileError) as caught:
        store_upload(path, user)
    assert not ImportUpload.objects.exists()
    return caught.value.message


def test_it_stores_an_xlsx_under_var_uploads_with_its_hash(tmp_path, city_admin, settings):
    path = xlsx(tmp_path / "名单.xlsx", ROWS)
    upload = store_upload(path, city_admin)
    assert upload.kind == "xlsx"
    assert upload.file_name == "名单.xlsx"
    assert upload.path.is_file() and str(upload.path).startswith(str(settings.UPLOAD_DIR))
    import hashlib

    assert upload.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert upload.size == path.stat().st_size
    rows = upload.open().rows(0)
    assert rows[0] == HEADERS
    assert rows[1][0] == "张伟"


def test_it_tells_the_type_by_content_not_by_name(tmp_path, city_admin):
    xlsx_named_csv = xlsx(tmp_path / "a.csv", ROWS)
    assert store_upload(xlsx_named_csv, city_admin).kind == "xlsx"
    xls_named_xlsx = xls(tmp_path / "b.xlsx", ROWS)
    upload = store_upload(xls_named_xlsx, city_admin)
    assert upload.kind == "xls"
    assert upload.open().rows(0)[1][:2] == ["张伟", "男"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_it_reads_csv_in_utf8_with_or_without_bom_and_gbk(tmp_path, city_admin, encoding):
    path = csv_file(tmp_path / "a.csv", ROWS, encoding=encoding)
    upload = store_upload(path, city_admin)
    assert upload.kind == "csv"
    rows = upload.open().rows(0)
    assert rows[0] == HEADERS  # no BOM left on the first header, no mojibake
    assert rows[1][0] == "张伟"


def test_a_password_protected_xlsx_is_refused_by_name(tmp_path, city_admin):
    path = encrypted_xlsx(tmp_path / "加密.xlsx", ROWS)
    assert "密码" in refused(path, city_admin)


@pytest.mark.parametrize("content, words", [
    (b"PK\x03\x04 this is not really a zip", "损坏"),
    (b"\x00\x01\x02\x03binary junk\x00" * 10, "无法识别"),
    (b"%PDF-1.4 a pdf", "PDF"),
])
def test_corrupt_and_wrong_files_are_refused_with_a_message(tmp_path, city_admin, content, words):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    assert words in refused(path, city_admin)


def test_a_truncated_xlsx_is_refused(tmp_path, city_admin):
    good = xlsx(tmp_path / "good.xlsx", ROWS).read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(good[: len(good) // 2])
    assert "损坏" in refused(path, city_admin)


def test_a_word_document_is_refused(tmp_path, city_admin):
    path = tmp_path / "doc.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert "Word" in refused(path, city_admin)


def test_an_empty_file_is_refused(tmp_path, city_admin):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert "空" in refused(path, city_admin)


def test_a_file_over_the_size_limit_is_refused(tmp_path, city_admin, settings):
    settings.IMPORT_MAX_MB = 1
    path = csv_file(tmp_path / "big.csv", [HEADERS] + [["张伟" * 20, "男"] * 4] * 10_000)
    assert path.stat().st_size > 1024 * 1024
    assert "超过 1 MB" in refused(path, city_admin)
    assert not list(settings.UPLOAD_DIR.glob(".upload-*"))  # the partial copy is gone


def test_a_sheet_over_the_row_limit_is_refused_before_reading(tmp_path, city_admin, settings):
    settings.IMPORT_MAX_ROWS = 5
    path = xlsx(tmp_path / "rows.xlsx", [HEADERS] + [["张伟"]] * 40)
    upload = store_upload(path, city_admin)
    with pytest.raises(ImportFileError) as caught:
        upload.open().check_rows(0)
    assert "上限" in caught.value.message


def test_title_rows_above_the_header_are_skipped_by_the_guess(tmp_path, city_admin):
    path = xlsx(tmp_path / "t.xlsx", [["填报单位：盐湖区人社局", None, "日期：2025-06"], HEADERS, ROWS[1]],
                title="2025 年在外人才统计表")
    workbook = store_upload(path, city_admin).open()
    assert workbook.guess_header_row(0) == 2


def test_merged_cells_give_their_value_to_every_cell(tmp_path, city_admin):
    rows = [["所属地区", "姓名"], ["盐湖区", "张伟"], [None, "李娜"], [None, "王芳"]]
    path = xlsx(tmp_path / "m.xlsx", rows, merge=["A2:A4"])
    data = store_upload(path, city_admin).open().rows(0)
    assert [row[0] for row in data[1:]] == ["盐湖区", "盐湖区", "盐湖区"]


def test_date_cells_and_numbers_come_as_python_values(tmp_path, city_admin):
    rows = [["姓名", "出生日期", "序号"], ["张伟", dt.date(1985, 3, 12), 7]]
    data = store_upload(xlsx(tmp_path / "d.xlsx", rows), city_admin).open().rows(0)
    assert data[1][1] in (dt.date(1985, 3, 12), dt.datetime(1985, 3, 12))
    assert data[1][2] == 7 and isinstance(data[1][2], int)


def _with_cached_formula_values(path):
    """openpyxl writes formulas without results; give them one, as Excel does on save."""
    out = path.with_name("cached.xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"(<c [^>]*)(>)(<f>[^<]*</f>)(<v>\s*</v>|<v\s*/>)?", rb'\1 t="str"\2\3<v>1985-03-12</v>', data)
            target.writestr(info, data)
    return out


def test_formulas_are_read_as_their_saved_values(tmp_path, city_admin):
    path = xlsx(tmp_path / "f.xlsx", [["姓名", "出生日期"], ["张伟", '=TEXT(DATE(1985,3,12),"yyyy-mm-dd")']])
    cached = _with_cached_formula_values(path)
    rows = store_upload(cached, city_admin).open().rows(0)
    assert rows[1] == ["张伟", "1985-03-12"]


def test_formulas_without_saved_values_are_refused(tmp_path, city_admin):
    path = xlsx(tmp_path / "f.xlsx", [["姓名", "出生日期"], ["张伟", "=DATE(1985,3,12)"], ["李娜", "=DATE(1986,1,2)"]])
    assert "2 个公式单元格没有计算结果" in refused(path, city_admin)


def test_an_empty_sheet_reads_as_no_rows(tmp_path, city_admin):
    from openpyxl import Workbook

    path = tmp_path / "empty.xlsx"
    Workbook().save(path)
    assert store_upload(path, city_admin).open().rows(0) == []
