"""How long ``rencai demo --size N`` takes: the demo data at scale (the registry with its search
index, and the liaison area's contact histories and schedules).

Builds a scratch database (an SQLite file, or a PostgreSQL database named
``rencai_bench_demo``), runs ``rencai init --no-static`` in it, then times the command a user
runs, ``rencai demo --size N``, as its own process (start-up, every generator, the talents, their
histories and links, the search terms and the commit). The target is 1,000,000 talents in at
most 10 minutes on the 2-core CI machine. Afterwards it counts what was made.

Usage (from the checkout, after ./run or ./test has installed .venv):

    .venv/bin/python bench/talents_demo.py --size 1000000 --db sqlite
    .venv/bin/python bench/talents_demo.py --size 1000000 --db postgres

The figures go to stdout and, with --write, into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, drop_postgres, rencai, scratch_env

PG_DATABASE = "rencai_bench_demo"
TARGET_SECONDS = 600


def counts(env: dict[str, str]) -> dict[str, int]:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from rencai.liaison.models import ContactRecord, ContactState
    from rencai.talents.models import Talent, TalentEducation, TalentSearchTerm, TalentWork

    result = {
        "talents": Talent.objects.count(),
        "native": Talent.objects.filter(kind="native").count(),
        "search terms": TalentSearchTerm.objects.count(),
        "education rows": TalentEducation.objects.count(),
        "work rows": TalentWork.objects.count(),
        "contacts": ContactRecord.objects.count(),
        "schedules": ContactState.objects.count(),
    }
    from django.db import connections

    connections.close_all()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rencai-bench-") as scratch:
        env = scratch_env(args.db, Path(scratch), PG_DATABASE)
        rencai(env, "init", "--no-static")
        started = time.perf_counter()
        output = rencai(env, "demo", "--size", str(args.size))
        seconds = time.perf_counter() - started
        made = counts(env)
        if args.db == "sqlite":
            size_mb = sum(p.stat().st_size for p in Path(scratch).glob("bench.sqlite3*")) / 2**20
        else:
            size_mb = 0.0
    if args.db == "postgres":
        drop_postgres(PG_DATABASE)
    summary = next((line.strip() for line in output.splitlines() if line.startswith("==> demo data")), "")
    print(summary, file=sys.stderr)
    print(f"{seconds:.0f} s; {made}", file=sys.stderr)
    if args.write:
        from bench_report import write_section

        label = f"rencai demo --size {args.size} (one run, wall clock)"
        rows = [(label, seconds * 1000, seconds * 1000)]
        rate = made["talents"] / seconds if seconds else 0
        verdict = "within" if seconds <= TARGET_SECONDS else "over"
        notes = (
            f"{made['talents']:,} talents ({made['native']:,} 在外, {made['talents'] - made['native']:,} 本土), "
            f"{made['education rows']:,} education and {made['work rows']:,} work history rows and "
            f"{made['search terms']:,} search terms, {made['contacts']:,} contact records and "
            f"{made['schedules']:,} liaison schedules in {seconds / 60:.1f} min ({rate:,.0f} talents/s), "
            f"{verdict} the {TARGET_SECONDS // 60}-minute target"
            + (f"; the database file ends at {size_mb:,.0f} MiB" if size_mb else "")
            + ". One run (median and p95 are the same figure), timed around the whole command in its own process."
        )
        command = f".venv/bin/python bench/talents_demo.py --size {args.size} --db {args.db} --write"
        title = f"Demo data: rencai demo --size {args.size:,} on {args.db}"
        write_section(f"demo-talents-{args.db}", title, command, rows, notes)


if __name__ == "__main__":
    main()
