"""Reading the files counties send: .xlsx, .xls and .csv, whatever their name says.

The type is told by the content, not the file name: an .xlsx is a zip (``PK``), an .xls an OLE2
compound file (``D0 CF 11 E0``); a password-protected .xlsx is an OLE2 file too, with an
``EncryptionInfo`` stream, and is refused by name (文件设有密码) rather than as corrupt. Anything
else must be text: UTF-8 (with or without BOM) or, failing that, GB18030 (a superset of GBK, which
Excel on Chinese Windows writes).

Sheets are read with python-calamine (Rust), which is fast but holds a sheet in memory; the row
limit (``IMPORT_MAX_ROWS``) is checked from the sheet's dimensions before any row reaches Python.
Cell values come as calamine gives them: text, float (integers as int here), bool, date and
datetime (for cells formatted as dates), and empty as None.

Two decisions that matter to users:

- **Merged cells**: the value of a merged range is copied into every cell of the range. A county
  name merged down the rows of its people then belongs to each of them, and a merged header
  names each column under it.
- **Formulas**: the value Excel computed and saved with the file is read (what the user saw).
  A file written by a program that stored formulas without their results (never opened and saved
  in Excel) is refused, naming how many cells, since reading empty values would lose data.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from rencai.core.parallel import give_back_freed_memory

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
# Streams of an OLE2 file that hold an encrypted OOXML package (MS-OFFCRYPTO).
ENCRYPTED_STREAMS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
# Binary formats people send by mistake, named in the message.
KNOWN_BINARY = {
    b"%PDF": "PDF", b"\x89PNG": "PNG 图片", b"\xff\xd8\xff": "JPEG 图片", b"GIF8": "GIF 图片",
    b"Rar!": "RAR 压缩包", b"7z\xbc\xaf": "7z 压缩包", b"\x1f\x8b": "gzip 压缩包",
}
CHUNK = 1024 * 1024
GUESS_HEADER_ROWS = 20
# The first rows of a sheet kept beside its upload, for the wizard's pages.
SAMPLE_ROWS = 60


class ImportFileError(Exception):
    """A file that cannot be imported; ``message`` is the Chinese text shown to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def max_bytes() -> int:
    return settings.IMPORT_MAX_MB * 1024 * 1024


# --- storing an upload ------------------------------------------------------------------------------
def store_upload(file, user, file_name: str | None = None):
    """Keep an uploaded file under ``UPLOAD_DIR`` and record it; return the ``ImportUpload``.

    ``file`` is a Django ``UploadedFile``, an open binary file or a path. The size limit is
    checked while copying (a 2 GB upload is cut off at the limit, not read whole); then the type
    is told from the content and the file opened once, so a corrupt or protected file is refused
    here with ``ImportFileError`` rather than later in the wizard.
    """
    from rencai.imports.models import ImportUpload

    if isinstance(file, (str, os.PathLike)):
        path = Path(file)
        file_name = file_name or path.name
        if not path.is_file():
            raise ImportFileError(_("找不到文件“%(name)s”。") % {"name": file_name})
        with path.open("rb") as handle:
            return store_upload(handle, user, file_name)
    file_name = (file_name or getattr(file, "name", "") or "upload").rsplit("/", 1)[-1][:255]
    upload_dir = Path(settings.UPLOAD_DIR)
    upload_dir.mkdir(parents=True, exist_ok=True)
    limit = max_bytes()
    digest = hashlib.sha256()
    size = 0
    chunks = file.chunks(CHUNK) if hasattr(file, "chunks") else iter(lambda: file.read(CHUNK), b"")
    with tempfile.NamedTemporaryFile(dir=upload_dir, prefix=".upload-", delete=False) as out:
        temp = Path(out.name)
        try:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise ImportFileError(_("文件超过 %(mb)d MB，不能导入。请把数据分成几个文件，或删去不需要的列后再导入。")
                                          % {"mb": settings.IMPORT_MAX_MB})
                digest.update(chunk)
                out.write(chunk)
        except BaseException:
            out.close()
            temp.unlink(missing_ok=True)
            raise
    try:
        if size == 0:
            raise ImportFileError(_("文件是空的（0 字节）。"))
        kind, encoding = detect_kind(temp)
        workbook = open_workbook(temp, kind, encoding=encoding)
        workbook.check()
        sha = digest.hexdigest()
        stored = f"{sha[:2]}/{sha}.{kind}"
        target = upload_dir / stored
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)
        target.chmod(0o600)
        workbook.path = target
    finally:
        temp.unlink(missing_ok=True)
    upload = ImportUpload.objects.create(
        file_name=file_name, sha256=sha, size=size, stored_path=stored, uploaded_by=user, kind=kind,
        encoding=encoding, created_by=user, updated_by=user,
    )
    # The sheet just read stays with this upload object: an import that follows in the same
    # process (the command line, the API) reads it from memory, not from the file again.
    upload.keep_open(workbook)
    upload.sample(0)
    return upload


