"""Deep pages of a list: rencai's keyset pages against Django's own offset Paginator.

Builds a scratch database (SQLite file, or a PostgreSQL database named ``rencai_bench``) with
ROWS organisation units spread over the counties of 运城市, then times, with the list's own
ordering (region, name):

- the rencai list page ``/orgunits/`` through the full Django stack (a signed-in city
  administrator, the test client), on the first page and on a page 90% of the way down;
- the same two pages read with ``django.core.paginator.Paginator`` (OFFSET/LIMIT plus a count),
  what a Django developer writes with ``ListView(paginate_by=25)``;
- the same two pages read with rencai's ``KeysetPaginator`` alone (no HTTP, no template).

Usage (from the checkout, after ./run or ./test has installed .venv):

    .venv/bin/python bench/pagination.py --rows 1000000 --db sqlite
    .venv/bin/python bench/pagination.py --rows 1000000 --db postgres

The figures go to stdout and, with --write, into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, drop_postgres, scratch_env, summary, timed

PG_DATABASE = "rencai_bench"


def configure(db: str, scratch: Path) -> None:
    os.environ.update(scratch_env(db, scratch, PG_DATABASE))
    import django

    django.setup()


def build(rows: int) -> None:
    from django.core.management import call_command

    from rencai.core.models import OrgUnit, Region
    from rencai.core.refdata import load_reference_data

    call_command("migrate", verbosity=0)
    load_reference_data()
    counties = list(Region.objects.filter(parent__code="140800"))
    batch = []
    started = time.perf_counter()
    for i in range(rows):
        region = counties[i % len(counties)]
        batch.append(OrgUnit(name=f"单位{i:07d}", region=region, kind="other"))
        if len(batch) == 20_000:
            OrgUnit.objects.bulk_create(batch)
            batch.clear()
    if batch:
        OrgUnit.objects.bulk_create(batch)
    print(f"built {rows:,} org units in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def run(rows: int, repeat: int) -> list[tuple[str, float, float]]:
    from django.core.paginator import Paginator
    from django.test import Client

    from rencai.core.models import OrgUnit
    from rencai.core.pagination import KeysetPaginator, encode_cursor
    from rencai.core.testing import make_user

    user = make_user("bench_city_admin", roles=["city_admin"], regions=["140800"])
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)

    ordering = ["region", "name"]
    queryset = OrgUnit.objects.restrict(user, "view").select_related("region", "parent")
    per_page = 25
    deep_offset = int(rows * 0.9)
    deep_page_number = deep_offset // per_page + 1
    anchor = OrgUnit.objects.order_by(*ordering).values_list("region_id", "name")[deep_offset - 1]
    cursor = encode_cursor(list(anchor))
    expected_next = OrgUnit.objects.order_by(*ordering).values_list("name", flat=True)[deep_offset]
    page = client.get(f"/orgunits/?after={cursor}").content.decode()
    assert expected_next in page and anchor[1] not in page, "the deep page is not the page after the cursor"

    def http(path):
        def call():
            response = client.get(path)
            assert response.status_code == 200, response.status_code
        return call

    keyset = KeysetPaginator(queryset, ordering, per_page=per_page)
    offset = Paginator(queryset.order_by(*ordering), per_page)

    def offset_page(number):
        def call():
            page = Paginator(queryset.order_by(*ordering), per_page).page(number)
            list(page.object_list)
        return call

    cases = [
        ("rencai /orgunits/ page 1 (HTTP)", http("/orgunits/")),
        (f"rencai /orgunits/ row {deep_offset:,} (HTTP)", http(f"/orgunits/?after={cursor}")),
        ("KeysetPaginator page 1", lambda: list(keyset.page())),
        (f"KeysetPaginator row {deep_offset:,}", lambda: list(keyset.page(after=cursor))),
        ("Django Paginator page 1 (count + OFFSET)", offset_page(1)),
        (f"Django Paginator page {deep_page_number:,} (count + OFFSET)", offset_page(deep_page_number)),
    ]
    assert offset.num_pages >= deep_page_number
    results = []
    for label, call in cases:
        median, p95 = summary(timed(call, repeat))
        results.append((label, median, p95))
        print(f"{label:55s} median {median:8.1f} ms   p95 {p95:8.1f} ms", file=sys.stderr)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    with tempfile.TemporaryDirectory(prefix="rencai-bench-") as scratch:
        configure(args.db, Path(scratch))
        build(args.rows)
        results = run(args.rows, args.repeat)
        from django.db import connections

        connections.close_all()
    if args.db == "postgres":
        drop_postgres(PG_DATABASE)
    if args.write:
        from bench_report import write_section

        first_http, deep_http, _k1, _k2, first_offset, deep_offset = results
        notes = (
            f"A page 90% of the way down costs {deep_http[1] / first_http[1]:.1f}x the first page in rencai; "
            f"with Django's offset Paginator it costs {deep_offset[1] / first_offset[1]:.1f}x, and rencai's deep "
            f"page is {deep_offset[1] / deep_http[1]:.1f}x faster than the offset page at the same depth "
            "(medians; rencai's figure includes the whole HTTP request with template rendering)."
        )
        command = f".venv/bin/python bench/pagination.py --rows {args.rows} --db {args.db} --write"
        write_section(f"pagination-{args.db}", f"List pages at depth: {args.rows:,} org units on {args.db}",
                      command, results, notes)


if __name__ == "__main__":
    main()
