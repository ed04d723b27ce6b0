"""Exports of filtered lists (导出): the rows a user sees on a list page, as .xlsx or CSV.

An export is the list page's own query: the model's FilterSet over ``restrict(user, "view")``,
with the list's search and sort, so a user can export exactly what the list shows them and never
a row more. Columns are the list table's columns (same names, same Chinese headers), plus a few
export-only ones such as the ID-card number.

Personal values (ID-card and mobile numbers) are masked as on the list page unless the user's
role may see them (``user.can_view_personal``) *and* the user ticked the confirmation; every
export, masked or not, writes one audit entry (``AuditAction.EXPORT``) naming the filters, the
columns, the row count and whether full personal values left the system.

Speed: rows are read with ``values_list`` in chunks (no model instances); labels of foreign keys
(regions, dictionary items, users) come from a per-model cache filled a chunk at a time; to-many
columns (talent databases, tags) cost one query per chunk; protected values are decrypted only
when their column is chosen. CSV goes through the C ``csv`` writer, .xlsx through the streaming
writer of ``export_xlsx``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.db import connections, models
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rencai.core import audit, crypto
from rencai.core.fields import EncryptedTextField, LookupHashField, ProtectedField
from rencai.core.models.audit import AuditAction
from rencai.core.scope import user_can
from rencai.core.tables import table_preferences
from rencai.imports.export_xlsx import XlsxStreamWriter

FORMATS = {"xlsx": gettext_lazy("Excel 工作簿（.xlsx）"), "csv": gettext_lazy("CSV 文本（.csv）")}
# utf-8-sig: the byte-order mark makes Excel read the file as UTF-8; gbk: for older tools.
ENCODINGS = {"utf-8": "utf-8-sig", "gbk": "gbk"}
CHUNK_ROWS = 5000
# Exports up to this many rows are written while the user waits; larger ones run as a job.
DIRECT_EXPORT_ROWS = 5000
# Finished export files are deleted this long after they were written (see sweep_exports).
KEEP_HOURS = 24
# A CSV cell starting with one of these is read as a formula by Excel: prefixed with '.
FORMULA_START = ("=", "+", "-", "@")


class ExportError(ValidationError):
    """An export that cannot run as asked (bad column, bad filter …), with a Chinese message."""


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export: its header and how a row's value becomes a cell."""

    name: str
    label: str
    kind: str = "str"  # str, number, date, datetime (how the .xlsx cell is typed)
    fields: tuple[str, ...] = ()  # the values_list fields it reads
    protected: bool = False
    free_text: bool = False  # typed by users (may start like a formula in CSV)


@dataclass
class ExportSpec:
    """What to export: the list's query (filters, search, sort), columns, format, masking."""

    source: str = "talents"
    query: str = ""  # the list URL's query string
    columns: list[str] = field(default_factory=list)
    format: str = "xlsx"
    encoding: str = "utf-8"
    full_personal: bool = False
    confirmed: bool = False

    def as_params(self) -> dict:
        return {"source": self.source, "query": self.query, "columns": list(self.columns), "format": self.format,
                "encoding": self.encoding, "full_personal": self.full_personal, "confirmed": self.confirmed}

    @classmethod
    def from_params(cls, params: dict) -> ExportSpec:
        known = {k: params[k] for k in cls().as_params() if k in params}
        return cls(**known)

    @property
    def extension(self) -> str:
        return self.format


