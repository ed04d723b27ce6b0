"""Writing benchmark figures into docs/benchmarks.md, one section per benchmark and database.

Each run replaces its own section (between marker comments) and leaves the others alone, so
every figure on the page carries the command and the date that produced it.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Measured on the project's CI machine kind: 2 cores, 24 GiB, shared and noisy, so read medians
and ratios rather than single figures. Each section names the command that reproduces it;
run it from the checkout after `./test` (or `./run`) has installed `.venv/`.
"""


def write_section(key: str, title: str, command: str, rows: list[tuple], notes: str = "",
                  header: list[str] | None = None) -> None:
    """Put a table of ``rows`` (a label, then figures) under ``title`` into docs/benchmarks.md."""
    header = header or ["case", "median (ms)", "p95 (ms)"]
    body = [
        f"<!-- bench:{key} -->",
        f"## {title}",
        "",
        f"`{command}` — {dt.date.today().isoformat()}, Python {platform.python_version()}, {os.cpu_count()} cores",
        "",
        "| " + " | ".join(header) + " |",
        "| --- |" + " ---: |" * (len(header) - 1),
        *["| " + " | ".join([str(row[0]), *(f"{v:.1f}" if isinstance(v, float) else str(v) for v in row[1:])]) + " |" for row in rows],
    ]
    if notes:
        body += ["", notes]
    body.append(f"<!-- /bench:{key} -->")
    section = "\n".join(body)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    pattern = re.compile(rf"<!-- bench:{re.escape(key)} -->.*?<!-- /bench:{re.escape(key)} -->", re.S)
    text = pattern.sub(lambda _m: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")
