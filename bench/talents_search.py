"""Registry search at scale: rencai's term index against Django admin's ``search_fields``.

Builds a scratch database (an SQLite file, or a PostgreSQL database named
``rencai_bench_talents``) with ``rencai demo --size N`` (realistic names, units, fields and
counties; the search terms are written by ``talents.search.index_bulk``; on PostgreSQL then
``VACUUM ANALYZE``, as autovacuum would a while later), then times, with a
signed-in city administrator and the test client (the whole Django stack):

- search through the API, ``/api/talents/?q=…`` (a page of 50 with the capped count), for a
  two-character name, a one-character surname, a full pinyin, initials and a field word, all
  taken from the data (the most common two-character name, its surname, its pinyin …);
- the same searches on the list page ``/talents/?q=…``, and through the API for a county
  officer (盐湖区), whose scope narrows every query;
- the same searches in a Django admin changelist of talents with
  ``search_fields = ["name", "work_unit", "research_fields"]`` (``LIKE '%…%'`` on each, the
  admin's own count), on the same data: the ratio is the notes' headline;
- a filtered list page (kind + tier + region) and detail pages;
- ``index_bulk`` re-indexing 100,000 talents of the built registry (terms built and written).

Usage (from the checkout, after ./run or ./test has installed .venv):

    .venv/bin/python bench/talents_search.py --size 1000000 --db sqlite
    .venv/bin/python bench/talents_search.py --size 1000000 --db postgres

``--scratch DIR`` keeps the database (and its keys) in DIR and reuses it on the next run. The
figures go to stdout and, with --write, into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

from common import ROOT, build_demo_registry, drop_postgres, scratch_env, scratch_folder, summary, timed

PG_DATABASE = "rencai_bench_talents"
SEARCH_TARGET_MS = 50
LIST_TARGET_MS = 150
DETAIL_TARGET_MS = 50


def setup(env: dict[str, str]) -> None:
    os.environ.update(env, DJANGO_SETTINGS_MODULE="talents_search_settings")
    sys.path[:0] = [str(ROOT / "src"), str(ROOT / "bench")]
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # the admin's own tables
    # The served process's start-up (``rencai.wsgi``, as each gunicorn worker imports it): the
    # views loaded and the heap frozen out of the cycle collector's walks (``rencai.serving``).
    import rencai.wsgi  # noqa: F401


def queries() -> dict[str, str]:
    """Queries a user would type, taken from the data: the commonest two-character name, …"""
    from django.db.models import Count
    from django.db.models.functions import Length

    from rencai.talents.models import Talent
    from rencai.talents.search import name_terms

    name = (
        Talent.objects.annotate(length=Length("name")).filter(length=2).values("name")
        .annotate(n=Count("id")).order_by("-n", "name").values_list("name", flat=True)[0]
    )
    terms = {kind: term for term, kind in name_terms(name)}
    return {
        "two-character name": name,
        "one-character surname": name[0],
        "full pinyin": terms[2],
        "initials": terms[3],
        "field word": "人工智能",
    }


def plans(query: str) -> str:
    """How each database reads one prefix range, for the notes."""
    from django.db import connection

    from rencai.talents.models import TalentSearchTerm
    from rencai.talents.search import _prefix

    sql, params = TalentSearchTerm.objects.filter(_prefix(query)).values("talent_id").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN " + sql, params)
            return cursor.fetchall()[0][0].split("  (cost")[0].strip()
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return cursor.fetchall()[0][-1]


def reindex_rate(sample: int) -> tuple[float, int]:
    """Talents per second for ``index_bulk`` over ``sample`` talents of the registry (their
    terms deleted first), with the indexes in place, as an import or a rebuild runs."""
    from django.db import transaction

    from rencai.talents import search
    from rencai.talents.models import Talent, TalentSearchTerm

    fields = ["id", "name", "region", *[field for field, _kind in search.TEXT_FIELDS]]
    last = Talent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    talents = list(Talent.objects.filter(pk__gt=last - sample).only(*fields).order_by("pk"))
    with transaction.atomic():
        TalentSearchTerm.objects.filter(talent_id__gt=last - sample)._raw_delete(TalentSearchTerm.objects.db)
    search._name_cache.clear()
    search._text_cache.clear()
    search._pinyin_cache.clear()
    started = time.perf_counter()
    written = search.index_bulk(talents, replace=False)
    return len(talents) / (time.perf_counter() - started), written


def orm_search(user, query: str):
    """What search itself costs, without the API or the page around it."""
    from rencai.core.pagination import COUNT_LIMIT
    from rencai.talents.models import Talent
    from rencai.talents.search import apply_search

    def call():
        found = apply_search(Talent.objects.restrict(user, "view"), query)
        list(found[:26])
        found.order_by().values("pk")[: COUNT_LIMIT + 1].count()
    return call


def run(repeat: int, admin_repeat: int) -> tuple[list, dict]:
    from django.test import Client
    from django.urls import reverse

    from rencai.core.models import DictionaryItem, Region, User
    from rencai.core.services.tokens import create_token
    from rencai.core.testing import make_user
    from rencai.talents.models import Talent

    def user(username, role, region):
        return User.objects.filter(username=username).first() or make_user(username, roles=[role], regions=[region])

    city = user("bench_city_admin", "city_admin", "140800")
    county = user("bench_yanhu", "county_officer", "140802")
    _token, city_token = create_token(city)
    _token, county_token = create_token(county)
    browser = Client(SERVER_NAME="localhost")
    browser.force_login(city)
    api = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {city_token}")
    county_api = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {county_token}")
    facts: dict = {"queries": queries(), "counts": {}, "county_counts": {}}

    def get(client, path, expect=200):
        def call():
            response = client.get(path)
            assert response.status_code == expect, (path, response.status_code)
            return response
        return call

    results = []

    def case(label, fn, n=repeat):
        median, p95 = summary(timed(fn, n))
        results.append((label, median, p95))
        print(f"{label:70s} median {median:8.1f} ms   p95 {p95:8.1f} ms", file=sys.stderr, flush=True)

    from urllib.parse import quote

    for kind, query in facts["queries"].items():
        q = quote(query)
        body = api.get(f"/api/talents/?q={q}").json()
        facts["counts"][kind] = (body["count"], body["count_capped"])
        case(f"API search, {kind} 「{query}」 (count {body['count']:,}{'+' if body['count_capped'] else ''})",
             get(api, f"/api/talents/?q={q}"))
    for kind, query in facts["queries"].items():
        case(f"search alone (ORM: apply_search, page of 25, capped count), {kind}", orm_search(city, query))
    for kind, query in facts["queries"].items():
        case(f"list page /talents/?q= {kind} 「{query}」", get(browser, f"/talents/?q={quote(query)}"))
    for kind, query in facts["queries"].items():
        body = county_api.get(f"/api/talents/?q={quote(query)}").json()
        facts["county_counts"][kind] = body["count"]
        case(f"API search as a county officer, {kind} (count {body['count']:,})",
             get(county_api, f"/api/talents/?q={quote(query)}"))
    for kind, query in facts["queries"].items():
        case(f"Django admin changelist, search_fields, {kind}",
             get(browser, f"/bench-admin/talents/talent/?q={quote(query)}"), n=admin_repeat)

    tier = DictionaryItem.objects.get(dictionary__code="talent_tier", code="E")
    yanhu = Region.objects.get(code="140802")
    filtered = f"/talents/?kind=native&tier={tier.pk}&region={yanhu.pk}"
    case("list page, filtered (kind + tier + region)", get(browser, filtered))
    case("list page, first page unfiltered", get(browser, "/talents/"))
    rng = random.Random(2026)
    top = Talent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    ids = iter([rng.randrange(1, top + 1) for _ in range(repeat * 4)])
    existing = [pk for pk in ids if Talent.objects.filter(pk=pk).exists()]
    detail_ids = iter(existing * 2)
    case("detail page /talents/<id>/", lambda: get(browser, reverse("talent_detail", args=[next(detail_ids)]))())
    facts["plan"] = plans(facts["queries"]["one-character surname"])
    return results, facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--admin-repeat", type=int, default=30)
    parser.add_argument("--reindex", type=int, default=100_000, help="talents re-indexed to time index_bulk")
    parser.add_argument("--scratch", type=Path, help="keep the database here and reuse it next time")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    scratch, fresh, holder = scratch_folder(args.scratch)
    env = scratch_env(args.db, scratch, PG_DATABASE, fresh=fresh)
    if fresh:
        build_demo_registry(env, args.db, args.size, scratch, PG_DATABASE)
    setup(env)
    from rencai.talents.models import Talent, TalentSearchTerm

    talents, terms = Talent.objects.count(), TalentSearchTerm.objects.count()
    results, facts = run(args.repeat, args.admin_repeat)
    rate, written = reindex_rate(args.reindex)
    print(f"index_bulk: {rate:,.0f} talents/s ({written:,} terms for {args.reindex:,} talents)", file=sys.stderr)
    print(f"plan: {facts['plan']}", file=sys.stderr)
    from django.db import connections

    connections.close_all()
    if holder is not None:
        holder.cleanup()
        if args.db == "postgres":
            drop_postgres(PG_DATABASE)
    if args.write:
        write(args, results, facts, talents, terms, rate, written)


def write(args, results, facts, talents, terms, rate, written) -> None:
    from bench_report import write_section

    kinds = list(facts["queries"])
    n = len(kinds)
    api, alone, listing, county, admin = (results[i * n:(i + 1) * n] for i in range(5))
    rest = {label: (median, p95) for label, median, p95 in results[5 * n:]}
    worst_api = max(p95 for _label, _m, p95 in api)
    worst_alone = max(p95 for _label, _m, p95 in alone)
    worst_county = max(p95 for _label, _m, p95 in county)
    ratios = [admin_row[1] / api_row[1] for api_row, admin_row in zip(api, admin, strict=True)]
    filtered_p95 = rest["list page, filtered (kind + tier + region)"][1]
    detail_p95 = rest["detail page /talents/<id>/"][1]

    def verdict(value, target):
        return f"{'meets' if value <= target else 'misses'} the {target} ms target"

    notes = (
        f"{talents:,} talents from `rencai demo --size {args.size}`, {terms:,} search terms. Queries from the data: "
        + ", ".join(f"{kind} 「{query}」" for kind, query in facts["queries"].items())
        + ". City administrator unless noted; each API call returns a page of 50 and the count (capped at 10,000). "
        f"Worst API search p95 {worst_api:.1f} ms ({verdict(worst_api, SEARCH_TARGET_MS)}), of which search "
        f"itself (ORM: match, rank, page, count) is at most {worst_alone:.1f} ms p95, the rest being the API's page "
        f"of 50 (relations, serialisation, the audit entry for full values); as a county officer the worst API "
        f"search p95 is {worst_county:.1f} ms ({verdict(worst_county, SEARCH_TARGET_MS)}), its broad searches "
        "counted from the county's stretch of the (region, term, talent) index; "
        f"filtered list p95 {filtered_p95:.1f} ms ({verdict(filtered_p95, LIST_TARGET_MS)}); "
        f"detail p95 {detail_p95:.1f} ms ({verdict(detail_p95, DETAIL_TARGET_MS)}). "
        f"The Django admin changelist with `search_fields = [\"name\", \"work_unit\", \"research_fields\"]` "
        f"takes {min(ratios):.1f}–{max(ratios):.1f}x the API's median on the same searches "
        f"(its `LIKE '%…%'` reads every row, and counts them all). "
        "The benchmark's process starts as a served worker does (`rencai.wsgi`: views and pinyin tables "
        "loaded, then the heap frozen out of the cycle collector). "
        f"The prefix range is read from the index: `{facts['plan']}`. "
        f"`index_bulk` re-indexed {args.reindex:,} talents ({written:,} terms) at {rate:,.0f} talents/s "
        "with the indexes in place (the demo writes them before its indexes are rebuilt)."
    )
    repeats = "" if args.admin_repeat == 30 else f" --admin-repeat {args.admin_repeat}"
    command = f".venv/bin/python bench/talents_search.py --size {args.size} --db {args.db}{repeats} --write"
    title = f"Registry search: {talents:,} talents on {args.db}"
    write_section(f"talents-search-{args.db}", title, command, results, notes)


if __name__ == "__main__":
    main()
