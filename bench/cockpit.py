"""The whole cockpit (人才驾驶舱) at scale: every section's figures and charts, as the page
computes them for one request, from the in-memory columns (the default) against plain GROUP BY
queries over the database (the same figures, ``CockpitQuery(fresh=True)``).

Builds a scratch database (an SQLite file, or a PostgreSQL database named
``rencai_bench_cockpit``) with ``rencai demo --size N`` (N talents with their 入库 dates over six
years, five contact records each); on PostgreSQL then ``VACUUM ANALYZE``. Then it times
``dashboards.services.cockpit_data`` — every figure and chart of every section the viewer sees —
for:

- a city-wide viewer (the demo's leader) with no filter;
- the same with filters (在外人才, entered in the last three years);
- the demo's 盐湖区 officer (``demo_yanhu``), whose scope narrows every query;
- the city-wide viewer right after another connection edited 100 talents (each sample reads
  those changes from the log first);

each from the columns (``--repeat`` times) and by queries (``--baseline-repeat`` times: at a
million talents one costs about a minute on SQLite). It also times the first load of the
columns, which a process pays once.

Usage (from the checkout, after ./run or ./test has installed .venv):

    .venv/bin/python bench/cockpit.py --size 1000000 --db sqlite
    .venv/bin/python bench/cockpit.py --size 1000000 --db postgres

``--scratch DIR`` keeps the database (and its keys) in DIR and reuses it on the next run
(migrated to the code's schema first). The figures go to stdout and, with --write, into
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import sys
import time
from pathlib import Path

from common import ROOT, demo_database, summary, timed

PG_DATABASE = "rencai_bench_cockpit"
TARGET_MS = 300


def setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def run(repeat: int, baseline_repeat: int):
    from django.db import connection
    from django.utils import timezone

    from rencai.core.models import User
    from rencai.dashboards import replica, services
    from rencai.dashboards.cockpit import CockpitQuery, sections_for
    from rencai.talents.choices import TalentKind
    from rencai.talents.models import Talent

    leader = User.objects.get(username="demo_leader")
    officer = User.objects.get(username="demo_yanhu")
    since = timezone.localdate() - dt.timedelta(days=3 * 365)
    started = time.perf_counter()
    size = replica.replica().current().nbytes
    first_load = (time.perf_counter() - started, size)
    gc.collect()
    gc.freeze()  # as a serving worker does after start-up (rencai.serving)
    step = max(1, Talent.objects.count() // 100)
    edited = list(Talent.objects.filter(pk__in=range(1, 100 * step + 1, step)).values_list("pk", flat=True))

    def edit_then_read(fresh: bool):
        # An edit by another request (a status flip there and back, so the data stay as built).
        with connection.cursor() as cursor:
            marks = ", ".join(["%s"] * len(edited))
            cursor.execute(f"UPDATE talents_talent SET status = CASE WHEN status = 'lost' THEN 'in_contact' "  # noqa: S608
                           f"ELSE 'lost' END WHERE id IN ({marks})", edited)
        return services.cockpit_data(CockpitQuery(leader, {}, fresh=fresh))

    cases = [
        ("whole city, no filter (leader)", lambda fresh: services.cockpit_data(CockpitQuery(leader, {}, fresh=fresh))),
        ("whole city, 在外人才 entered in the last 3 years", lambda fresh: services.cockpit_data(
            CockpitQuery(leader, {"kind": TalentKind.NATIVE, "registered_from": since}, fresh=fresh))),
        ("盐湖区 officer, no filter", lambda fresh: services.cockpit_data(CockpitQuery(officer, {}, fresh=fresh))),
        ("whole city, right after 100 talents were edited", edit_then_read),
    ]
    rows = []
    for label, fn in cases:
        columns = summary(timed(lambda fn=fn: fn(False), repeat))
        queries = summary(timed(lambda fn=fn: fn(True), baseline_repeat))
        rows.append((label, *columns, *queries, queries[0] / columns[0]))
        print(f"{label}: columns median {columns[0]:.0f} ms p95 {columns[1]:.0f} ms; "
              f"queries median {queries[0]:.0f} ms p95 {queries[1]:.0f} ms", file=sys.stderr)
    per_chart = []
    for fresh in (False, True):
        query = CockpitQuery(leader, {}, fresh=fresh)
        for section in sections_for(leader):
            if section.figures:
                started = time.perf_counter()
                section.figures(query)
                per_chart.append((fresh, f"{section.key}: figures", (time.perf_counter() - started) * 1000))
            for chart in section.charts:
                started = time.perf_counter()
                services.chart_data(chart, query)
                per_chart.append((fresh, f"{section.key}: {chart.key}", (time.perf_counter() - started) * 1000))
    return rows, per_chart, Talent.objects.count(), first_load


def notes(rows, per_chart, talents: int, db: str, first_load: tuple[float, int]) -> str:
    worst = max(r[2] for r in rows)
    verdict = "within" if worst <= TARGET_MS else "over"
    ratios = sorted(r[5] for r in rows)
    slowest = sorted((r for r in per_chart if not r[0]), key=lambda r: -r[2])[:4]
    slowest_queries = sorted((r for r in per_chart if r[0]), key=lambda r: -r[2])[:4]
    return "\n".join([
        f"{talents:,} talents on {db}. The whole cockpit is every figure and chart of every section "
        f"({len(per_chart) // 2} parts). From the in-memory columns the worst p95 is {worst:,.0f} ms, "
        f"{verdict} the {TARGET_MS} ms target; plain GROUP BY queries take {ratios[0]:,.0f}× to "
        f"{ratios[-1]:,.0f}× as long (median against median).",
        "",
        f"The columns are read once per process: {first_load[0]:.1f} s here, {first_load[1] / 2**20:,.0f} MB of "
        "arrays (every later request reads only the rows the change log names).",
        "",
        "Slowest parts for the city-wide viewer (one run, ms), columns: "
        + "; ".join(f"{label} {ms:,.1f}" for _f, label, ms in slowest)
        + "; queries: " + "; ".join(f"{label} {ms:,.0f}" for _f, label, ms in slowest_queries) + ".",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--baseline-repeat", type=int, default=3)
    parser.add_argument("--scratch", type=Path, help="keep the database here and reuse it next time")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    with demo_database(args.db, args.size, args.scratch, PG_DATABASE) as env:
        setup(env)
        rows, per_chart, talents, first_load = run(args.repeat, args.baseline_repeat)
        from django.db import connections

        connections.close_all()
    text = notes(rows, per_chart, talents, args.db, first_load)
    print(text, file=sys.stderr)
    if args.write:
        from bench_report import write_section

        command = (f".venv/bin/python bench/cockpit.py --size {args.size} --db {args.db} --repeat {args.repeat} "
                   f"--baseline-repeat {args.baseline_repeat} --write")
        title = f"Cockpit: every figure and chart over {talents:,} talents on {args.db}"
        header = ["case", "columns median (ms)", "columns p95 (ms)", "queries median (ms)", "queries p95 (ms)",
                  "queries ÷ columns"]
        write_section(f"cockpit-{args.db}", title, command, rows, text, header=header)


if __name__ == "__main__":
    main()
