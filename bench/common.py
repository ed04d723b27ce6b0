"""What every benchmark shares: a scratch database, the ``rencai`` command, timing.

A benchmark builds its data in a scratch database (an SQLite file in a scratch folder, or a
PostgreSQL database of its own name on ``RENCAI_BENCH_POSTGRES``), so it never touches var/ or
the test database, and times with ``timed``/``summary`` (median and p95 in milliseconds).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("RENCAI_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def recreate_postgres(database: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_ADMIN_URL}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database}")
        conn.execute(f"CREATE DATABASE {database}")


def drop_postgres(database: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_ADMIN_URL}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database}")


def scratch_env(db: str, scratch: Path, database: str, *, fresh: bool = True) -> dict[str, str]:
    """The environment of a rencai working on the scratch database: ``db`` is sqlite (a file in
    ``scratch``) or postgres (``database``, created anew when ``fresh``)."""
    if db == "sqlite":
        url = f"sqlite:///{scratch / 'bench.sqlite3'}"
    else:
        url = f"{PG_ADMIN_URL}/{database}"
        if fresh:
            recreate_postgres(database)
    env = dict(os.environ)
    env.update(
        RENCAI_DATABASE_URL=url,
        RENCAI_VAR_DIR=str(scratch / "var"),
        RENCAI_PLAIN_STATIC="true",
        RENCAI_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="rencai.settings",
    )
    return env


def rencai(env: dict[str, str], *args: str) -> str:
    """Run ``rencai ARGS`` as its own process; stop the benchmark with its output if it fails."""
    command = [str(ROOT / ".venv" / "bin" / "rencai"), *args]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def scratch_folder(kept: Path | None):
    """(folder, fresh, holder): ``kept`` (created if need be; fresh until a build marks it built)
    or a temporary folder, which ``holder.cleanup()`` removes."""
    if kept is not None:
        kept.mkdir(parents=True, exist_ok=True)
        return kept, not (kept / "built").exists(), None
    holder = tempfile.TemporaryDirectory(prefix="rencai-bench-")
    return Path(holder.name), True, holder


def build_demo_registry(env: dict[str, str], db: str, size: int, scratch: Path, database: str) -> None:
    """``rencai init`` and ``rencai demo --size SIZE`` in the scratch database, marked built in
    ``scratch`` so a run with the same scratch folder reuses it."""
    started = time.perf_counter()
    rencai(env, "init", "--no-static")
    rencai(env, "demo", "--size", str(size))
    if db == "postgres":
        # What autovacuum does a while after a bulk load, done now: statistics for the planner,
        # and the visibility map that lets index-only scans skip the table.
        import psycopg

        with psycopg.connect(f"{PG_ADMIN_URL}/{database}", autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    (scratch / "built").write_text(str(size))
    print(f"built {size:,} talents in {time.perf_counter() - started:.0f} s", file=sys.stderr)


@contextmanager
def demo_database(db: str, size: int, kept: Path | None, database: str):
    """The environment of a rencai on ``rencai demo --size SIZE`` in a scratch database: the one
    kept in ``kept`` if it was built there before, else built now; a database not kept is removed
    afterwards (close the connections to it first)."""
    scratch, fresh, holder = scratch_folder(kept)
    env = scratch_env(db, scratch, database, fresh=fresh)
    if fresh:
        build_demo_registry(env, db, size, scratch, database)
    else:
        rencai(env, "migrate", "-v0")  # a kept database gets the code's newer migrations
    try:
        yield env
    finally:
        if holder is not None:
            holder.cleanup()
            if db == "postgres":
                drop_postgres(database)


def timed(fn, repeat: int) -> list[float]:
    """``repeat`` timings of ``fn`` in milliseconds, after one call that warms caches."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    """(median, p95) of ``samples``."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95
