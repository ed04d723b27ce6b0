"""A streaming .xlsx writer for exports: rows go straight into the zip entry of the sheet.

An .xlsx file is a zip of XML parts. The sheet part is written row by row, a few thousand rows
to a string at a time, into a deflated zip entry opened for writing; the small parts (workbook,
styles, content types) follow once the sheets are known. Memory stays constant whatever the
number of rows, and the cost is that of building the XML text and of zlib: xlsxwriter's
constant-memory mode spends most of its time in a Python call per cell, which this avoids by
formatting a whole row in one expression (see bench/exports.py for the figures).

Strings are written inline (``t="inlineStr"``): a shared-string table would have to be held in
memory until the end, and an export's strings (names, units) are mostly distinct anyway. Dates
and times are numbers (days since 1899-12-30) with a date or date-time number format, so Excel
sorts and filters them as dates. A sheet holds at most 1,048,576 rows; past that the writer
starts the next sheet (数据2, 数据3 …) and repeats the header.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterable, Sequence
from decimal import Decimal

MAX_SHEET_ROWS = 1_048_576
EPOCH = dt.date(1899, 12, 30)
EPOCH_ORDINAL = EPOCH.toordinal()
# Characters XML 1.0 cannot hold at all; they are dropped.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NEEDS_WORK = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
STYLE_HEADER, STYLE_DATE, STYLE_DATETIME = 1, 2, 3
FLUSH_ROWS = 2000


def column_letter(index: int) -> str:
    """``A`` for 0, ``Z`` for 25, ``AA`` for 26 …"""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def xml_text(value: str) -> str:
    """``value`` escaped for XML character data, with characters XML cannot hold removed."""
    if _NEEDS_WORK.search(value) is None:
        return value
    value = _ILLEGAL.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _string_cell(ref: str, value: str) -> str:
    text = xml_text(value)
    if text[:1].isspace() or text[-1:].isspace():
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def cell_xml(ref: str, value) -> str:
    """One cell of any supported type (the general path; typed rows use ``RowFormatter``)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, dt.datetime):
        return f'<c r="{ref}" s="{STYLE_DATETIME}"><v>{excel_datetime(value)}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="{STYLE_DATE}"><v>{value.toordinal() - EPOCH_ORDINAL}</v></c>'
    return _string_cell(ref, str(value))


def excel_datetime(value: dt.datetime) -> float:
    """A (naive, local) date and time as an Excel serial number."""
    seconds = value.hour * 3600 + value.minute * 60 + value.second
    return round(value.toordinal() - EPOCH_ORDINAL + seconds / 86400, 8)


class XlsxStreamWriter:
    """Write one or more sheets of rows to ``target`` (a path or a writable binary file).

    ::

        with XlsxStreamWriter(path, sheet_name="人才") as book:
            book.write_header(["姓名", "出生日期"])
            book.write_rows(rows)   # any iterable of sequences: str, int, float, date, datetime, None

    ``compresslevel`` 1 deflates several times faster than zlib's default for a file a few
    per cent larger.
    """

    def __init__(self, target, *, sheet_name: str = "数据", compresslevel: int = 1,
                 column_widths: Sequence[float] | None = None):
        self.zip = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self.sheet_name = sheet_name
        self.column_widths = list(column_widths or [])
        self.sheets: list[str] = []
        self.header: list[str] | None = None
        self._stream = None
        self._row = 0  # rows written to the current sheet
        self.rows_written = 0  # data rows, all sheets

    # --- the sheets -------------------------------------------------------------------------
    def _open_sheet(self) -> None:
        number = len(self.sheets) + 1
        self.sheets.append(self.sheet_name if number == 1 else f"{self.sheet_name}{number}")
        self._stream = self.zip.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True)
        parts = [
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        ]
        if self.header:
            # The header row stays in view while scrolling.
            parts.append('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                         'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>')
        if self.column_widths:
            parts.append("<cols>")
            parts.extend(f'<col min="{i}" max="{i}" width="{w:.1f}" customWidth="1"/>'
                         for i, w in enumerate(self.column_widths, 1))
            parts.append("</cols>")
        parts.append("<sheetData>")
        self._stream.write("".join(parts).encode("utf-8"))
        self._row = 0
        if self.header:
            self._write_header_row()

    def _close_sheet(self) -> None:
        if self._stream is not None:
            self._stream.write(b"</sheetData></worksheet>")
            self._stream.close()
            self._stream = None

    def _write_header_row(self) -> None:
        self._row += 1
        cells = "".join(
            f'<c r="{column_letter(i)}1" t="inlineStr" s="{STYLE_HEADER}"><is><t>{xml_text(str(h))}</t></is></c>'
            for i, h in enumerate(self.header)
        )
        self._stream.write(f'<row r="1">{cells}</row>'.encode())

    def write_header(self, labels: Sequence[str]) -> None:
        """The header row (bold, frozen); repeated on every further sheet."""
        if self._stream is not None or self.sheets:
            raise RuntimeError("write the header before any row")
        self.header = [str(label) for label in labels]
        if not self.column_widths:
            # Wide enough for the header, at least 10 characters (a CJK character counts twice).
            self.column_widths = [max(10, min(40, sum(2 if ord(c) > 0x2E7F else 1 for c in h) + 2)) for h in self.header]

    def write_rows(self, rows: Iterable[Sequence], kinds: Sequence[str] | None = None) -> int:
        """Append ``rows``. ``kinds`` (one of ``str``, ``number``, ``date``, ``datetime``, ``any``
        per column) lets each row be formatted by one compiled expression; without it every
        value's type is looked at. Returns the number of rows written."""
        formatter = RowFormatter(kinds) if kinds else None
        buffer: list[str] = []
        written = 0
        if self._stream is None:
            self._open_sheet()
        for values in rows:
            if self._row >= MAX_SHEET_ROWS:
                self._flush(buffer)
                self._close_sheet()
                self._open_sheet()
            self._row += 1
            number = self._row
            if formatter is not None:
                buffer.append(formatter(number, values))
            else:
                cells = "".join(cell_xml(f"{column_letter(i)}{number}", v) for i, v in enumerate(values))
                buffer.append(f'<row r="{number}">{cells}</row>')
            written += 1
            if len(buffer) >= FLUSH_ROWS:
                self._flush(buffer)
        self._flush(buffer)
        self.rows_written += written
        return written

    def _flush(self, buffer: list[str]) -> None:
        if buffer:
            self._stream.write("".join(buffer).encode("utf-8"))
            buffer.clear()

    # --- the rest of the package ------------------------------------------------------------------
    def close(self) -> None:
        if self._stream is None and not self.sheets:
            self._open_sheet()
        self._close_sheet()
        self._write_package()
        self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            if self._stream is not None:
                self._stream.close()
            self.zip.close()

    def _write_package(self) -> None:
        count = len(self.sheets)
        sheet_types = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for n in range(1, count + 1)
        )
        self.zip.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{sheet_types}</Types>"
        ))
        self.zip.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ))
        sheets = "".join(
            f'<sheet name="{xml_text(name)}" sheetId="{n}" r:id="rId{n}"/>' for n, name in enumerate(self.sheets, 1)
        )
        self.zip.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{sheets}</sheets></workbook>"
        ))
        relations = "".join(
            f'<Relationship Id="rId{n}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            f'Target="worksheets/sheet{n}.xml"/>' for n in range(1, count + 1)
        )
        self.zip.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'{relations}<Relationship Id="rId{count + 1}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
            'Target="styles.xml"/></Relationships>'
        ))
        self.zip.writestr("xl/styles.xml", STYLES)