# --- sources: what can be exported --------------------------------------------------------------------
class ModelExportSource:
    """The export of one model's list: its table's columns, its FilterSet, its list ordering.

    Columns are worked out from the table and the model fields: a choice field exports its label,
    a foreign key the related record's name, a to-many relation the names joined by 、, a protected
    field its (masked) value.
    """

    key = ""
    model: type[models.Model]
    table = None
    filterset = None
    ordering: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()  # model fields offered beyond the table's columns
    title = ""

    def __init__(self):
        self._columns: dict[str, ExportColumn] | None = None

    # --- columns -----------------------------------------------------------------------------------
    def columns(self) -> dict[str, ExportColumn]:
        if self._columns is None:
            found: dict[str, ExportColumn] = {}
            table = self.table([])
            for name, label in table.choosable_columns:
                bound = table.columns[name]
                column = self.column_for(name, str(label), str(bound.accessor))
                if column is not None:
                    found[name] = column
            for name in self.extra_columns:
                if name not in found:
                    model_field = self.model._meta.get_field(name)
                    found[name] = self.column_for(name, str(model_field.verbose_name), name)
            self._columns = found
        return self._columns

    def column_for(self, name: str, label: str, accessor: str) -> ExportColumn | None:
        try:
            model_field = self.model._meta.get_field(accessor.replace(".", "__").split("__")[0])
        except Exception:  # noqa: BLE001  (FieldDoesNotExist: a computed column the source must name)
            return None
        if isinstance(model_field, LookupHashField | EncryptedTextField) and not isinstance(model_field, ProtectedField):
            return None
        if model_field.many_to_many:
            return ExportColumn(name, label, "str", (), False)
        kind = "str"
        if isinstance(model_field, models.DateTimeField):
            kind = "datetime"
        elif isinstance(model_field, models.DateField):
            kind = "date"
        elif isinstance(model_field, models.IntegerField | models.FloatField | models.DecimalField) and not model_field.choices:
            kind = "number"
        free_text = isinstance(model_field, models.CharField | models.TextField) and not model_field.choices and not (
            isinstance(model_field, EncryptedTextField))
        return ExportColumn(name, label, kind, (model_field.attname,), isinstance(model_field, ProtectedField),
                            free_text)

    def default_columns(self, user) -> list[str]:
        """The columns the user sees on the list page (their column choice), in that order."""
        table = self.table([], user=user, columns=table_preferences(user, self.model._meta.label_lower).get("columns"))
        return [name for name in table.visible_columns if name in self.columns()]

    def choose_columns(self, names) -> list[str]:
        available = self.columns()
        unknown = [name for name in names if name not in available]
        if unknown:
            raise ExportError(_("没有这些列：%(names)s。可选的列：%(choices)s") % {
                "names": "、".join(unknown), "choices": "、".join(f"{k}（{c.label}）" for k, c in available.items())})
        chosen = list(dict.fromkeys(names))
        if not chosen:
            raise ExportError(_("请至少选择一列。"))
        return chosen

    # --- rows ----------------------------------------------------------------------------------------
    def queryset(self, user, query: str):
        """The rows of the list page with this query string, in its order; invalid filters refused."""
        params = QueryDict(query or "")
        base = self.model._default_manager.all()
        base = base.restrict(user, "view") if user is not None else base
        filterset = self.filterset(params or None, queryset=base, user=user)
        unknown = [key for key in params if key not in filterset.filters and key not in ("sort", "view", "after", "before")]
        if unknown:
            raise ExportError(_("没有这些筛选条件：%(names)s。可用的筛选条件：%(choices)s") % {
                "names": "、".join(unknown), "choices": "、".join(filterset.filters)})
        if filterset.is_bound and not filterset.form.is_valid():
            problems = []
            for name, errors in filterset.form.errors.items():
                label = filterset.form.fields[name].label if name in filterset.form.fields else name
                problems.append(f"{label}（{name}）：{'；'.join(errors)}")
            raise ExportError(_("筛选条件无效：%(problems)s") % {"problems": "；".join(problems)})
        queryset = filterset.qs
        sort = params.get("sort", "")
        ordering = self.sort_ordering(sort)
        if ordering:
            queryset = queryset.order_by(*ordering, "pk")
        elif not queryset.ordered or (self.ordering and not getattr(filterset, "searching", False)):
            queryset = queryset.order_by(*[self.column_order(spec) for spec in (self.ordering or ("pk",))])
        return queryset, filterset

    def sort_ordering(self, sort: str) -> list[str]:
        """The order of a list sorted by a column (``sort=-name``), as the list page orders it."""
        if not sort:
            return []
        name = sort.lstrip("-")
        table = self.table([])
        bound = next((c for c in table.columns.iterall() if c.name == name and c.orderable), None)
        if bound is None:
            return []
        order_by = bound.column.order_by
        specs = [str(s).replace(".", "__") for s in (order_by if order_by is not None else [str(bound.accessor)])]
        if sort.startswith("-"):
            specs = [s[1:] if s.startswith("-") else f"-{s}" for s in specs]
        return [self.column_order(spec) for spec in specs]

    def column_order(self, spec: str) -> str:
        """``region`` → ``region_id``: a foreign key orders by its column, as the list's keyset
        pages do, not by the related model's ordering (a join and a sort of every row)."""
        descending, name = spec.startswith("-"), spec.lstrip("-")
        if "__" not in name:
            try:
                model_field = self.model._meta.get_field(name)
            except Exception:  # noqa: BLE001  (FieldDoesNotExist: an annotation)
                model_field = None
            if model_field is not None and model_field.many_to_one:
                name = model_field.attname
        return f"-{name}" if descending else name

    def describe_filters(self, filterset) -> list[tuple[str, str]]:
        """The filters in force, as (label, value) pairs for the page and the audit entry."""
        if not filterset.is_bound or not filterset.form.is_valid():
            return []
        described = []
        for name, value in filterset.form.cleaned_data.items():
            if value in (None, "", [], ()):
                continue
            form_field = filterset.form.fields[name]
            if hasattr(form_field, "choices") and not isinstance(value, models.Model):
                value = dict(form_field.choices).get(value, value)
            described.append((str(form_field.label), str(value)))
        return described

    def converters(self, chosen: list[ExportColumn], full_personal: bool, reader: RowReader) -> list[Callable]:
        """One function per chosen column: the row tuple (of ``reader.fields``) → the cell value."""
        return [self.converter(column, full_personal, reader) for column in chosen]

    def converter(self, column: ExportColumn, full_personal: bool, reader: RowReader) -> Callable:
        by_attname = {f.attname: f for f in self.model._meta.concrete_fields}
        model_field = by_attname[column.fields[0]] if column.fields else self.model._meta.get_field(column.name)
        if model_field.many_to_many:
            names = reader.many(model_field)
            return LabelOf(names, 0)
        index = reader.index(column.fields[0])
        # Rows come from the database cursor as they are (see RowReader): ciphertexts, and on
        # SQLite dates and times as ISO text.
        if isinstance(model_field, ProtectedField):
            decrypt = crypto.decrypt
            if full_personal:
                return lambda row: decrypt(row[index]) if row[index] else ""
            mask = model_field.mask
            return lambda row: mask(decrypt(row[index])) if row[index] else ""
        if model_field.is_relation:
            return LabelOf(reader.labels(model_field), index)
        if model_field.choices:
            choice_labels = {value: str(label) for value, label in model_field.flatchoices}
            return LabelOf(choice_labels, index, keep_unknown=True)
        if isinstance(model_field, models.DateTimeField):
            return local_datetime_reader(index)
        if isinstance(model_field, models.DateField):
            return date_reader(index)
        if isinstance(model_field, models.BooleanField):
            yes, no = _("是"), _("否")
            return lambda row: "" if row[index] is None else (yes if row[index] else no)
        return RowValue(index)