def detect_kind(path: Path) -> tuple[str, str]:
    """``(kind, encoding)`` of the file from its content; raises ``ImportFileError`` for
    protected, binary or undecodable files."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile as exc:
            raise ImportFileError(_("文件已损坏，无法打开（不是完整的 Excel 文件）。请在 Excel 中重新保存后再导入。")) from exc
        if "xl/workbook.xml" in names:
            return "xlsx", ""
        if "word/document.xml" in names:
            raise ImportFileError(_("这是 Word 文档，不是 Excel 表格。请上传 .xlsx、.xls 或 .csv 文件。"))
        if "content.xml" in names:
            raise ImportFileError(_("这是 OpenDocument 文件，请在 WPS 或 Excel 中另存为 .xlsx 后再导入。"))
        raise ImportFileError(_("这是一个压缩包，不是 Excel 表格。请上传 .xlsx、.xls 或 .csv 文件。"))
    if head.startswith(OLE_MAGIC):
        if _ole_has_stream(path, ENCRYPTED_STREAMS):
            raise ImportFileError(_("文件设有密码（已加密），无法读取。请在 Excel 中取消密码（文件→信息→保护工作簿→用密码进行加密，清空密码）"
                                    "后保存，再导入。"))
        return "xls", ""
    for magic, label in KNOWN_BINARY.items():
        if head.startswith(magic):
            raise ImportFileError(_("这是 %(kind)s 文件，不是表格。请上传 .xlsx、.xls 或 .csv 文件。") % {"kind": label})
    return "csv", _text_encoding(path)


def _ole_has_stream(path: Path, names: tuple[bytes, ...]) -> bool:
    """Whether an OLE2 file's directory names one of ``names`` (UTF-16 names in directory
    sectors; a scan of the bytes finds them without parsing the FAT)."""
    with open(path, "rb") as handle:
        data = handle.read(min(os.path.getsize(path), 4 * CHUNK))
    return any(name in data for name in names)


def _text_encoding(path: Path) -> str:
    """UTF-8 (BOM or not) if the whole file decodes so, else GB18030 (GBK's superset); a file
    with NUL bytes or that neither decodes is not text."""
    utf8 = codecs.getincrementaldecoder("utf-8")()
    gb = codecs.getincrementaldecoder("gb18030")()
    utf8_ok = gb_ok = True
    with open(path, "rb") as handle:
        first = True
        while chunk := handle.read(CHUNK):
            if b"\x00" in chunk:
                raise ImportFileError(_("无法识别的文件类型：不是 Excel 表格，也不是文本（CSV）文件。请上传 .xlsx、.xls 或 .csv 文件。"))
            if first and chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[3:]
            first = False
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
            if not utf8_ok and gb_ok:
                try:
                    gb.decode(chunk)
                except UnicodeDecodeError:
                    gb_ok = False
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
    # GB18030 was only fed once UTF-8 failed: decode the whole file to be sure.
    try:
        with open(path, encoding="gb18030") as handle:
            while handle.read(CHUNK):
                pass
    except UnicodeDecodeError as exc:
        raise ImportFileError(_("无法识别文件的文字编码（既不是 UTF-8 也不是 GBK）。请在 Excel 中另存为 .xlsx 后再导入。")) from exc
    return "gb18030"


# --- workbooks --------------------------------------------------------------------------------------
def open_workbook(path, kind: str, *, encoding: str = "") -> Workbook:
    if kind == "csv":
        return CsvWorkbook(Path(path), encoding or "utf-8-sig")
    return ExcelWorkbook(Path(path), kind)


class Workbook:
    """The sheets of an uploaded file. ``rows`` gives the first rows (for the wizard), ``iter_rows``
    every row, as lists indexed by the sheet's column (A is 0)."""

    sheet_names: list[str]

    def sheet_index(self, sheet: str | int) -> int:
        if isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in self.sheet_names):
            index = int(sheet)
            if not 0 <= index < len(self.sheet_names):
                raise ImportFileError(_("文件中没有第 %(n)d 个工作表。") % {"n": index + 1})
            return index
        try:
            return self.sheet_names.index(sheet)
        except ValueError as exc:
            raise ImportFileError(_("文件中没有名为“%(name)s”的工作表。") % {"name": sheet}) from exc

    def rows(self, sheet: str | int = 0, limit: int | None = None) -> list[list]:
        out = []
        for row in self.iter_rows(sheet):
            if limit is not None and len(out) >= limit:
                break
            out.append(row)
        return out

    def iter_rows(self, sheet: str | int = 0):
        raise NotImplementedError

    def release(self) -> None:
        """Let go of what reading kept in memory (a sheet read whole); it is read again if asked."""

    def row_count(self, sheet: str | int = 0) -> int:
        """Rows in the sheet (including header and title rows)."""
        raise NotImplementedError

    def check(self) -> None:
        """Open every part needed to read the first sheet; raise ``ImportFileError`` if it fails."""
        self.rows(0, limit=1)

    def sample(self, sheet: str | int = 0) -> dict:
        """The first rows of a sheet and how many rows it has, as JSON (dates as ISO text): what
        the wizard shows, and guesses the header row from."""
        rows = [[_json_cell(value) for value in row] for row in self.rows(sheet, limit=SAMPLE_ROWS)]
        return {"rows": rows, "row_count": self.row_count(sheet)}

    def guess_header_row(self, sheet: str | int = 0) -> int:
        return guess_header_row(self.rows(sheet, limit=GUESS_HEADER_ROWS))

    def check_rows(self, sheet: str | int = 0) -> None:
        count = self.row_count(sheet)
        if count > settings.IMPORT_MAX_ROWS + GUESS_HEADER_ROWS:
            raise ImportFileError(
                _("工作表有 %(rows)s 行，超过每次导入 %(max)s 行的上限。请分成几个文件导入。")
                % {"rows": f"{count:,}", "max": f"{settings.IMPORT_MAX_ROWS:,}"}
            )


