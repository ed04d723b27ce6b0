"""Loading the reference data shipped in ``core/data/``: regions (GB/T 2260) and dictionaries.

Loading is idempotent and safe to repeat on every ``rencai init``:

- rows are matched by code; missing ones are created in bulk;
- a shipped row whose values changed in a newer release (a county renamed, a label corrected)
  is updated, unless an administrator has edited that row: every edit made through rencai is
  change-logged, while the loader writes in bulk without per-row entries, so a row with any
  audit entry of its own is one somebody touched, and it is left as they made it;
- rows that a newer release no longer ships are kept (records may still point at them);
- the whole load is one transaction and, when it changed anything, one summary audit event
  (``refdata``) with the counts, rather than thousands of per-row entries.

Files (see ``core/data/README.md``): ``regions.csv`` (national standard, generated from an
upstream package), ``regions_local.csv`` (the city's own zones), ``dictionaries/index.csv``
(one row per dictionary) and ``dictionaries/<code>.csv`` (its items).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources

from django.db import transaction
from django.dispatch import Signal

from rencai.core import audit
from rencai.core.models import AuditEntry, Dictionary, DictionaryItem, Region
from rencai.core.models.audit import AuditAction

REGION_FILES = ("regions.csv", "regions_local.csv")
SYNONYM_SEPARATOR = "|"
SORT_STEP = 10


def _rows(*parts: str) -> list[dict[str, str]]:
    resource = resources.files("rencai.core").joinpath("data", *parts)
    with resource.open(encoding="utf-8", newline="") as handle:
        return [{key: (value or "").strip() for key, value in row.items()} for row in csv.DictReader(handle)]


def _touched_ids(model) -> set[str]:
    """Primary keys (as audit object ids) of rows that have change-log entries of their own."""
    label = model._meta.label_lower
    return set(
        AuditEntry.objects.filter(object_type=label)
        .exclude(action=AuditAction.DELETE)
        .values_list("object_id", flat=True)
        .distinct()
    )


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    kept_edited: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "kept_edited": self.kept_edited}


def _refresh(obj, values: dict, touched: set[str], counts: Counts, *, parent_differs: bool = False) -> bool:
    """Bring an existing row up to the shipped ``values``, unless somebody edited it.

    True when the caller should save ``obj`` (the values are set on it; the parent, which each
    kind resolves its own way, is left to the caller); False when nothing differs, or when the
    row has change-log entries of its own and is kept as edited (counted).
    """
    if not parent_differs and all(getattr(obj, key) == value for key, value in values.items()):
        return False
    if str(obj.pk) in touched:
        counts.kept_edited += 1
        return False
    for key, value in values.items():
        setattr(obj, key, value)
    return True


@dataclass
class LoadSummary:
    regions: Counts = field(default_factory=Counts)
    dictionaries: Counts = field(default_factory=Counts)
    dictionary_items: Counts = field(default_factory=Counts)

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in (self.regions, self.dictionaries, self.dictionary_items))

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            "regions": self.regions.as_dict(),
            "dictionaries": self.dictionaries.as_dict(),
            "dictionary_items": self.dictionary_items.as_dict(),
        }


# --- regions ------------------------------------------------------------------------------------
def shipped_regions() -> list[dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for name in REGION_FILES:
        for row in _rows(name):
            rows[row["code"]] = row
    return list(rows.values())


def _depths(rows: dict[str, dict[str, str]]) -> dict[str, int]:
    depths: dict[str, int] = {}

    def depth(code: str) -> int:
        if code not in depths:
            parent = rows[code]["parent_code"]
            # A parent that is not shipped must already be in the database: depth counts from it.
            depths[code] = depth(parent) + 1 if parent in rows else 0
        return depths[code]

    for code in rows:
        depth(code)
    return depths


def load_regions(counts: Counts | None = None) -> Counts:
    """Create missing regions level by level (parents first), update untouched changed ones."""
    counts = counts or Counts()
    rows = {row["code"]: row for row in shipped_regions()}
    depths = _depths(rows)
    existing = {r.code: r for r in Region.objects.all()}
    touched = _touched_ids(Region)

    by_depth: dict[int, list[dict[str, str]]] = defaultdict(list)
    for code, row in rows.items():
        by_depth[depths[code]].append(row)

    changed: list[Region] = []
    moved: list[Region] = []
    for level in sorted(by_depth):
        new: list[Region] = []
        for row in sorted(by_depth[level], key=lambda r: r["code"]):
            parent_code = row["parent_code"]
            parent = existing.get(parent_code) if parent_code else None
            if parent_code and parent is None:
                raise ValueError(f"region {row['code']}: parent {parent_code} is neither shipped nor in the database")
            values = {"name": row["name"], "level": row["level"], "is_standard": row["is_standard"] == "1"}
            region = existing.get(row["code"])
            if region is None:
                region = Region(code=row["code"], parent=parent, path=f"{parent.path if parent else '/'}{row['code']}/", **values)
                new.append(region)
                continue
            parent_differs = region.parent_id != (parent.pk if parent else None)
            if not _refresh(region, values, touched, counts, parent_differs=parent_differs):
                continue
            if parent_differs:
                region.parent = parent
                moved.append(region)
            changed.append(region)
        # Bulk paths send no signals: the load is audited once, by the caller.
        Region.objects.bulk_create(new, batch_size=500)
        for region in new:
            existing[region.code] = region
        counts.created += len(new)

    if changed:
        Region.objects.bulk_update(changed, ["name", "level", "is_standard", "parent"], batch_size=500)
        counts.updated += len(changed)
    for region in moved:
        _repath(region)
    return counts


def _repath(region: Region) -> None:
    """Recompute the path of a region that moved to another parent, and of everything under it."""
    old_prefix = region.path
    parent_path = Region.objects.get(pk=region.parent_id).path if region.parent_id else "/"
    new_prefix = f"{parent_path}{region.code}/"
    if new_prefix == old_prefix:
        return
    subtree = list(Region.objects.filter(path__startswith=old_prefix))
    for node in subtree:
        node.path = new_prefix + node.path[len(old_prefix):]
    Region.objects.bulk_update(subtree, ["path"], batch_size=500)
    region.path = new_prefix


# --- dictionaries -------------------------------------------------------------------------------
def shipped_dictionaries() -> list[dict[str, str]]:
    return _rows("dictionaries", "index.csv")


def shipped_items(dictionary_code: str) -> list[dict[str, str]]:
    return _rows("dictionaries", f"{dictionary_code}.csv")


def _split_synonyms(value: str) -> list[str]:
    return [s.strip() for s in value.split(SYNONYM_SEPARATOR) if s.strip()]


def load_dictionaries(dict_counts: Counts | None = None, item_counts: Counts | None = None) -> tuple[Counts, Counts]:
    """Create missing dictionaries and items, update untouched changed ones."""
    dict_counts = dict_counts or Counts()
    item_counts = item_counts or Counts()
    touched_dicts = _touched_ids(Dictionary)
    touched_items = _touched_ids(DictionaryItem)
    existing = {d.code: d for d in Dictionary.objects.all()}

    new_dicts, changed_dicts = [], []
    for row in shipped_dictionaries():
        values = {"name": row["name"], "standard": row["standard"], "description": row["description"]}
        dictionary = existing.get(row["code"])
        if dictionary is None:
            new_dicts.append(Dictionary(code=row["code"], **values))
        elif _refresh(dictionary, values, touched_dicts, dict_counts):
            changed_dicts.append(dictionary)
    Dictionary.objects.bulk_create(new_dicts)
    Dictionary.objects.bulk_update(changed_dicts, ["name", "standard", "description"])
    dict_counts.created += len(new_dicts)
    dict_counts.updated += len(changed_dicts)
    for dictionary in new_dicts:
        existing[dictionary.code] = dictionary

    items_by_key = {(i.dictionary_id, i.code): i for i in DictionaryItem.objects.all()}
    new_items: list[tuple[DictionaryItem, str]] = []
    changed_items: list[DictionaryItem] = []
    for dict_row in shipped_dictionaries():
        dictionary = existing[dict_row["code"]]
        for position, row in enumerate(shipped_items(dict_row["code"]), start=1):
            values = {
                "label": row["label"],
                "synonyms": _split_synonyms(row.get("synonyms", "")),
                "description": row.get("description", ""),
                "sort_order": position * SORT_STEP,
            }
            parent_code = row.get("parent_code", "")
            item = items_by_key.get((dictionary.pk, row["code"]))
            if item is None:
                item = DictionaryItem(dictionary=dictionary, code=row["code"], **values)
                new_items.append((item, parent_code))
                continue
            parent = items_by_key.get((dictionary.pk, parent_code)) if parent_code else None
            parent_differs = item.parent_id != (parent.pk if parent else None)
            if not _refresh(item, values, touched_items, item_counts, parent_differs=parent_differs):
                continue
            if parent_differs and (parent is not None or not parent_code):
                item.parent = parent
            changed_items.append(item)

    # Parents first: an item may name a parent shipped in the same load.
    DictionaryItem.objects.bulk_create([item for item, _parent in new_items], batch_size=500)
    for item, _parent in new_items:
        items_by_key[(item.dictionary_id, item.code)] = item
    linked = []
    for item, parent_code in new_items:
        if parent_code:
            parent = items_by_key.get((item.dictionary_id, parent_code))
            if parent is None:
                raise ValueError(f"dictionary item {item.code}: unknown parent {parent_code}")
            item.parent = parent
            linked.append(item)
    DictionaryItem.objects.bulk_update(linked, ["parent"], batch_size=500)
    DictionaryItem.objects.bulk_update(
        changed_items, ["label", "synonyms", "description", "sort_order", "parent"], batch_size=500
    )
    item_counts.created += len(new_items)
    item_counts.updated += len(changed_items)
    return dict_counts, item_counts


# --- everything ---------------------------------------------------------------------------------
# Sent after the reference data is loaded, so an area can seed what refers to it (the liaison
# area's default cadence rules name tiers): receivers must be safe to call again.
reference_data_loaded = Signal()


@transaction.atomic
def load_reference_data() -> LoadSummary:
    """Load regions and dictionaries in one transaction; audit one summary if anything changed."""
    summary = LoadSummary()
    load_regions(summary.regions)
    load_dictionaries(summary.dictionaries, summary.dictionary_items)
    reference_data_loaded.send(sender=LoadSummary)
    if summary.changed:
        audit.record(
            AuditAction.CREATE,
            object_type="refdata",
            object_repr="参考数据（行政区划、数据字典）",
            changes=summary.as_dict(),
            message=summary_message(summary),
        )
    return summary


def summary_message(summary: LoadSummary) -> str:
    return (
        f"行政区划 新增 {summary.regions.created}、更新 {summary.regions.updated}；"
        f"数据字典 新增 {summary.dictionaries.created}、更新 {summary.dictionaries.updated}；"
        f"字典项 新增 {summary.dictionary_items.created}、更新 {summary.dictionary_items.updated}"
    )