class RowValue:
    """A column whose cell is the row's value as read."""

    def __init__(self, index: int):
        self.index = index

    def __call__(self, row):
        return row[self.index]

    def expression(self, name: str) -> tuple[str, dict]:
        return f"r[{self.index}]", {}


class LabelOf:
    """A column whose cell is the label of the row's value (a choice, a related record's name)."""

    def __init__(self, labels: dict, index: int, *, keep_unknown: bool = False):
        self.labels, self.index, self.keep_unknown = labels, index, keep_unknown

    def __call__(self, row):
        value = row[self.index]
        return self.labels.get(value, value if self.keep_unknown else "")

    def expression(self, name: str) -> tuple[str, dict]:
        default = f"r[{self.index}]" if self.keep_unknown else "''"
        return f"{name}.get(r[{self.index}], {default})", {name: self.labels}


def chunk_converter(converters: list[Callable], *, guarded: list[int] = ()) -> Callable[[list], list[list]]:
    """One generated function that turns a chunk of database rows into rows of cells.

    A list comprehension with every column's expression inline (a dict lookup for a label, an
    index for a plain value, a call only where a column needs one), so a row costs no function
    call per cell. ``guarded`` columns get a leading ' when they start like a formula (CSV).
    """
    cells, namespace = [], {"formula": frozenset(FORMULA_START)}
    for position, convert in enumerate(converters):
        name = f"c{position}"
        if hasattr(convert, "expression"):
            text, extra = convert.expression(name)
            namespace.update(extra)
        else:
            text, namespace[name] = f"{name}(r)", convert
        if position in guarded:
            v = f"v{position}"
            text = f"((\"'\" + {v}) if ({v} := {text}).__class__ is str and {v}[:1] in formula else {v})"
        cells.append(text)
    source = f"def convert_chunk(chunk):\n    return [[{', '.join(cells)}] for r in chunk]\n"
    exec(compile(source, "<export rows>", "exec"), namespace)  # noqa: S102  (our own generated code)
    return namespace["convert_chunk"]