def guess_header_row(rows: list[list]) -> int:
    """The 0-based index of the row that most looks like the header among the first rows:
    the one with most cells naming a known field, then most text cells. Title rows above a
    header (一个合并单元格的标题) have one cell and lose."""
    from rencai.imports.mapping import suggest

    best, best_score = 0, (-1, -1)
    for index, row in enumerate(rows[:GUESS_HEADER_ROWS]):
        texts = [str(v).strip() for v in row if isinstance(v, str) and v.strip()]
        distinct = len(set(texts))
        known = sum(1 for field in suggest([str(v) if v is not None else "" for v in row]) if field)
        score = (known, distinct)
        if score > best_score:
            best, best_score = index, score
    return best


def _json_cell(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _plain(value):
    """A calamine cell as the engine wants it: '' as None, integral floats as int."""
    if value == "" or value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


class ExcelWorkbook(Workbook):
    def __init__(self, path: Path, kind: str):
        import python_calamine as calamine

        self.path = path
        self.kind = kind
        self._sheets: dict[int, object] = {}
        self._formulas_checked: set[int] = set()
        try:
            self._book = calamine.CalamineWorkbook.from_path(str(path))
        except calamine.PasswordError as exc:
            raise ImportFileError(_("文件设有密码（已加密），无法读取。请在 Excel 中取消密码后保存，再导入。")) from exc
        except Exception as exc:  # noqa: BLE001 (calamine raises many kinds for a broken file)
            raise ImportFileError(_("文件已损坏或格式不对，无法打开。请在 Excel 中打开并另存为 .xlsx 后再导入。")) from exc
        self.sheet_names = list(self._book.sheet_names)
        if not self.sheet_names:
            raise ImportFileError(_("文件中没有工作表。"))

    def _sheet(self, index: int):
        sheet = self._sheets.get(index)
        if sheet is None:
            try:
                sheet = self._book.get_sheet_by_index(index)
            except Exception as exc:  # noqa: BLE001
                raise ImportFileError(
                    _("工作表“%(name)s”已损坏，无法读取。请在 Excel 中打开并另存为 .xlsx 后再导入。")
                    % {"name": self.sheet_names[index]}
                ) from exc
            self._sheets = {index: sheet}  # one sheet at a time: a sheet may take a lot of memory
        return sheet

    def release(self) -> None:
        if self._sheets:
            self._sheets = {}
            give_back_freed_memory()  # the sheet was read by a forked process (see core.parallel)

    def row_count(self, sheet: str | int = 0) -> int:
        found = self._sheet(self.sheet_index(sheet))
        return found.end[0] + 1 if found.end else 0

    def iter_rows(self, sheet: str | int = 0):
        index = self.sheet_index(sheet)
        found = self._sheet(index)
        if found.end is None:
            return
        if self.kind == "xlsx" and index not in self._formulas_checked:
            missing = formulas_without_values(self.path, index)
            if missing:
                raise ImportFileError(
                    _("工作表“%(name)s”中有 %(n)d 个公式单元格没有计算结果（文件由程序生成，未在 Excel 中保存过），"
                      "读取会丢失数据。请在 Excel 中打开该文件并保存，或把公式转换为数值后再导入。")
                    % {"name": self.sheet_names[index], "n": missing}
                )
            self._formulas_checked.add(index)
        # calamine yields rows from the first row but columns from the first used column.
        pad = [None] * (found.start[1] if found.start else 0)
        covered, tops = _merged_cells(found.merged_cell_ranges or ())
        top_values: dict[tuple[int, int], object] = {}
        for r, row in enumerate(found.iter_rows()):
            # _plain inline: a million rows of fifteen cells.
            values = pad + [None if v == "" else int(v) if v.__class__ is float and v.is_integer() and abs(v) < 1e15
                            else v for v in row]
            for c0 in tops.get(r, ()):
                top_values[r, c0] = values[c0] if c0 < len(values) else None
            for c, top in covered.get(r, ()):
                if len(values) <= c:
                    values.extend([None] * (c + 1 - len(values)))
                values[c] = top_values.get(top)
            yield values


def _merged_cells(ranges) -> tuple[dict[int, list], dict[int, list[int]]]:
    """For merged ranges: row → [(column, top-left cell)] of the cells a range covers (its top-left
    cell left out), and row → columns of the top-left cells in that row."""
    covered: dict[int, list] = {}
    tops: dict[int, list[int]] = {}
    for (r0, c0), (r1, c1) in ranges:
        tops.setdefault(r0, []).append(c0)
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0):
                    covered.setdefault(r, []).append((c, (r0, c0)))
    return covered, tops


