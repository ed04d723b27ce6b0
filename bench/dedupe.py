"""Dedupe at scale: rencai's scorer against Splink on DuckDB, on the same generated registry.

Builds a scratch SQLite registry from ``rencai.imports.dedupe.synthetic`` (seeded: N talents of
which 5% are second entries of someone already there, with homophones, one-character typos,
missing or added characters, swapped birth-date digits, missing ID numbers, changed phones); the
truth (which person each row is) rides in ``source_ref``. Then, reading the same rows with one
``values_list`` each:

- rencai: ``linkage.link`` (prepare, block, score, cluster) at the default threshold, and
  ``run_dedupe`` end to end (read, link, write the review queue);
- Splink 5 on DuckDB as a user would set it up for this data: one name comparison (exact hanzi,
  exact pinyin from pypinyin, Jaro-Winkler on the pinyin), Splink's date-of-birth comparison, gender, ID and
  mobile hashes, e-mail, 籍贯 and work unit; blocking on the birth date, the pinyin, the mobile,
  the e-mail and the initials with 籍贯; u by random sampling, m by expectation maximisation;
  pairs at match probability >= 0.5, clustered at 0.5.

Pairwise precision and recall are counted on the clusters (every two rows put in one cluster are
one predicted pair). Wall-clock times are medians of ``--repeat`` runs.

Usage (from the checkout; Splink and DuckDB from the ``bench`` extra):

    .venv/bin/python bench/dedupe.py --size 100000 [--size 1000000 --no-splink-above 100000] [--write]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, scratch_env

PRECISION_TARGET, RECALL_TARGET, SECONDS_TARGET = 0.99, 0.97, 120


def setup(scratch: Path) -> None:
    os.environ.update(scratch_env("sqlite", scratch, ""))
    sys.path[:0] = [str(ROOT / "src")]
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from rencai.core.models import Region
    from rencai.core.refdata import load_reference_data

    if not Region.objects.filter(code="140802").exists():
        load_reference_data()


def build(size: int, seed: int) -> float:
    """Write the generated registry; returns the seconds it took."""
    from django.db import transaction

    from rencai.core.models import Region
    from rencai.imports.dedupe import synthetic
    from rencai.talents.choices import TalentKind
    from rencai.talents.models import Talent

    started = time.perf_counter()
    people = synthetic.generate(size, seed=seed)
    regions = dict(Region.objects.filter(code__in=synthetic.COUNTIES).values_list("code", "pk"))
    Talent.objects.all().delete()
    with transaction.atomic():
        batch = []
        for person in people:
            batch.append(Talent(
                name=person.name, gender=person.gender, birth_date=person.birth_date, id_card=person.id_card,
                mobile=person.mobile, email=person.email, native_place_id=regions.get(person.native_place),
                work_unit=person.work_unit, region_id=regions[person.native_place or "140802"],
                kind=TalentKind.NATIVE, source_ref=f"e{person.entity}",
            ))
            if len(batch) == 10_000:
                Talent.objects.bulk_create(batch)
                batch = []
        Talent.objects.bulk_create(batch)
    return time.perf_counter() - started


def truth() -> dict[int, str]:
    from rencai.talents.models import Talent

    return dict(Talent.objects.values_list("pk", "source_ref"))


def run_rencai() -> tuple[float, list, int]:
    from rencai.imports.dedupe import linkage, scoring
    from rencai.talents.models import Talent

    started = time.perf_counter()
    records = list(Talent.objects.order_by("pk").values_list(*scoring.FIELDS))
    result = linkage.link(records)
    return time.perf_counter() - started, result.pk_clusters(), result.compared


def run_rencai_job() -> tuple[float, int]:
    from rencai.imports.dedupe.runner import run_dedupe

    started = time.perf_counter()
    result = run_dedupe()
    return time.perf_counter() - started, result.pairs


def run_splink() -> tuple[float, list]:
    import logging

    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from pypinyin import Style, lazy_pinyin
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from rencai.talents.models import Talent

    logging.getLogger("splink").setLevel(logging.WARNING)
    started = time.perf_counter()
    rows = list(Talent.objects.order_by("pk").values_list(
        "pk", "name", "gender", "birth_date", "id_card_hash", "mobile_hash", "email", "native_place_id", "work_unit",
    ))
    columns: dict[str, list] = {name: [] for name in (
        "unique_id", "name", "name_pinyin", "initials", "gender", "birth_date", "id_card_hash", "mobile_hash",
        "email", "native_place_id", "work_unit")}
    for pk, name, gender, birth, id_hash, mobile_hash, email, native, unit in rows:
        syllables = lazy_pinyin(name, style=Style.NORMAL)
        for key, value in (
            ("unique_id", pk), ("name", name), ("name_pinyin", "".join(syllables)),
            ("initials", "".join(s[:1] for s in syllables)), ("gender", gender or None), ("birth_date", birth),
            ("id_card_hash", id_hash or None), ("mobile_hash", mobile_hash or None), ("email", email or None),
            ("native_place_id", native), ("work_unit", unit or None),
        ):
            columns[key].append(value)
    db_api = DuckDBAPI()
    table = db_api.register(columns)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            # One comparison for the name, so hanzi and pinyin do not count the same evidence twice.
            cl.CustomComparison(output_column_name="name", comparison_levels=[
                cll.NullLevel("name"),
                cll.ExactMatchLevel("name"),
                cll.ExactMatchLevel("name_pinyin"),
                cll.JaroWinklerLevel("name_pinyin", 0.92),
                cll.JaroWinklerLevel("name_pinyin", 0.8),
                cll.ElseLevel(),
            ]),
            cl.DateOfBirthComparison("birth_date", input_is_string=False),
            cl.ExactMatch("gender"),
            cl.ExactMatch("id_card_hash"),
            cl.ExactMatch("mobile_hash"),
            cl.ExactMatch("email"),
            cl.ExactMatch("native_place_id"),
            cl.JaroWinklerAtThresholds("work_unit", [0.9, 0.7]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("birth_date"), block_on("name_pinyin"), block_on("mobile_hash"), block_on("email"),
            block_on("initials", "native_place_id", "gender"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(table, settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name", "birth_date", "native_place_id")], recall=0.6)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_pinyin", "native_place_id"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.5)
    members: dict = {}
    for record in clustered.as_record_list():
        members.setdefault(record["cluster_id"], []).append(record["unique_id"])
    elapsed = time.perf_counter() - started
    return elapsed, [group for group in members.values() if len(group) > 1]


def link_tuples(size: int, seed: int) -> tuple[float, str]:
    """The link alone on the generated rows as tuples (numbers hashed as the registry does), for
    sizes whose database would take longer to write than the run itself."""
    from rencai.imports.dedupe import linkage, synthetic

    people = synthetic.generate(size, seed=seed)
    records = synthetic.as_records(people)
    known = {index: person.entity for index, person in enumerate(people)}
    del people
    started = time.perf_counter()
    result = linkage.link(records)
    seconds = time.perf_counter() - started
    precision, recall, _hits, _predicted, true_pairs = linkage.pairwise_quality(result.pk_clusters(), known)
    f1 = 2 * precision * recall / (precision + recall)
    return seconds, (
        f"- {size:,} talents ({true_pairs:,} true pairs), link on tuples (no database read): compared "
        f"{result.compared:,} candidate pairs; precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f}; "
        f"{seconds:.1f} s (one run)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, action="append", help="registry sizes (default 100000)")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-splink-above", type=int, default=10**9, help="skip Splink above this size")
    parser.add_argument("--scratch", type=Path, help="keep the scratch database here")
    parser.add_argument("--tuples-above", type=int, default=10**9,
                        help="above this size, link the generated rows as tuples without writing them to the database")
    parser.add_argument("--write", action="store_true", help="write the figures into docs/benchmarks.md")
    args = parser.parse_args()
    sizes = args.size or [100_000]
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="rencai-bench-dedupe-"))
    scratch.mkdir(parents=True, exist_ok=True)
    setup(scratch)
    sys.setrecursionlimit(10_000)
    from rencai.imports.dedupe.linkage import pairwise_quality

    table: list[tuple[str, float, float]] = []
    lines = []
    for size in sizes:
        if size > args.tuples_above:
            seconds, line = link_tuples(size, args.seed)
            lines.append(line)
            print(line, flush=True)
            table.append((f"rencai link on tuples, {size:,} talents", seconds * 1000, seconds * 1000))
            continue
        from rencai.talents.models import Talent

        if args.scratch and Talent.objects.count() == size:
            print(f"reusing the {size:,} talents in {args.scratch}", flush=True)
        else:
            built = build(size, args.seed)
            print(f"built {size:,} talents in {built:.0f} s", flush=True)
        known = truth()
        repeat = args.repeat if size <= 100_000 else 1  # a million takes minutes a run: once
        timings, clusters, compared = [], [], 0
        for _ in range(repeat):
            seconds, clusters, compared = run_rencai()
            timings.append(seconds)
        precision, recall, _hits, predicted, true_pairs = pairwise_quality(clusters, known)
        median = statistics.median(timings)
        f1 = 2 * precision * recall / (precision + recall)
        job_seconds, stored = run_rencai_job()
        lines.append(
            f"- {size:,} talents ({true_pairs:,} true pairs): rencai compared {compared:,} candidate pairs; "
            f"precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f}; link {median:.1f} s (median of "
            f"{repeat}), whole job with the queue written {job_seconds:.1f} s ({stored:,} pairs)."
        )
        print(lines[-1], flush=True)
        table.append((f"rencai link, {size:,} talents", median * 1000, max(timings) * 1000))
        table.append((f"rencai job (read, link, write queue), {size:,}", job_seconds * 1000, job_seconds * 1000))
        if size <= args.no_splink_above:
            splink_times, splink_clusters = [], []
            for _ in range(repeat):
                seconds, splink_clusters = run_splink()
                splink_times.append(seconds)
            sp, sr, _h, _p, _t = pairwise_quality(splink_clusters, known)
            smedian = statistics.median(splink_times)
            sf1 = 2 * sp * sr / (sp + sr) if sp + sr else 0.0
            lines.append(
                f"- {size:,} talents, Splink 5 on DuckDB: precision {sp:.4f}, recall {sr:.4f}, F1 {sf1:.4f}; "
                f"{smedian:.1f} s (median of {repeat}, training included); rencai/Splink time "
                f"{median / smedian:.2f}x."
            )
            print(lines[-1], flush=True)
            table.append((f"Splink 5 + DuckDB, {size:,} talents", smedian * 1000, max(splink_times) * 1000))
    notes = "\n".join([
        f"Targets: precision >= {PRECISION_TARGET}, recall >= {RECALL_TARGET}, <= {SECONDS_TARGET} s at 100,000.",
        "Seeded registry of `rencai.imports.dedupe.synthetic` (5% second entries); pairwise precision and "
        "recall over the clusters.",
        *lines,
    ])
    if args.write:
        sys.path.insert(0, str(ROOT / "bench"))
        from bench_report import write_section

        command = ".venv/bin/python bench/dedupe.py " + " ".join(f"--size {size}" for size in sizes) + (
            f" --tuples-above {args.tuples_above}" if args.tuples_above < 10**9 else "") + " --write"
        write_section("dedupe-sqlite", "Dedupe (SQLite): rencai scorer vs Splink on DuckDB", command, table, notes)


if __name__ == "__main__":
    main()
