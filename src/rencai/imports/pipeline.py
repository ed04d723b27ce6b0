"""The import of talents from a sheet: preview, commit, undo, error report and template.

One pass over the rows, a chunk at a time, in two stages: each row is cleaned
(``cleaning.Cleaner``) and prepared as it would be written if new (encrypted, hashed, its search
terms worked out) — for a large sheet in a second process, see ``_Pass.run`` — then matched
against the registry and given a status — new, update of an existing person, possible duplicate,
error, or skip (an existing person in "skip" mode, or nothing to change). Matching is on the
ID-card number through its keyed hash; a row without one matches a visible record of the same
name with the same birth date or mobile number (so a sheet without ID numbers imported twice
creates nobody twice). Rows that look like someone already registered but are not surely them
are "possible duplicates": reported, not written (the dedupe queue settles them).

The commit is one transaction. New talents are written through the database driver's bulk path
(``core.loading.BulkWriter``) with their search terms; updated ones with ``bulk_update``, their
replaced values kept (encrypted) for undo. Bulk writes send no signals, so the batch is audited
once, as a whole. All or nothing by default: a row error rolls everything back and the batch
keeps the errors for the report; ``valid_only`` writes the good rows and reports the others.

Progress is reported once per chunk from inside that transaction.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import pickle
from collections.abc import Callable
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property

from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.core import audit, crypto
from rencai.core.loading import BulkWriter, bulk_load, checkpoint_later, no_gc, sqlite_cache
from rencai.core.models.audit import AuditAction
from rencai.core.parallel import can_fork, forked, give_back_freed_memory
from rencai.core.scope import scope_region_ids, user_can
from rencai.core.services.auditlog import spreadsheet_text
from rencai.imports.cleaning import Cleaner, is_blank
from rencai.imports.dedupe import scoring
from rencai.imports.mapping import FIELDS
from rencai.imports.models import ImportBatch, ImportBatchStatus, ImportChange
from rencai.imports.readers import ImportFileError, header_texts
from rencai.talents import search
from rencai.talents.choices import TalentSource
from rencai.talents.models import Talent, TalentSearchTerm, TermKind
from rencai.talents.signals import derived_models, send_changed

CHUNK_ROWS = 5000
# A sheet with more rows than this is read and cleaned in a second process (see _Pass.run).
PARALLEL_ROWS = 20_000
LARGE_LOAD_ROWS = 100_000
# SQLite's page cache while an import writes (KiB): enough for the indexes it fills in random
# order (the name's and the ID hash's, about 100 MB at a million talents); the others it appends to.
IMPORT_CACHE_KIB = 128 * 1024
# Into an empty registry only appended pages are written (see _load_mode): a small cache holds them.
FIRST_LOAD_CACHE_KIB = 32 * 1024
MAX_STORED_ERRORS = 100_000
MODES = ("skip", "update", "fill")
NEW, UPDATE, DUPLICATE, ERROR, SKIP = "new", "update", "duplicate", "error", "skip"
STATUS_LABELS = {NEW: _("新增"), UPDATE: _("更新已有人才"), DUPLICATE: _("可能重复"), ERROR: _("有错误"),
                 SKIP: _("跳过")}
# Where the dedupe scorer's columns (``scoring.FIELDS``) hold what the exact rules compare.
BIRTH_AT, ID_HASH_AT, MOBILE_HASH_AT, REGION_AT = (scoring.FIELDS.index(name) for name in (
    "birth_date", "id_card_hash", "mobile_hash", "region_id"))
# Fields an import writes as foreign keys (the cleaner gives their ids).
FK_FIELDS = {name for name, spec in FIELDS.items() if spec.kind in ("dictionary", "category", "region")}


class ImportRefused(Exception):
    """Nothing was imported (errors in an all-or-nothing import, or no row to import)."""

    def __init__(self, batch: ImportBatch, message: str):
        super().__init__(message)
        self.batch = batch
        self.message = message


class UndoRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _Cancelled(Exception):
    pass


class _Rollback(Exception):
    pass


@dataclass
class ImportOptions:
    """What the user chose in the wizard (or on the command line)."""

    sheet: str | int = 0
    header_row: int = 0
    columns: dict[int, str] = field(default_factory=dict)
    mode: str = "skip"
    valid_only: bool = False
    fixed: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.columns = {int(k): v for k, v in (self.columns or {}).items() if v}
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}")
        unknown = (set(self.columns.values()) | set(self.fixed or {})) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")

    def to_json(self) -> dict:
        return {"sheet": self.sheet, "header_row": self.header_row,
                "columns": {str(k): v for k, v in self.columns.items()}, "mode": self.mode,
                "valid_only": self.valid_only, "fixed": dict(self.fixed or {})}

    @classmethod
    def from_json(cls, data: dict) -> ImportOptions:
        return cls(sheet=data.get("sheet", 0), header_row=int(data.get("header_row", 0)),
                   columns=data.get("columns") or {}, mode=data.get("mode", "skip"),
                   valid_only=bool(data.get("valid_only")), fixed=data.get("fixed") or {})


@dataclass(slots=True)
class RowResult:
    """One data row: its number as Excel shows it, status, clean values, errors by column."""

    number: int
    status: str
    values: dict
    errors: dict[str, str] = field(default_factory=dict)
    match: Talent | None = None
    match_id: int | None = None
    bad_columns: list[int] = field(default_factory=list)
    changes: dict = field(default_factory=dict)  # for an update: attname -> new value
    display: dict = field(default_factory=dict)  # label -> text, for the preview table (personal data masked)
    id_hash: str = ""  # lookup hashes of the ID-card and mobile numbers, for matching
    mobile_hash: str = ""
    # What the row becomes if nobody registered is this person (worked out before matching, so
    # in the reading process): the values with a new record's defaults, or what such a record
    # would lack; and, when writing, the row as stored (its id left to fill in) and its terms.
    new_values: dict | None = None
    new_errors: dict = field(default_factory=dict)
    new_row: list | None = None
    terms: list = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    def __reduce__(self):
        # A flat tuple, a million times over between the reading process and the writing one:
        # half the cost of pickling each row's fields by name.
        return RowResult, (self.number, self.status, self.values, self.errors, self.match, self.match_id,
                           self.bad_columns, self.changes, self.display, self.id_hash, self.mobile_hash,
                           self.new_values, self.new_errors, self.new_row, self.terms)


@dataclass
class Preview:
    upload: object
    options: ImportOptions
    headers: list[str]
    counts: dict
    rows: list[RowResult]
    errors: list  # [number, {column: message}, [column indexes]] as ImportBatch.errors


def _counts() -> dict:
    return {NEW: 0, UPDATE: 0, DUPLICATE: 0, ERROR: 0, SKIP: 0, "total": 0}


# --- the pass over the rows ---------------------------------------------------------------------------
class _Pass:
    def __init__(self, upload, options: ImportOptions, user, *, write: bool, keep: int,
                 progress: Callable | None = None, cancelled: Callable | None = None, reference: str = ""):
        self.upload, self.options, self.user = upload, options, user
        self.write, self.keep = write, keep
        self.progress, self.cancelled = progress, cancelled
        self.reference = reference
        self.counts = _counts()
        self.kept: list[RowResult] = []
        self.errors: list = []
        # Rows seen so far, for the same person twice in one file. Keys are kept small (a million
        # rows' keys are held until the import ends): the ID number's first 17 digits as an
        # int (the 18th follows from them), and the hash of (name, birth date) or (name, mobile),
        # apart for rows with an ID number and rows without one (two rows with different ID
        # numbers are two people, whatever else they share).
        self.seen_ids: dict[int, int] = {}
        self.seen_with_id: dict[int, int] = {}
        self.seen_without_id: dict[int, int] = {}
        self.fields = sorted(set(options.columns.values()) | set(options.fixed or {}))
        self.cleaner = Cleaner(user, self.fields)
        self.sees_all = user.sees_all_regions
        self.scope = set(scope_region_ids(user)) if not self.sees_all else set()
        self.may_change = user_can(user, Talent, "change")
        self.created = self.updated = 0  # talents written
        self.created_span: tuple[int, int] | None = None  # the first and last id of those created
        self.pending_changes: list[ImportChange] = []  # what updates replaced, saved with the batch
        self.now = timezone.now()
        self.headers: list[str] = []
        self.total_rows = 1
        self.workbook = upload.open()
        self.known_names: set[str] | None = None
        # The registry before this import (look-alikes are sought among those records only);
        # whether its search and hash indexes are away for a large load (see _load_mode), and
        # what sets them aside when the first new rows are written (None: nothing to do).
        self.registered_before = Talent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.indexes_dropped = False
        self.before_writing: Callable | None = None
        # New talents are written through the driver's bulk path, their rows prepared with the
        # values every row of the batch shares.
        self.writer = BulkWriter(Talent, self.now, with_pk=True) if write else None
        self.batch_values = {"source": TalentSource.IMPORT, "source_ref": reference,
                             "created_by_id": user.pk, "updated_by_id": user.pk}

    # --- reading ------------------------------------------------------------------------------------
    def rows(self):
        workbook = self.workbook
        sheet = self.options.sheet
        workbook.check_rows(sheet)
        self.total_rows = max(1, workbook.row_count(sheet) - self.options.header_row - 1)
        header_row = self.options.header_row
        found_header = False
        for index, cells in enumerate(workbook.iter_rows(sheet)):
            if index < header_row:
                continue
            if index == header_row:
                self.headers = header_texts(cells)
                found_header = True
                continue
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells):
                continue
            yield index + 1, cells
        if not found_header:
            raise ImportFileError(_("工作表是空的，或表头所在行（第 %(n)d 行）之后没有数据。") % {"n": header_row + 1})

    def release(self) -> None:
        """Let go of what matching kept (the keys of every row) and hand the memory freed back to
        the system: a worker runs one job after another, and the next should not start from
        this one's high-water mark."""
        self.seen_ids, self.seen_with_id, self.seen_without_id = {}, {}, {}
        self.known_names = None
        self.workbook = None
        give_back_freed_memory()

    def column_of(self, name: str) -> int | None:
        for index, field_name in self.options.columns.items():
            if field_name == name:
                return index
        return None

    def label_of(self, name: str) -> str:
        index = self.column_of(name)
        if index is not None and index < len(self.headers) and self.headers[index]:
            return self.headers[index]
        return str(FIELDS[name].label)

    # --- the pass -----------------------------------------------------------------------------------
    def run(self) -> None:
        """Two stages a chunk at a time: ``prepare`` reads and cleans (no database), ``settle``
        matches against the registry and writes. A large sheet is prepared in a second process
        (``core.parallel``), so both cores work: one cleaning the next chunk while the other
        writes this one."""
        done = 0
        with no_gc():
            for kind, payload in self.stages():
                if kind == "sheet":
                    self.headers, self.total_rows = payload
                    continue
                self.settle(payload)
                done += len(payload)
                self.report(done)
        if self.counts["total"] == 0:
            raise ImportFileError(_("工作表在表头之后没有数据行。"))
        self.report(done)

    def stages(self):
        """("sheet", (headers, total rows)) once the header is read, then ("rows", results) a
        chunk at a time."""
        sheet = self.options.sheet
        if not (can_fork() and self.workbook.row_count(sheet) > PARALLEL_ROWS):
            yield from self.produce()
            return
        # The sheet's rows, packed a chunk at a time: a few hundred bytes a row, where the sheet
        # as read holds over a kilobyte; the sheet is let go before the second process starts,
        # which shares the packed chunks with this one.
        packed = self.packed()
        self.workbook.release()
        yield "sheet", (self.headers, self.total_rows)
        if self.writer is not None:
            search.prepare_segmenter()  # loaded once here, shared by the child
        for kind, payload in forked(lambda idle: self.prepare_packed(packed, idle), share=True):
            if kind == "chunk":  # left to this process, which waited for work (see prepare_packed)
                payload = self.prepare(pickle.loads(packed[payload]))  # noqa: S301 (packed here, in packed())
            yield "rows", payload

    def produce(self):
        """``stages`` in one process."""
        chunk: list = []
        announced = False
        for number, cells in self.rows():
            if not announced:
                announced = True
                yield "sheet", (self.headers, self.total_rows)
            chunk.append((number, cells))
            if len(chunk) >= CHUNK_ROWS:
                yield "rows", self.prepare(chunk)
                chunk = []
        if not announced:
            yield "sheet", (self.headers, self.total_rows)
        if chunk:
            yield "rows", self.prepare(chunk)

    def packed(self) -> list[bytes]:
        """The sheet's data rows, ``CHUNK_ROWS`` at a time, pickled."""
        packed, chunk = [], []
        for row in self.rows():
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                packed.append(pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL))
                chunk = []
        if chunk:
            packed.append(pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL))
        return packed

    def prepare_packed(self, packed: list[bytes], idle: Callable[[], bool]):
        """In the second process: ("rows", results) for each packed chunk, or ("chunk", its
        index) when ``idle`` says the first process waits for work at that moment, for it to
        prepare that one itself while this one goes on with the next."""
        for index, chunk in enumerate(packed):
            if idle():
                yield "chunk", index
            else:
                yield "rows", self.prepare(pickle.loads(chunk))  # noqa: S301 (packed by the parent)

    def report(self, done: int) -> None:
        if self.cancelled is not None and self.cancelled():
            raise _Cancelled
        if self.progress is not None:
            self.progress(min(99, done * 100 // self.total_rows), _("已处理 %(n)s 行") % {"n": f"{done:,}"})

    def prepare(self, rows: list) -> list[RowResult]:
        """Clean a chunk of rows, and work out what each would be as a new record."""
        columns = list(self.options.columns.items())
        fixed = {name: value for name, value in (self.options.fixed or {}).items() if not is_blank(value)}
        results: list[RowResult] = []
        for number, cells in rows:
            raw = dict(fixed)  # the file's values, where the row's cell is blank
            width = len(cells)
            for index, name in columns:
                if index < width:
                    value = cells[index]
                    if value is not None and not (value.__class__ is str and not value.strip()):
                        raw[name] = value
            values, errors = self.cleaner.clean(raw)
            result = RowResult(number, ERROR if errors else NEW, values)
            if errors:
                self.fail(result, errors)
            else:
                self.prepare_new(result)
            results.append(result)
        return results

    def prepare_new(self, result: RowResult) -> None:
        values = result.values
        new = dict(values)
        self.cleaner.defaults_for_new(new, result.new_errors)
        writer = self.writer
        if writer is None and not result.new_errors:
            result.new_values = new  # shown in the preview (an import writes new_row instead)
        if writer is None or result.new_errors:
            number, mobile = values.get("id_card"), values.get("mobile")
            result.id_hash = crypto.lookup_hash("id_card", number) if number else ""
            result.mobile_hash = crypto.lookup_hash("mobile", mobile) if mobile else ""
            return
        row = self.new_row_template.copy()
        position = self.new_row_position
        for name, value in new.items():
            row[position[name]] = value
        stored = writer.stored(row, in_place=True)
        result.new_row = stored
        result.id_hash, result.mobile_hash = stored[self.id_hash_at], stored[self.mobile_hash_at]
        result.terms = search.terms_for(_Texts(new), ())

    @cached_property
    def new_row_template(self) -> list:
        """A new talent's row before its values: the defaults and what the batch gives every row."""
        return self.writer.row(self.batch_values)

    @cached_property
    def new_row_position(self) -> dict[str, int]:
        """Where each importable field goes in the row (its column, or its ``_id`` for a reference)."""
        position = self.writer.position
        return {name: position[f"{name}_id" if name in FK_FIELDS else name] for name in FIELDS}

    @cached_property
    def id_at(self) -> int:
        return self.writer.attnames.index("id")

    @cached_property
    def region_at(self) -> int:
        return self.writer.attnames.index("region_id")

    @cached_property
    def id_hash_at(self) -> int:
        return self.writer.attnames.index("id_card_hash")

    @cached_property
    def mobile_hash_at(self) -> int:
        return self.writer.attnames.index("mobile_hash")

    def settle(self, results: list[RowResult]) -> None:
        """Match a prepared chunk against the registry, count it, and write it."""
        self.match(results)
        for result in results:
            self.counts[result.status] += 1
            self.counts["total"] += 1
            if len(self.kept) < self.keep:
                self.kept.append(result)
            if result.status in (ERROR, DUPLICATE) and len(self.errors) < MAX_STORED_ERRORS:
                self.errors.append([result.number, result.errors, result.bad_columns])
        # All or nothing: after the first error nothing more is written (the rest is only checked,
        # for the report) and the transaction is rolled back at the end.
        if self.write and (self.options.valid_only or self.counts[ERROR] == 0):
            self.commit_chunk(results)

    def fail(self, result: RowResult, errors: dict[str, str]) -> None:
        result.status = ERROR
        for name, message in errors.items():
            result.errors[self.label_of(name)] = message
            index = self.column_of(name)
            if index is not None:
                result.bad_columns.append(index)

    def visible(self, region_id: int) -> bool:
        return self.may_change and (self.sees_all or region_id in self.scope)

    # --- matching -----------------------------------------------------------------------------------
    def match(self, results: list[RowResult]) -> None:
        candidates = [r for r in results if r.status != ERROR]
        by_hash: dict[str, list[RowResult]] = {}
        for result in candidates:
            number = result.values.get("id_card")
            if number:
                digest = result.id_hash
                seen_key = int(number[:17])
                first = self.seen_ids.get(seen_key)
                if first is not None:
                    self.fail(result, {"id_card": _("与第 %(n)d 行的身份证号码相同，同一人只能有一行") % {"n": first}})
                    continue
                self.seen_ids[seen_key] = result.number
                by_hash.setdefault(digest, []).append(result)
        existing = {}
        # Only a record registered before the import can hold a row's ID number (two rows of the
        # file with one number are caught above): into an empty registry, nothing to look up.
        hashes = list(by_hash) if self.registered_before else []
        for start in range(0, len(hashes), 900):
            # Not empty: the condition of the unique index on the hash, so that index serves (a large
            # load drops the plain one). No ordering: the model's own joins the regions to sort.
            for row in Talent.objects.filter(id_card_hash__in=hashes[start:start + 900]).exclude(
                    id_card_hash="").order_by().values_list(
                    "id_card_hash", "id", "region_id"):
                existing[row[0]] = row[1:]
        unresolved = []
        for result in candidates:
            if result.status == ERROR:
                continue
            digest = result.id_hash
            found = existing.get(digest) if digest else None
            if found is None:
                unresolved.append(result)
                continue
            pk, region_id = found
            if not self.visible(region_id):
                self.fail(result, {"id_card": _("其他地区已登记相同身份证号的人才，不能重复导入。如需转入本地区管理，请与市人才办联系。")})
                continue
            result.match_id = pk
            result.status = UPDATE
        self.match_by_name(unresolved)
        for result in candidates:
            if result.status == NEW:
                if result.new_errors:
                    self.fail(result, result.new_errors)
                elif result.new_values is not None:
                    result.values = result.new_values
        self.decide([r for r in candidates if r.status == UPDATE])

    def match_by_name(self, results: list[RowResult]) -> None:
        """Rows no ID number placed: the same name with the same birth date or mobile."""
        if self.known_names is None:
            # The names registered before this import, read once: most rows of a new sheet name
            # nobody registered, and are not looked up at all (people this import adds are
            # matched by ``seen_with_id`` and ``seen_without_id``).
            self.known_names = set(Talent.objects.order_by().values_list("name", flat=True).distinct()
                                   .iterator(chunk_size=20_000))
        names = {r.values["name"] for r in results} & self.known_names
        people: dict[str, list] = {}
        name_list = sorted(names)
        for start in range(0, len(name_list), 900):
            rows = Talent.objects.filter(name__in=name_list[start:start + 900]).order_by().values_list(
                *scoring.FIELDS)
            for row in rows:
                people.setdefault(row[1], []).append(row)
        for result in results:
            values = result.values
            mobile = values.get("mobile")
            birth = values.get("birth_date")
            row_has_id = bool(values.get("id_card"))
            keys = [hash(k) for k in ((values["name"], "b", birth), (values["name"], "m", mobile)) if k[2]]
            # An earlier row of the same name and birth date or mobile is perhaps this person, unless
            # both rows carry ID numbers (different ones: the same one was refused in ``match``).
            earlier = next((self.seen_without_id[k] for k in keys if k in self.seen_without_id), None)
            if earlier is None and not row_has_id:
                earlier = next((self.seen_with_id[k] for k in keys if k in self.seen_with_id), None)
            seen = self.seen_with_id if row_has_id else self.seen_without_id
            for k in keys:
                seen.setdefault(k, result.number)
            if earlier is not None:
                result.status = DUPLICATE
                result.errors[_("重复")] = _("与第 %(n)d 行可能是同一人（姓名相同，且出生日期或手机号码相同），未导入") % {"n": earlier}
                continue
            registered = people.get(values["name"])
            if not registered:
                continue
            mobile_hash = result.mobile_hash
            # FIELDS order: pk, name, gender, birth_date, id_card_hash, mobile_hash, …, region_id.
            same = [p for p in registered if self.visible(p[REGION_AT]) and (
                (birth and p[BIRTH_AT] == birth) or (mobile_hash and p[MOBILE_HASH_AT] == mobile_hash))]
            if not same:
                continue
            if len(same) == 1 and not row_has_id:
                result.match_id = same[0][0]
                result.status = UPDATE
                continue
            if row_has_id and all(p[ID_HASH_AT] for p in same):
                continue  # registered people with other ID numbers: someone else of the same name
            result.status = DUPLICATE
            result.match_id = same[0][0]
            result.errors[_("重复")] = _("可能与已登记的 %(n)d 人是同一人（姓名相同，且出生日期或手机号码相同），未导入；"
                                       "请核对后单独录入，或在查重中合并") % {"n": len(same)}
        self.match_look_alikes([r for r in results if r.status == NEW], people)

    def match_look_alikes(self, results: list[RowResult], people: dict[str, list]) -> None:
        """Rows that would be new but look like someone registered before this import, as the
        dedupe scorer judges them (the review queue's and the entry form's judgement): possible
        duplicates, held back. Candidates are those of the same name, the same full pinyin (a
        homophone typo: 章伟 for 张伟) or the same mobile number, whom the user may see; without
        the search and hash indexes (a load as large as the registry, ``bulk_load``) only the
        same name."""
        if not results or not self.registered_before:
            return
        candidates: dict[int, set] = {}  # position in results -> registered rows (FIELDS order)
        for position, result in enumerate(results):
            found = set(people.get(result.values["name"], ()))
            if found:
                candidates[position] = found
        if not self.indexes_dropped:
            by_pinyin: dict[str, list[int]] = {}
            by_mobile: dict[str, list[int]] = {}
            for position, result in enumerate(results):
                pinyin = next((term for term, kind in search.name_terms(result.values["name"])
                               if kind == TermKind.PINYIN), "")
                if pinyin:
                    by_pinyin.setdefault(pinyin, []).append(position)
                if result.mobile_hash:
                    by_mobile.setdefault(result.mobile_hash, []).append(position)
            earlier = Talent.objects.filter(pk__lte=self.registered_before).order_by()
            pinyins = sorted(by_pinyin)
            for start in range(0, len(pinyins), 900):
                terms = TalentSearchTerm.objects.filter(term__in=pinyins[start:start + 900], kind=TermKind.PINYIN,
                                                        talent_id__lte=self.registered_before)
                found = dict(terms.values_list("talent_id", "term"))
                for row in earlier.filter(pk__in=list(found)).values_list(*scoring.FIELDS):
                    for position in by_pinyin[found[row[0]]]:
                        candidates.setdefault(position, set()).add(row)
            hashes = sorted(by_mobile)
            for start in range(0, len(hashes), 900):
                for row in earlier.filter(mobile_hash__in=hashes[start:start + 900]).values_list(*scoring.FIELDS):
                    for position in by_mobile[row[MOBILE_HASH_AT]]:
                        candidates.setdefault(position, set()).add(row)
        cutoff = scoring.weight_for(scoring.DEFAULT_THRESHOLD)
        for position, rows in candidates.items():
            result = results[position]
            rows = [row for row in rows if row[0] <= self.registered_before and self.visible(row[REGION_AT])]
            if not rows:
                continue
            probe = scoring.prepare({**result.values, "id_card_hash": result.id_hash, "mobile_hash": result.mobile_hash})
            best = max(((scoring.score_prepared(probe, other), other) for other in map(scoring.prepare, rows)),
                       key=lambda pair: pair[0])
            weight, other = best
            if weight < cutoff:
                continue
            agreeing = [item["label"] for item in scoring.evidence(probe, other).values() if item["weight"] > 0]
            result.status = DUPLICATE
            result.match_id = other.record.pk
            result.errors[_("重复")] = _("可能与已登记的“%(name)s”是同一人（相似度 %(score)d%%：%(why)s），未导入；"
                                       "请核对后单独录入，或在查重中合并") % {
                "name": other.record.name, "score": round(scoring.probability(weight) * 100),
                "why": "、".join(agreeing)}

    def decide(self, matched: list[RowResult]) -> None:
        """For rows that match a record: skip, or the fields an update or fill would change."""
        if not matched:
            return
        mode = self.options.mode
        if mode == "skip":
            for result in matched:
                result.status = SKIP
            return
        ids = [r.match_id for r in matched]
        talents = {}
        query = Talent.objects.filter(pk__in=ids).order_by()
        if self.write:
            query = query.select_for_update()
        for talent in query:
            talents[talent.pk] = talent
        for result in matched:
            talent = talents[result.match_id]
            result.match = talent
            changes = {}
            for name, value in result.values.items():
                if name not in FIELDS:
                    continue
                attname = f"{name}_id" if name in FK_FIELDS else name
                current = getattr(talent, attname)
                if mode == "fill" and current not in (None, ""):
                    continue
                if current != value:
                    changes[attname] = value
            if not changes:
                result.status = SKIP
            else:
                result.changes = changes

    # --- writing ------------------------------------------------------------------------------------
    def commit_chunk(self, results: list[RowResult]) -> None:
        new = [r for r in results if r.status == NEW]
        if new:
            if self.before_writing is not None:
                # Into an empty registry no row is looked up by name either (see match_by_name).
                self.before_writing(matching=bool(self.registered_before))
                self.before_writing = None
                self.indexes_dropped = True
            writer = self.writer
            ids = writer.reserve_ids(len(new))
            rows, terms = [], []
            region_at = self.region_at
            for pk, result in zip(ids, new, strict=True):
                row = result.new_row
                row[self.id_at] = pk
                rows.append(row)
                region = row[region_at]
                terms += [(term, pk, kind, region) for term, kind in result.terms]
                result.match_id = pk
            writer.write(rows, prepared=True)
            self.created += len(ids)
            first, last = min(ids), max(ids)
            if self.created_span is not None:
                first, last = min(first, self.created_span[0]), max(last, self.created_span[1])
            self.created_span = (first, last)
            search.write_terms(terms)
        updates = [r for r in results if r.status == UPDATE]
        if updates:
            changed_fields: set[str] = set()
            talents = []
            records = []
            for result in updates:
                talent = result.match
                changes = result.changes
                before = {name: _plain(getattr(talent, name)) for name in changes}
                for name, value in changes.items():
                    setattr(talent, name, value)
                changed_fields |= set(changes)
                talent.id_card_hash = crypto.lookup_hash("id_card", talent.id_card) if talent.id_card else ""
                talent.mobile_hash = crypto.lookup_hash("mobile", talent.mobile) if talent.mobile else ""
                talent.version += 1
                talent.updated_at = self.now
                talent.updated_by_id = self.user.pk
                talents.append(talent)
                records.append(ImportChange(talent_id=talent.pk, version=talent.version,
                                            before=json.dumps(before, ensure_ascii=False)))
            fields = sorted(changed_fields | {"id_card_hash", "mobile_hash", "version", "updated_at", "updated_by"})
            Talent.objects.bulk_update(talents, fields, batch_size=500)
            self.updated += len(talents)
            self.pending_changes += records
            search.index_bulk(talents, replace=True)


class _Texts:
    """What the search index reads of a new talent (its name and texts), from its values."""

    __slots__ = ("name", *(name for name, _kind in search.TEXT_FIELDS))

    def __init__(self, values: dict):
        for name in self.__slots__:
            setattr(self, name, values.get(name, ""))


def _plain(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _restore(attname: str, value):
    field_obj = Talent._meta.get_field(attname[:-3] if attname.endswith("_id") and attname[:-3] in FK_FIELDS
                                       else attname)
    if value is not None and field_obj.get_internal_type() == "DateField":
        return dt.date.fromisoformat(value)
    return value


def display_values(cleaner: Cleaner, values: dict, user) -> dict[str, str]:
    """A row's clean values as the preview shows them: labels for references and choices, dates
    as YYYY-MM-DD, ID-card and mobile numbers masked unless the user may see them in full."""
    from rencai.core.validators import mask_id_card, mask_mobile

    full = getattr(user, "can_view_personal", False)
    out = {}
    for name, value in values.items():
        spec = FIELDS.get(name)
        if spec is None:
            continue
        if spec.kind in ("dictionary", "category"):
            text = cleaner.item_labels.get(value, "")
        elif spec.kind == "region":
            text = cleaner.region_names.get(value, "")
        elif spec.choices is not None:
            text = str(spec.choices(value).label)
        elif spec.kind == "gender":
            text = {"male": "男", "female": "女"}.get(value, "")
        elif spec.kind == "id_card":
            text = value if full else mask_id_card(value)
        elif spec.kind == "mobile":
            text = value if full else mask_mobile(value)
        elif isinstance(value, dt.date):
            text = value.isoformat()
        else:
            text = str(value)
        out[str(spec.label)] = text
    return out


# --- public functions ---------------------------------------------------------------------------------
def preview(upload, options: ImportOptions, user, limit: int = 200, progress: Callable | None = None,
            cancelled: Callable | None = None) -> Preview:
    """Clean and match every row without writing; the first ``limit`` rows kept for display.
    ``progress`` and ``cancelled`` as for ``run_import`` (a large sheet is checked in a job)."""
    run = _Pass(upload, options, user, write=False, keep=limit, progress=progress, cancelled=cancelled)
    try:
        run.run()
    except _Cancelled as exc:
        from rencai.core.jobs import JobCancelled

        raise JobCancelled from exc
    missing = {row.match_id for row in run.kept if row.match_id and row.match is None}
    found = Talent.objects.in_bulk(missing) if missing else {}
    for row in run.kept:
        if row.match is None and row.match_id:
            row.match = found.get(row.match_id)
        row.display = display_values(run.cleaner, row.values, user)
    return Preview(upload=upload, options=options, headers=run.headers, counts=run.counts, rows=run.kept,
                   errors=run.errors)


def run_import(upload, options: ImportOptions, user, progress: Callable | None = None,
               cancelled: Callable | None = None, *, batch: ImportBatch | None = None) -> ImportBatch:
    """Import the rows of ``upload`` as ``options`` say, in one transaction; return the batch.

    Raises ``ImportRefused`` when nothing was imported (row errors in an all-or-nothing import,
    or no row to write), ``ImportFileError`` for a file that cannot be read; the batch records
    the outcome either way. ``batch``: a queued batch made by the caller (the wizard's job).
    """
    if batch is None:
        batch = ImportBatch.objects.create(upload=upload, user=user, options=options.to_json(),
                                           created_by=user, updated_by=user)
    batch.status = ImportBatchStatus.RUNNING
    batch.save(update_fields=["status", "updated_at"])
    run = _Pass(upload, options, user, write=True, keep=0, progress=progress, cancelled=cancelled,
                reference=batch.reference)
    using = router.db_for_write(Talent)
    outcome = None
    rows = run.workbook.row_count(options.sheet)
    try:
        with checkpoint_later(connections[using]) if rows > PARALLEL_ROWS else nullcontext(), \
                transaction.atomic(using=using), _load_mode(using, rows) as set_aside:
            run.before_writing = set_aside
            run.run()
            if run.counts[ERROR] and not options.valid_only:
                raise _Rollback
            for change in run.pending_changes:
                change.batch = batch
            ImportChange.objects.bulk_create(run.pending_changes, batch_size=1000)
            if run.created_span is not None:
                send_changed(range(run.created_span[0], run.created_span[1] + 1))
            send_changed([change.talent_id for change in run.pending_changes])
            _finish(batch, run, ImportBatchStatus.DONE, "")
            audit.record(AuditAction.CREATE, obj=batch, actor=user, changes={
                "file": upload.file_name, "sha256": upload.sha256, "counts": batch.counts},
                message=_("导入人才：%(summary)s") % {"summary": batch.message})
    except _Rollback:
        outcome = ImportBatchStatus.FAILED
    except _Cancelled:
        outcome = ImportBatchStatus.CANCELLED
    except ImportFileError as exc:
        batch.errors = []
        batch.status = ImportBatchStatus.FAILED
        batch.message = exc.message
        batch.finished_at = timezone.now()
        batch.save(update_fields=["errors", "status", "message", "finished_at", "updated_at"])
        raise
    if rows > PARALLEL_ROWS:
        upload.keep_open(None)  # the workbook (its shared strings) is read again if ever needed
        run.release()
    if outcome is not None:
        run.created = run.updated = 0
        _finish(batch, run, outcome, "")
        if outcome == ImportBatchStatus.CANCELLED:
            batch.message = _("导入已取消，没有导入任何数据。")
        batch.save(update_fields=["message", "updated_at"])
        raise ImportRefused(batch, batch.message)
    if progress is not None:
        progress(100, batch.message)
    return batch


def run_batch(batch: ImportBatch, progress: Callable | None = None, cancelled: Callable | None = None) -> ImportBatch:
    """Run a queued batch (made by ``queue_batch``) as its user: what the background job calls."""
    with audit.acting(batch.user):
        return run_import(batch.upload, ImportOptions.from_json(batch.options), batch.user, progress, cancelled,
                          batch=batch)


def queue_batch(upload, options: ImportOptions, user) -> ImportBatch:
    """A batch waiting to be run (by a job, or by ``run_batch`` at once)."""
    return ImportBatch.objects.create(upload=upload, user=user, options=options.to_json(),
                                      status=ImportBatchStatus.QUEUED, created_by=user, updated_by=user)


# The plain index a large load keeps for matching: rows are matched by name as it goes (and by ID
# number through the unique index, which stays; without either, each chunk's lookup would read
# every row written so far).
MATCH_INDEXES = (("name",),)
# And those it keeps because its rows reach them in key order: an index on a column of a few
# values (new rows, numbered upwards, land at the end of their value's run) or led by the talent's
# id is as cheap to keep up as to build again at the end, which would read the whole table once
# for each. Indexes filled in random order (names within a county, dates, hashes, terms) go.
APPENDED_INDEXES = (
    ("status",), ("created_by_id",), ("updated_by_id",), ("updated_at",), ("kind", "category_id"),
    ("category_id",), ("tier_id", "region_id", "kind"), ("education_id",), ("title_level_id",),
    ("liaison_officer_id",), ("native_place_id",), ("work_province_id",), ("region_id",), ("region_id", "id"),
    ("talent_id", "term", "kind"),
)


@contextmanager
def _load_mode(using: str, rows: int):
    """A large page cache on SQLite while writing; and for a load as large as the registry itself
    (a first load of a county's or the city's whole list), a function that sets the registry's
    and the search index's plain indexes aside (``core.loading.bulk_load``: all but those
    matching reads), called when the first new rows are written — a file imported again, whose
    rows are all registered, writes none and keeps them — and builds them again once at the end.
    Inside the import's transaction, so a failure puts them back too."""
    connection = connections[using]
    large = rows >= LARGE_LOAD_ROWS and rows >= Talent.objects.using(using).count()
    with sqlite_cache(connection, IMPORT_CACHE_KIB), ExitStack() as stack:
        def set_aside(*, matching: bool):
            # Into an empty registry nothing is looked up (the file's own rows are matched in
            # memory), so the name and ID-number indexes go too, and every page written is an
            # appended one: a small cache holds them.
            stack.enter_context(bulk_load(connection, [Talent, TalentSearchTerm],
                                          keep=(MATCH_INDEXES if matching else ()) + APPENDED_INDEXES,
                                          unique=() if matching else [("id_card_hash",)], analyze=[TalentSearchTerm]))
            if not matching:
                stack.enter_context(sqlite_cache(connection, FIRST_LOAD_CACHE_KIB))

        yield set_aside if large else None


def _finish(batch: ImportBatch, run: _Pass, status: str, message: str) -> None:
    counts = run.counts
    created, updated = run.created, run.updated
    batch.counts = {"created": created, "updated": updated, "skipped": counts[SKIP], "duplicates": counts[DUPLICATE],
                    "errors": counts[ERROR], "total": counts["total"]}
    batch.errors = run.errors
    batch.status = status
    batch.finished_at = timezone.now()
    if status == ImportBatchStatus.FAILED:
        batch.message = _("有 %(errors)d 行有错误，本次没有导入任何数据。请下载错误报告，改正后重新导入，"
                          "或选择“只导入无误的行”。") % {"errors": counts[ERROR]}
    else:
        batch.message = message or _("共 %(total)d 行：新增 %(created)d，更新 %(updated)d，跳过 %(skipped)d，"
                                     "可能重复 %(duplicates)d，有错误 %(errors)d。") % batch.counts
    batch.save(update_fields=["counts", "errors", "status", "finished_at", "message", "updated_at"])


def undo(batch: ImportBatch, user) -> None:
    """Remove the talents a batch created and put back the values it replaced, in one
    transaction; refused (``UndoRefused``) when any of those records changed since."""
    if batch.status != ImportBatchStatus.DONE:
        raise UndoRefused(_("只有已完成的导入批次可以撤销。"))
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != ImportBatchStatus.DONE:
            raise UndoRefused(_("只有已完成的导入批次可以撤销。"))
        created = Talent.objects.filter(source_ref=batch.reference, source=TalentSource.IMPORT)
        allowed = Talent.objects.restrict(user, "delete").filter(source_ref=batch.reference)
        total = created.count()
        if allowed.count() != total:
            raise UndoRefused(_("本批次导入的人才中有不在您数据范围内的记录，不能撤销。"))
        changed = created.exclude(version=1).count()
        if changed:
            raise UndoRefused(_("本批次新增的人才中有 %(n)d 条在导入后已被修改，不能撤销。") % {"n": changed})
        related = _related_rows(created)
        if related:
            raise UndoRefused(_("本批次新增的人才已有关联记录（%(what)s），不能撤销。") % {"what": related})
        changes = list(batch.changes.all())
        current = {t.pk: t for t in Talent.objects.select_for_update().filter(pk__in=[c.talent_id for c in changes])}
        stale = [c for c in changes if c.talent_id not in current or current[c.talent_id].version != c.version]
        if stale:
            raise UndoRefused(_("本批次更新的人才中有 %(n)d 条在导入后又被修改，不能撤销。") % {"n": len(stale)})
        restored = []
        fields: set[str] = set()
        now = timezone.now()
        for change in changes:
            talent = current[change.talent_id]
            for attname, value in json.loads(change.before).items():
                setattr(talent, attname, _restore(attname, value))
                fields.add(attname)
            talent.id_card_hash = crypto.lookup_hash("id_card", talent.id_card) if talent.id_card else ""
            talent.mobile_hash = crypto.lookup_hash("mobile", talent.mobile) if talent.mobile else ""
            talent.version += 1
            talent.updated_at, talent.updated_by = now, user
            restored.append(talent)
        if restored:
            Talent.objects.bulk_update(restored, sorted(fields | {"id_card_hash", "mobile_hash", "version",
                                                                  "updated_at", "updated_by"}), batch_size=500)
            search.index_bulk(restored, replace=True)
            send_changed([talent.pk for talent in restored])
        using = router.db_for_write(Talent)
        ids = list(created.values_list("id", flat=True))
        for start in range(0, len(ids), 900):
            part = ids[start:start + 900]
            TalentSearchTerm.objects.filter(talent_id__in=part)._raw_delete(using)
            for model in derived_models():
                model._base_manager.filter(talent_id__in=part)._raw_delete(using)
            Talent.objects.filter(pk__in=part)._raw_delete(using)
        batch.status = ImportBatchStatus.UNDONE
        batch.undone_at, batch.undone_by = now, user
        batch.save(update_fields=["status", "undone_at", "undone_by", "updated_at"])
        audit.record(AuditAction.DELETE, obj=batch, actor=user, changes={
            "removed": len(ids), "restored": len(restored)},
            message=_("撤销导入：删除新增的 %(removed)d 人，恢复更新的 %(restored)d 人") % {
                "removed": len(ids), "restored": len(restored)})


def _related_rows(created) -> str:
    """Names of the records that hang off the created talents (other than search terms)."""
    found = []
    derived = derived_models()
    for relation in Talent._meta.related_objects:
        model = relation.related_model
        if model is TalentSearchTerm or model in derived:
            continue
        if relation.many_to_many:
            through = relation.through
            link = next(f for f in through._meta.fields if f.related_model is Talent)
            query = through.objects.filter(**{f"{link.name}__in": created})
        else:
            query = model._base_manager.filter(**{f"{relation.field.name}__in": created})
        if query.exists():
            found.append(str(model._meta.verbose_name))
    for m2m in Talent._meta.many_to_many:
        if m2m.remote_field.through.objects.filter(**{f"{m2m.m2m_field_name()}__in": created}).exists():
            found.append(str(m2m.verbose_name))
    return "、".join(dict.fromkeys(found))


# --- files for the user -------------------------------------------------------------------------------
def error_report(batch_or_preview) -> bytes:
    """The rows with errors (and possible duplicates) as .xlsx: the original cells, a 错误原因
    column, and the bad cells highlighted."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    if isinstance(batch_or_preview, ImportBatch):
        upload = batch_or_preview.upload
        options = ImportOptions.from_json(batch_or_preview.options)
    else:
        upload, options = batch_or_preview.upload, batch_or_preview.options
    errors = {number: (messages, set(columns)) for number, messages, columns in batch_or_preview.errors}
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(_("错误报告")))
    bad = PatternFill("solid", fgColor="FFC7CE")
    bold = Font(bold=True)
    workbook = upload.open()
    width = 0
    for index, cells in enumerate(workbook.iter_rows(options.sheet)):
        number = index + 1
        if index == options.header_row:
            width = len(cells)
            header = [WriteOnlyCell(sheet, value=_cell(v)) for v in cells]
            for cell in header:
                cell.font = bold
            reason = WriteOnlyCell(sheet, value=str(_("错误原因")))
            reason.font = bold
            sheet.append([WriteOnlyCell(sheet, value=str(_("行号")))] + header + [None] * (width - len(cells)) + [reason])
            continue
        found = errors.get(number)
        if found is None:
            continue
        messages, columns = found
        row = []
        for column, value in enumerate(cells):
            cell = WriteOnlyCell(sheet, value=_cell(value))
            if column in columns:
                cell.fill = bad
            row.append(cell)
        row += [None] * (max(width, len(cells)) - len(cells))
        text = "；".join(f"{column}：{message}" for column, message in messages.items())
        sheet.append([number, *row, text])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value):
    return spreadsheet_text(value) if isinstance(value, str) else value  # never a formula in a file we hand out


def template_workbook() -> bytes:
    """A blank sheet to fill in: the headers, drop-down lists for the columns with fixed values,
    text format for ID and phone columns, and an instructions sheet (填写说明)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from rencai.core.models import DictionaryItem

    book = Workbook()
    sheet = book.active
    sheet.title = str(_("人才信息"))
    lists = book.create_sheet(str(_("可选值")))
    guide = book.create_sheet(str(_("填写说明")))
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    list_column = 0
    for index, spec in enumerate(FIELDS.values(), 1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=str(spec.label) + ("*" if spec.required else ""))
        cell.font = Font(bold=True, color="C00000" if spec.required else "000000")
        cell.fill = head_fill
        sheet.column_dimensions[letter].width = max(12, len(str(spec.label)) * 2 + 4)
        if spec.kind in ("id_card", "mobile"):
            for row in range(2, 1002):
                sheet.cell(row=row, column=index).number_format = "@"
        options: list[str] = []
        if spec.choices is not None:
            options = [str(label) for _value, label in spec.choices.choices]
        elif spec.kind == "gender":
            options = ["男", "女"]
        elif spec.kind == "dictionary":
            options = list(DictionaryItem.objects.filter(dictionary__code=spec.dictionary, is_active=True)
                           .order_by("sort_order", "code").values_list("label", flat=True))
        if options:
            list_column += 1
            list_letter = get_column_letter(list_column)
            lists.cell(row=1, column=list_column, value=str(spec.label))
            for row, option in enumerate(options, 2):
                lists.cell(row=row, column=list_column, value=option)
            validation = DataValidation(type="list", formula1=f"'{lists.title}'!${list_letter}$2:${list_letter}${len(options) + 1}",
                                        allow_blank=True, showErrorMessage=False)
            validation.add(f"{letter}2:{letter}10000")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "B2"
    guide.append([str(_("栏目")), str(_("是否必填")), str(_("填写说明"))])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    guide.append(["", "", str(_("每行一人；只有姓名必填。身份证号码、手机号码列已设为文本格式，请勿改成数字（否则后几位会丢失）。"))])
    for spec in FIELDS.values():
        guide.append([str(spec.label), str(_("必填")) if spec.required else "", spec.choices_hint])
    guide.column_dimensions["A"].width = 24
    guide.column_dimensions["C"].width = 80
    lists.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