def date_reader(index: int) -> Callable:
    """A date column as a date (SQLite returns ISO text, PostgreSQL a date)."""
    parse, date = dt.date.fromisoformat, dt.date

    def read(row):
        value = row[index]
        if value is None or value.__class__ is date:
            return value
        return parse(value) if isinstance(value, str) else value

    return read


def local_datetime_reader(index: int) -> Callable:
    """A timestamp as a naive local date and time to the second (as the list shows it)."""
    zone, utc = timezone.get_current_timezone(), dt.UTC

    def read(row):
        value = row[index]
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=utc)  # stored in UTC (USE_TZ)
        return value.astimezone(zone).replace(tzinfo=None, microsecond=0)

    return read


class RowReader:
    """Reads the export's rows a chunk at a time and keeps the lookups its converters use."""

    def __init__(self, queryset, fields: list[str]):
        self.queryset = queryset
        self.fields = ["pk", *[f for f in dict.fromkeys(fields) if f != "pk"]]
        self._labels: dict[type, dict] = {}
        self._many: list[tuple[models.ManyToManyField, dict]] = []
        self._fk_indexes: dict[type, list[int]] = {}

    def index(self, name: str) -> int:
        return self.fields.index(name)

    def labels(self, model_field) -> dict:
        """A dict id → name of ``model_field``'s related records, filled chunk by chunk."""
        model = model_field.related_model
        cache = self._labels.setdefault(model, {})
        self._fk_indexes.setdefault(model, []).append(self.index(model_field.attname))
        return cache

    def many(self, model_field) -> dict:
        """A dict row id → names joined by 、, refilled for each chunk."""
        names: dict = {}
        self._many.append((model_field, names))
        return names

    def chunks(self) -> Iterator[list[tuple]]:
        """The rows in chunks, read through the database's own cursor: a server-side cursor on
        PostgreSQL (constant memory), and no per-value converters — those of a values_list cost
        more than the query at a million rows; the column readers above convert what they use."""
        queryset = self.queryset.values_list(*self.fields)
        try:
            sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
        except EmptyResultSet:
            return
        with connections[queryset.db].chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while True:
                chunk = cursor.fetchmany(CHUNK_ROWS)
                if not chunk:
                    break
                self._prepare(chunk)
                yield chunk

    def _prepare(self, chunk: list[tuple]) -> None:
        db = self.queryset.db
        for model, indexes in self._fk_indexes.items():
            cache = self._labels[model]
            wanted = {row[i] for row in chunk for i in indexes} - {None} - cache.keys()
            if wanted:
                for obj in model._base_manager.using(db).filter(pk__in=wanted).order_by():
                    cache[obj.pk] = str(obj)
        if self._many:
            ids = [row[0] for row in chunk]
            for model_field, names in self._many:
                names.clear()
                through = model_field.remote_field.through
                own = model_field.m2m_field_name()
                other = model_field.m2m_reverse_field_name()
                related = model_field.related_model
                links = list(through._default_manager.using(db).filter(**{f"{own}__in": ids})
                             .values_list(f"{own}_id", f"{other}_id"))
                labels = {obj.pk: str(obj) for obj in related._base_manager.using(db)
                          .filter(pk__in={b for _a, b in links}).order_by(*related._meta.ordering or ["pk"])}
                order = {pk: n for n, pk in enumerate(labels)}
                grouped: dict[int, list[int]] = {}
                for row_id, other_id in links:
                    grouped.setdefault(row_id, []).append(other_id)
                for row_id, others in grouped.items():
                    names[row_id] = "、".join(labels[o] for o in sorted(others, key=lambda o: order.get(o, 0)) if o in labels)


