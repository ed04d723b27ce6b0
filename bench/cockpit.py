"""The whole cockpit (人才驾驶舱) at scale: every section's figures and charts, as the page
computes them for one request.

Builds a scratch database (an SQLite file, or a PostgreSQL database named
``rencai_bench_cockpit``) with ``rencai demo --size N`` (N talents with their 入库 dates over six
years, five contact records each); on PostgreSQL then ``VACUUM ANALYZE``. Then it times
``dashboards.services.cockpit_data`` — every figure and chart of every section the viewer sees —
for:

- a city-wide viewer (the demo's leader) with no filter;
- the same with filters (在外人才, entered in the last three years);
- the demo's 盐湖区 officer (``demo_yanhu``), whose scope narrows every query;

and, once for the city-wide viewer, each chart on its own, so the slowest show.

Usage (from the checkout, after ./run or ./test has installed .venv):

    .venv/bin/python bench/cockpit.py --size 1000000 --db sqlite
    .venv/bin/python bench/cockpit.py --size 1000000 --db postgres

``--scratch DIR`` keeps the database (and its keys) in DIR and reuses it on the next run (run
``rencai migrate`` on it first when the code has new migrations). The figures go to stdout and,
with --write, into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
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


def run(repeat: int) -> tuple[list[tuple[str, float, float]], list[tuple[str, float]], int]:
    from django.utils import timezone

    from rencai.core.models import User
    from rencai.dashboards import services
    from rencai.dashboards.cockpit import CockpitQuery, sections_for
    from rencai.talents.choices import TalentKind
    from rencai.talents.models import Talent

    leader = User.objects.get(username="demo_leader")
    officer = User.objects.get(username="demo_yanhu")
    since = timezone.localdate() - dt.timedelta(days=3 * 365)
    cases = [
        ("whole city, no filter (leader)", leader, {}),
        ("whole city, 在外人才 entered in the last 3 years", leader,
         {"kind": TalentKind.NATIVE, "registered_from": since}),
        ("盐湖区 officer, no filter", officer, {}),
    ]
    rows = []
    for label, user, filters in cases:
        samples = timed(lambda u=user, f=filters: services.cockpit_data(CockpitQuery(u, dict(f))), repeat)
        median, p95 = summary(samples)
        rows.append((label, median, p95))
        print(f"{label}: median {median:.0f} ms, p95 {p95:.0f} ms", file=sys.stderr)
    per_chart = []
    query = CockpitQuery(leader, {})
    for section in sections_for(leader):
        if section.figures:
            started = time.perf_counter()
            section.figures(query)
            per_chart.append((f"{section.key}: figures", (time.perf_counter() - started) * 1000))
        for chart in section.charts:
            started = time.perf_counter()
            services.chart_data(chart, query)
            per_chart.append((f"{section.key}: {chart.key}", (time.perf_counter() - started) * 1000))
    return rows, per_chart, Talent.objects.count()


def notes(rows, per_chart, talents: int, db: str) -> str:
    slowest = sorted(per_chart, key=lambda r: -r[1])[:6]
    worst = max(p95 for _label, _median, p95 in rows)
    verdict = "within" if worst <= TARGET_MS else "over"
    return "\n".join([
        f"{talents:,} talents on {db}. The whole cockpit is every figure and chart of every section "
        f"({len(per_chart)} queries' worth) computed fresh by plain GROUP BY queries over the registry: "
        f"the worst p95 is {worst:,.0f} ms, {verdict} the {TARGET_MS} ms target.",
        "",
        "Slowest parts for the city-wide viewer (one run, ms): "
        + "; ".join(f"{label} {ms:,.0f}" for label, ms in slowest) + ".",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--scratch", type=Path, help="keep the database here and reuse it next time")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    with demo_database(args.db, args.size, args.scratch, PG_DATABASE) as env:
        setup(env)
        rows, per_chart, talents = run(args.repeat)
        from django.db import connections

        connections.close_all()
    text = notes(rows, per_chart, talents, args.db)
    print(text, file=sys.stderr)
    if args.write:
        from bench_report import write_section

        command = f".venv/bin/python bench/cockpit.py --size {args.size} --db {args.db} --write"
        title = f"Cockpit: every figure and chart over {talents:,} talents on {args.db}"
        write_section(f"cockpit-{args.db}", title, command, rows, text)


if __name__ == "__main__":
    main()
