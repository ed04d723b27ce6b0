"""Real files for the import tests: .xlsx written by openpyxl, .xls by xlwt, CSV in UTF-8 and GBK,
and a password-protected .xlsx encrypted by msoffcrypto-tool."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from rencai.imports.readers import store_upload

HEADERS = ["姓名", "性别", "身份证号", "出生年月", "手机", "最高学历", "所属地区", "工作单位"]


def xlsx(path: Path, rows: list[list], *, title: str | None = None, merge: list[str] = (), number_formats=None,
         sheet_name: str = "人才") -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_name
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(r) for r in rows))
    for row in rows:
        sheet.append(row)
    for cells in merge:
        sheet.merge_cells(cells)
    for (cell, fmt) in (number_formats or {}).items():
        sheet[cell].number_format = fmt
    book.save(path)
    return path


def xls(path: Path, rows: list[list]) -> Path:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("人才")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    book.save(str(path))
    return path


def csv_file(path: Path, rows: list[list], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def encrypted_xlsx(path: Path, rows: list[list], password: str = "mima123") -> Path:  # noqa: S107 (a test file's password)
    import msoffcrypto.format.ooxml

    plain = xlsx(path.with_suffix(".plain.xlsx"), rows)
    with plain.open("rb") as source, path.open("wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(source).encrypt(password, out)
    return path


def upload(path: Path, user):
    return store_upload(path, user)
