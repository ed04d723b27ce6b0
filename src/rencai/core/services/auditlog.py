"""Reading the audit log out: the CSV export shared by the audit pages and ``rencai audit export``.

An export is itself an audited event (who took which part of the log, and how many entries).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.apps import apps
from django.db.models import QuerySet
from django.utils import timezone

from rencai.core import audit
from rencai.core.models import AuditEntry
from rencai.core.models.audit import AuditAction

COLUMNS = (
    ("id", "编号"),
    ("created_at", "时间"),
    ("actor_name", "操作人账号"),
    ("ip_address", "来源地址"),
    ("action", "操作"),
    ("object_type", "对象类型"),
    ("object_id", "对象编号"),
    ("object_repr", "对象"),
    ("region_code", "所属地区"),
    ("message", "说明"),
    ("changes", "变更内容"),
    ("prev_hash", "前一条摘要"),
    ("entry_hash", "本条摘要"),
)
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: Any) -> str:
    """``value`` as text a spreadsheet shows as text: one that would start a formula gets a leading '."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def entry_row(entry: AuditEntry) -> list[str]:
    local = timezone.localtime(entry.created_at)
    values = {
        "id": entry.id,
        "created_at": local.strftime("%Y-%m-%d %H:%M:%S"),
        "action": entry.get_action_display(),
        "changes": json.dumps(entry.changes, ensure_ascii=False, sort_keys=True) if entry.changes else "",
    }
    return [spreadsheet_text(values.get(name, getattr(entry, name))) for name, _label in COLUMNS]


def export_rows(queryset: QuerySet[AuditEntry]) -> Iterator[list[str]]:
    yield [label for _name, label in COLUMNS]
    for entry in queryset.order_by("-id").iterator(chunk_size=2000):
        yield entry_row(entry)


def freeze(queryset: QuerySet[AuditEntry]) -> tuple[QuerySet[AuditEntry], int]:
    """The entries as they are now (not the ones written while exporting) and their number."""
    last_id = queryset.order_by("-id").values_list("id", flat=True).first() or 0
    frozen = queryset.filter(id__lte=last_id)
    return frozen, frozen.count()


def record_export(count: int, filters: dict[str, str], *, destination: str, actor_name: str | None = None) -> None:
    audit.record(
        AuditAction.EXPORT,
        object_type=AuditEntry._meta.label_lower,
        object_repr="审计日志",
        changes={"filters": filters, "rows": count},
        message=f"导出审计日志 {count} 条（{destination}）",
        actor_name=actor_name,
    )


def write_csv(rows: Iterable[list[str]], handle) -> None:
    writer = csv.writer(handle)
    for row in rows:
        writer.writerow(row)


class _Echo:
    """A file-like object whose write returns the line, for a streaming response."""

    def write(self, value: str) -> str:
        return value


def stream_csv(rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so spreadsheet programs read the file as UTF-8
    for row in rows:
        yield writer.writerow(row)


# --- showing one entry's changes ------------------------------------------------------------------
def change_rows(entry: AuditEntry) -> list[dict[str, Any]]:
    """The field changes of ``entry`` as rows of label, before and after, for the detail page."""
    model = None
    if "." in entry.object_type:
        try:
            model = apps.get_model(entry.object_type)
        except (LookupError, ValueError):
            model = None
    rows = []
    for key, value in (entry.changes or {}).items():
        row = {"key": key, "label": _field_label(model, key)}
        if isinstance(value, list) and len(value) == 2:
            row.update(kind="change", before=_display(value[0]), after=_display(value[1]))
        elif isinstance(value, dict) and set(value) <= {"added", "removed", "cleared"}:
            row.update(kind="set", added=value.get("added", []), removed=value.get("removed", []),
                       cleared="cleared" in value)
        else:
            row.update(kind="value", value=_display(value))
        rows.append(row)
    return rows


def _field_label(model, key: str) -> str:
    if model is None:
        return key
    for field in model._meta.get_fields():
        if getattr(field, "name", None) == key or getattr(field, "attname", None) == key:
            return str(getattr(field, "verbose_name", key))
    return key


def _display(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