# A formula followed by no value, or by an empty one (``<v />``, as openpyxl writes).
_FORMULA_NO_VALUE = re.compile(rb"(?:</f>|<f\b[^>]*/>)(?!<v(?:\s[^>/]*)?>[^<])")


def formulas_without_values(path: Path, sheet_index: int) -> int:
    """How many formula cells of an .xlsx sheet have no saved result (``<f>`` without ``<v>``).
    Read as a stream of the sheet's XML: no DOM, constant memory."""
    try:
        with zipfile.ZipFile(path) as archive:
            member = _sheet_member(archive, sheet_index)
            if member is None:
                return 0
            count = 0
            carry = b""
            with archive.open(member) as stream:
                while True:
                    chunk = stream.read(CHUNK)
                    data = carry + chunk
                    if not chunk:
                        count += len(_FORMULA_NO_VALUE.findall(data))
                        break
                    if b"<f" in data:
                        cut = max(0, len(data) - 64)
                        count += sum(1 for m in _FORMULA_NO_VALUE.finditer(data) if m.end() <= cut)
                        carry = data[cut:]
                    else:
                        carry = data[-64:]
            return count
    except (zipfile.BadZipFile, KeyError):
        return 0


def _attribute(tag: bytes, name: bytes) -> str | None:
    match = re.search(rb"(?:^|\s)" + name + rb"\s*=\s*[\"']([^\"']*)[\"']", tag)
    return match.group(1).decode("utf-8") if match else None


