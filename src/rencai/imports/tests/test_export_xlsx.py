"""The streaming .xlsx writer: what it writes opens in python-calamine and openpyxl with the
same values and types (text that needs escaping, control characters, dates as dates, numbers as
numbers, empty cells in place), and a sheet that fills up continues on the next one."""

from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl
import python_calamine

from rencai.imports import export_xlsx
from rencai.imports.export_xlsx import XlsxStreamWriter, column_letter

ROWS = [
    ["张伟", 35, dt.date(1985, 3, 12), dt.datetime(2026, 1, 31, 8, 30), "A&B <c> \"d\" 'e'"],
    ["", None, None, None, " 前后空格 "],
    ["控制\x01字符\x1f", 1.5, dt.date(1900, 3, 1), dt.datetime(1999, 12, 31, 23, 59), "=SUM(A1:A2)"],
]
KINDS = ["str", "number", "date", "datetime", "str"]


def write(path, rows=ROWS, kinds=KINDS, header=("姓名", "年龄", "出生日期", "更新时间", "备注")):
    with XlsxStreamWriter(path, sheet_name="人才") as book:
        book.write_header(header)
        book.write_rows(rows, kinds)
    return path


def expected_row(row):
    name = row[0].replace("\x01", "").replace("\x1f", "")
    return [name, row[1], row[2], row[3], row[4]]


def test_it_opens_in_calamine_with_types(tmp_path):
    path = write(tmp_path / "a.xlsx")
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["人才"]
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0] == ["姓名", "年龄", "出生日期", "更新时间", "备注"]
    assert rows[1] == ["张伟", 35.0, dt.date(1985, 3, 12), dt.datetime(2026, 1, 31, 8, 30), "A&B <c> \"d\" 'e'"]
    assert rows[2] == ["", "", "", "", " 前后空格 "]
    assert rows[3] == ["控制字符", 1.5, dt.date(1900, 3, 1), dt.datetime(1999, 12, 31, 23, 59), "=SUM(A1:A2)"]


def test_it_opens_in_openpyxl_with_types(tmp_path):
    path = write(tmp_path / "a.xlsx")
    sheet = openpyxl.load_workbook(path).active
    assert sheet.title == "人才"
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[1][:2] == ["张伟", 35] and rows[1][2].date() == dt.date(1985, 3, 12)
    assert rows[1][3] == dt.datetime(2026, 1, 31, 8, 30)
    assert rows[2] == [None, None, None, None, " 前后空格 "]
    assert rows[3][4] == "=SUM(A1:A2)"  # text, not a formula
    assert sheet["C2"].number_format == "yyyy\\-mm\\-dd"
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"


def test_the_general_path_types_each_value(tmp_path):
    path = tmp_path / "b.xlsx"
    with XlsxStreamWriter(path) as book:
        book.write_header(["x", "y"])
        book.write_rows([[True, 3], ["a", dt.date(2020, 1, 2)]])
    rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[1] == [True, 3.0] and rows[2] == ["a", dt.date(2020, 1, 2)]


def test_a_full_sheet_continues_on_the_next(tmp_path, monkeypatch):
    monkeypatch.setattr(export_xlsx, "MAX_SHEET_ROWS", 4)
    rows = [[f"人{i}", i] for i in range(7)]
    path = write(tmp_path / "c.xlsx", rows=rows, kinds=["str", "number"], header=["姓名", "序号"])
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["人才", "人才2", "人才3"]
    sheets = [book.get_sheet_by_index(i).to_python() for i in range(3)]
    assert all(s[0] == ["姓名", "序号"] for s in sheets)
    assert [r[0] for s in sheets for r in s[1:]] == [f"人{i}" for i in range(7)]
    assert len(sheets[0]) == 4


def test_an_empty_export_is_a_valid_workbook(tmp_path):
    path = write(tmp_path / "d.xlsx", rows=[])
    assert openpyxl.load_workbook(path).active.max_row == 1
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert "[Content_Types].xml" in archive.namelist()


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_typed_rows_read_back_like_the_general_path(tmp_path):
    # Values that do not fit their column's kind, and text the fast path must not take as is.
    rows = [[42, "7", dt.datetime(2020, 1, 2, 3, 4), dt.date(2020, 1, 2), "\u3000全角空格"],
            ["a>b", 2.5, dt.date(2021, 5, 6), None, "tab\there"],
            ["", 0, None, dt.datetime(2021, 5, 6, 7, 8), "尾空格 "]]
    typed = write(tmp_path / "typed.xlsx", rows=rows)
    general = tmp_path / "general.xlsx"
    with XlsxStreamWriter(general, sheet_name="人才") as book:
        book.write_header(("姓名", "年龄", "出生日期", "更新时间", "备注"))
        book.write_rows(rows)

    def read(path):
        return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()

    assert read(typed) == read(general)
    assert read(typed)[1][4] == "\u3000全角空格" and read(typed)[3][4] == "尾空格 " and read(typed)[2][0] == "a>b"