class TalentExportSource(ModelExportSource):
    """The talent list (人才库): the columns of ``TalentTable`` plus ID-card number and more."""

    key = "talents"
    title = gettext_lazy("人才")
    extra_columns = ("id_card", "email", "ethnicity", "political_status", "unit_type", "admin_rank", "school",
                     "major", "discipline", "research_fields", "created_at")

    def __init__(self):
        super().__init__()
        from rencai.talents.filters import TalentFilterSet
        from rencai.talents.models import Talent
        from rencai.talents.tables import TalentTable

        self.model, self.table, self.filterset = Talent, TalentTable, TalentFilterSet
        self.ordering = ("region", "name", "id")

    def column_for(self, name, label, accessor):
        if name == "age":
            return ExportColumn("age", label, "number", ("birth_date",))
        return super().column_for(name, label, accessor)

    def converter(self, column, full_personal, reader):
        if column.name == "age":
            from rencai.talents.tables import age_on

            birth, today = date_reader(reader.index("birth_date")), timezone.localdate()

            def age(row):
                born = birth(row)
                return age_on(born, today) if born else None

            return age
        return super().converter(column, full_personal, reader)


SOURCES: dict[str, Callable[[], ModelExportSource]] = {"talents": TalentExportSource}


def get_source(key: str) -> ModelExportSource:
    try:
        return SOURCES[key]()
    except KeyError as exc:
        raise ExportError(_("不能导出“%(key)s”。") % {"key": key}) from exc


# --- running an export ----------------------------------------------------------------------------------
@dataclass
class PreparedExport:
    """An export checked against the user's permissions, ready to count and write."""

    spec: ExportSpec
    source: ModelExportSource
    queryset: Any
    filterset: Any
    columns: list[ExportColumn]
    user: Any

    @property
    def personal_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.protected]

    @property
    def reveals_personal(self) -> bool:
        return self.spec.full_personal and bool(self.personal_columns)

    def count(self) -> int:
        return self.queryset.count()

    def filters(self) -> list[tuple[str, str]]:
        return self.source.describe_filters(self.filterset)


def prepare_export(spec: ExportSpec, user) -> PreparedExport:
    """Check ``spec`` for ``user`` (``None``: the installation's operator on the command line)
    and build its query. Raises ``PermissionDenied`` or ``ExportError``."""
    source = get_source(spec.source)
    if user is not None and not user_can(user, source.model, "view"):
        raise PermissionDenied
    if spec.format not in FORMATS:
        raise ExportError(_("不支持的导出格式“%(format)s”，可选 xlsx 或 csv。") % {"format": spec.format})
    if spec.encoding not in ENCODINGS:
        raise ExportError(_("不支持的编码“%(encoding)s”，可选 utf-8 或 gbk。") % {"encoding": spec.encoding})
    names = source.choose_columns(spec.columns or (source.default_columns(user) if user else list(source.columns())))
    spec.columns = names
    if spec.full_personal:
        if user is not None and not user.can_view_personal:
            raise PermissionDenied(_("您的角色不能导出完整的个人信息。"))
        if not spec.confirmed:
            raise ExportError(_("导出完整的身份证号、手机号须勾选确认：此次导出将记入审计日志。"))
    queryset, filterset = source.queryset(user, spec.query)
    columns = [source.columns()[name] for name in names]
    return PreparedExport(spec, source, queryset, filterset, columns, user)