# Cell formats: 0 default, 1 bold header, 2 date (yyyy-mm-dd), 3 date and time (yyyy-mm-dd hh:mm).
STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd\\ hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="等线"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="等线"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


class RowFormatter:
    """Formats a row whose column types are known, in one call per row.

    The function is generated for the column types at hand (a few lines of Python compiled once
    per export), so a row costs one call instead of one per cell: a text value that needs no
    escaping goes straight into an f-string (printable, no ``&<>``, no space at either end: plain
    string operations, several times cheaper than a regular expression per cell), anything else
    through ``cell_xml``. An empty value
    gives no cell at all (the reference ``r`` of each cell keeps the columns in place).
    """

    def __init__(self, kinds: Sequence[str]):
        self.kinds = list(kinds)
        names = [f"v{i}" for i in range(len(self.kinds))]
        parts = []
        for i, kind in enumerate(self.kinds):
            v, ref = names[i], column_letter(i)
            if kind == "str":
                part = (f"((f'<c r=\"{ref}{{n}}\" t=\"inlineStr\"><is><t>{{{v}}}</t></is></c>' "
                        f"if {v}.__class__ is str and {v}.isprintable() and '&' not in {v} and '<' not in {v} and '>' not in {v} "
                        f"and {v}[0] != ' ' and {v}[-1] != ' ' else cell('{ref}' + n, {v})) if {v} else '')")
            elif kind == "number":
                part = (f"((f'<c r=\"{ref}{{n}}\"><v>{{{v}}}</v></c>' if {v}.__class__ in numbers "
                        f"else cell('{ref}' + n, {v})) if {v} is not None and {v} != '' else '')")
            elif kind == "date":
                part = (f"((f'<c r=\"{ref}{{n}}\" s=\"{STYLE_DATE}\"><v>{{{v}.toordinal() - epoch}}</v></c>' "
                        f"if {v}.__class__ is date else cell('{ref}' + n, {v})) if {v} else '')")
            elif kind == "datetime":
                part = f"(cell('{ref}' + n, {v}) if {v} else '')"
            elif kind == "any":
                part = f"cell('{ref}' + n, {v})"
            else:
                raise ValueError(f"unknown column kind {kind!r}")
            parts.append(part)
        unpack = ", ".join(names) + ("," if len(names) == 1 else "")
        source = (
            "def format_row(number, values):\n"
            "    n = str(number)\n"
            f"    {unpack} = values\n" if names else "def format_row(number, values):\n    n = str(number)\n"
        )
        source += "    return f'<row r=\"{n}\">' + " + " + ".join([*parts, "'</row>'"]) + "\n"
        namespace = {"cell": cell_xml, "numbers": (int, float, Decimal), "date": dt.date,
                     "epoch": EPOCH_ORDINAL}
        exec(compile(source, "<export row>", "exec"), namespace)  # noqa: S102  (our own generated code)
        self._format = namespace["format_row"]

    def __call__(self, number: int, values: Sequence) -> str:
        return self._format(number, values)