def _sheet_member(archive: zipfile.ZipFile, index: int) -> str | None:
    """The zip member of the ``index``-th sheet, from workbook.xml and its relationships (read
    with regular expressions: no XML parser, so no entity tricks, on a file from outside)."""
    sheets = re.findall(rb"<(?:\w+:)?sheet\s[^>]*>", archive.read("xl/workbook.xml"))
    if index >= len(sheets):
        return None
    rel_id = _attribute(sheets[index], rb"r:id") or _attribute(sheets[index], rb"\w+:id")
    for tag in re.findall(rb"<(?:\w+:)?Relationship\s[^>]*>", archive.read("xl/_rels/workbook.xml.rels")):
        if _attribute(tag, rb"Id") == rel_id:
            target = _attribute(tag, rb"Target") or ""
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


class CsvWorkbook(Workbook):
    """A CSV file as a workbook of one sheet (named after nothing: 「CSV」)."""

    def __init__(self, path: Path, encoding: str):
        self.path = path
        self.encoding = encoding
        self.sheet_names = ["CSV"]

    def _open(self):
        return open(self.path, encoding=self.encoding, newline="")

    def _dialect(self, sample: str):
        try:
            return csv.Sniffer().sniff(sample, delimiters=",\t;")
        except csv.Error:
            return csv.excel

    def iter_rows(self, sheet: str | int = 0):
        self.sheet_index(sheet)
        with self._open() as handle:
            sample = handle.read(64 * 1024)
            handle.seek(0)
            try:
                for row in csv.reader(handle, self._dialect(sample)):
                    yield [value if value.strip() else None for value in row]
            except csv.Error as exc:
                raise ImportFileError(_("CSV 文件格式有误：%(reason)s") % {"reason": exc}) from exc

    def row_count(self, sheet: str | int = 0) -> int:
        with open(self.path, "rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(CHUNK), b"")) + 1


def header_texts(row: list) -> list[str]:
    """Header cells as text: line breaks and spaces inside removed (合并表头常见“出生\\n日期”)."""
    out = []
    for value in row:
        if value is None:
            out.append("")
        elif isinstance(value, (dt.date, dt.datetime)):
            out.append(value.isoformat())
        else:
            out.append(re.sub(r"\s+", "", str(value)))
    return out


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    """Rows as CSV bytes (tests and templates)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)