def write_export(prepared: PreparedExport, target, *, progress: Callable[[int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> int:
    """Write the rows to ``target`` (a path or a binary file); returns the number of rows.

    ``progress(rows_done)`` is called after each chunk; ``cancelled()`` is asked before each chunk
    and stops the export by raising ``ExportCancelled``. Nothing is audited here (see ``run_export``).
    """
    source, columns = prepared.source, prepared.columns
    fields = [f for column in columns for f in column.fields]
    reader = RowReader(prepared.queryset, fields)
    convert = source.converters(columns, prepared.spec.full_personal, reader)
    headers = [column.label for column in columns]
    written = 0

    csv_format = prepared.spec.format == "csv"
    convert_chunk = chunk_converter(
        convert, guarded=[i for i, column in enumerate(columns) if column.free_text] if csv_format else [],
    )

    def chunks() -> Iterator[list[list]]:
        nonlocal written
        for chunk in reader.chunks():
            if cancelled is not None and cancelled():
                raise ExportCancelled
            yield convert_chunk(chunk)
            written += len(chunk)
            if progress is not None:
                progress(written)

    if csv_format:
        write_csv(target, headers, chunks(), ENCODINGS[prepared.spec.encoding])
        return written
    with XlsxStreamWriter(target, sheet_name=str(source.title)) as book:
        book.write_header(headers)
        book.write_rows(itertools.chain.from_iterable(chunks()), [column.kind for column in columns])
    return written


class ExportCancelled(Exception):
    """The user cancelled the export job."""


def write_csv(target, headers: list[str], chunks, encoding: str) -> None:
    """CSV with a header row, written a chunk of rows at a time. In GBK a character GBK lacks
    becomes ``?`` (the UTF-8 file keeps everything)."""
    opened = isinstance(target, str | Path)
    raw = open(target, "wb") if opened else target  # noqa: SIM115  (closed below)
    try:
        text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="", write_through=False)
        writer = csv.writer(text)
        writer.writerow(headers)
        for chunk in chunks:
            writer.writerows(chunk)
        text.flush()
        text.detach()
    finally:
        if opened:
            raw.close()


def audit_export(prepared: PreparedExport, rows: int, *, actor=None, actor_name: str | None = None,
                 via: str = "web") -> None:
    """The audit entry of a finished export: filters, columns, rows, and whether full personal
    values were included (flagged in the message too, so the audit list shows it)."""
    spec = prepared.spec
    filters = prepared.filters()
    message = _("导出%(what)s %(rows)d 条（%(format)s）") % {"what": prepared.source.title, "rows": rows,
                                                        "format": spec.format}
    if prepared.reveals_personal:
        message += _("，含完整个人信息：%(fields)s") % {
            "fields": "、".join(c.label for c in prepared.columns if c.protected)}
    elif prepared.personal_columns:
        message += _("，个人信息已脱敏")
    audit.record(
        AuditAction.EXPORT, actor=actor, actor_name=actor_name,
        object_type=prepared.source.model._meta.label_lower, object_repr=str(prepared.source.title),
        changes={
            "format": spec.format, "encoding": spec.encoding if spec.format == "csv" else "",
            "columns": [c.name for c in prepared.columns], "rows": rows,
            "query": spec.query, "filters": {label: value for label, value in filters},
            "full_personal": prepared.reveals_personal, "personal_columns": prepared.personal_columns,
            "via": via,
        },
        message=message,
    )


def run_export(prepared: PreparedExport, target, *, actor=None, actor_name: str | None = None, via: str = "web",
               progress=None, cancelled=None) -> int:
    """Write the export and audit it; a failed or cancelled export is not audited (nothing left)."""
    rows = write_export(prepared, target, progress=progress, cancelled=cancelled)
    audit_export(prepared, rows, actor=actor, actor_name=actor_name, via=via)
    return rows


# --- files of export jobs -------------------------------------------------------------------------------
def export_dir() -> Path:
    path = Path(settings.EXPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_path(job_id, extension: str) -> Path:
    return export_dir() / f"{job_id}.{extension}"


def download_name(source: ModelExportSource, extension: str, when=None) -> str:
    when = timezone.localtime(when or timezone.now())
    return f"{source.title}导出_{when:%Y%m%d_%H%M}.{extension}"


def sweep_exports(now: float | None = None) -> int:
    """Delete export files older than ``KEEP_HOURS`` (and half-written ones left by a crash);
    returns how many were removed. Called whenever an export job starts or a file is fetched."""
    now = now or time.time()
    removed = 0
    folder = Path(settings.EXPORT_DIR)
    if not folder.is_dir():
        return 0
    for path in folder.iterdir():
        try:
            if path.is_file() and now - path.stat().st_mtime > KEEP_HOURS * 3600:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def remove_file(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
