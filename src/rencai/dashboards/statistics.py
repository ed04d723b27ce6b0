"""Counting helpers the sections share: counts grouped by a field, labelled from the field's
choices, a dictionary or the regions, in a stable order, with drill-down links.

Every helper counts over ``query.tally`` (the viewer's scope and the cockpit's filters), so a
chart can never show what its viewer may not count.
"""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.utils.translation import gettext as _

from rencai.core.models import DictionaryItem, Region
from rencai.dashboards.cockpit import CockpitQuery, Item

NOT_FILLED = "null"  # the talent list's value for 「未填写」


def by_choices(query: CockpitQuery, field: str, choices, param: str | None = None) -> list[Item]:
    """Counts by a field with choices, in the choices' order; blank last as 「未填写」."""
    counts = query.tally.grouped(field)
    param = param or field
    items = [Item(str(label), counts[value], query.talent_link(**{param: value}))
             for value, label in choices if counts.get(value)]
    blank = counts.get("", 0) + counts.get(None, 0)
    if blank:
        items.append(Item(_("未填写"), blank, query.talent_link(**{param: NOT_FILLED})))
    return items


def by_dictionary(query: CockpitQuery, field: str, codes: str | list[str], param: str | None = None,
                  top: int | None = None) -> list[Item]:
    """Counts by a dictionary reference, in the dictionary's order (or the ``top`` largest
    first, the rest as 「其他」); none as 「未填写」."""
    counts = query.tally.grouped(f"{field}_id")
    codes = [codes] if isinstance(codes, str) else codes
    param = param or field
    in_codes = [e for e in dictionary_items(query) if e.dictionary.code in codes]
    entries = [e for e in in_codes if e.pk in counts]
    ordered = sorted(entries, key=lambda e: (codes.index(e.dictionary.code), e.sort_order, e.code)) \
        if len(codes) > 1 else sorted(entries, key=lambda e: (e.sort_order, e.code))
    # Items of two dictionaries may share a label (其他): such a label names its dictionary too,
    # whichever of them the filters leave.
    seen = Counter(e.label for e in in_codes) if len(codes) > 1 else Counter()
    items = [Item(e.label if seen[e.label] <= 1 else f"{e.label}（{e.dictionary.name}）", counts[e.pk],
                  query.talent_link(**{param: e.pk}) if e.is_active else None) for e in ordered]
    if top is not None:
        items = largest(items, top)
    if counts.get(None):
        items.append(Item(_("未填写"), counts[None], query.talent_link(**{param: NOT_FILLED})))
    return items


def largest(items: list[Item], top: int) -> list[Item]:
    """The ``top`` largest items, and the rest summed as 「其他」 (no link: it is many values)."""
    items = sorted(items, key=lambda i: -i.value)
    if len(items) <= top:
        return items
    rest = sum(i.value for i in items[top:])
    return [*items[:top], Item(_("其他"), rest)]


def city_region() -> Region | None:
    return Region.objects.filter(code=settings.CITY_CODE).first()


def dictionary_items(query: CockpitQuery) -> list[DictionaryItem]:
    """Every dictionary item, with its dictionary: read once per cockpit."""
    return query.cached("dictionary_items", lambda: list(DictionaryItem.objects.select_related("dictionary")))


def regions(query: CockpitQuery) -> dict[int, tuple[str, str]]:
    """``{id: (path, name)}`` of every region (a few thousand): read once per cockpit."""
    return query.cached("regions", lambda: {pk: (path, name) for pk, path, name in
                                            Region.objects.order_by().values_list("pk", "path", "name")})


def _under_city(query: CockpitQuery, counts: dict, city: Region | None) -> tuple[list[tuple[int, str, int]], int, int]:
    """Fold region counts onto the city's counties (and zones): ``([(county id, name, n)] in
    code order, n at the city itself, n elsewhere)``; the ``None`` key is left to the caller."""
    known = regions(query)
    if city is None:
        return [], 0, sum(n for k, n in counts.items() if k is not None)
    depth = city.path.count("/")  # a county's path has one more code than its city's
    county_paths: dict[str, int] = {}
    at_city = elsewhere = 0
    for pk, n in counts.items():
        if pk not in known:
            continue
        path = known[pk][0]
        if pk == city.pk:
            at_city += n
        elif path.startswith(city.path):
            county_path = "/".join(path.split("/")[:depth + 1]) + "/"
            county_paths[county_path] = county_paths.get(county_path, 0) + n
        else:
            elsewhere += n
    by_path = {path: (pk, name) for pk, (path, name) in known.items() if path in county_paths}
    counties = [(*by_path[path], county_paths[path]) for path in sorted(by_path)]
    return counties, at_city, elsewhere


def by_county(query: CockpitQuery, field: str, param: str, *, city_label: str, elsewhere_label: str) -> list[Item]:
    """Counts by a region reference folded onto the city's counties, in code order."""
    counts = query.tally.grouped(f"{field}_id")
    city = query.cached("city", city_region)
    counties, at_city, elsewhere = _under_city(query, counts, city)
    items = [Item(name, n, query.talent_link(**{param: pk})) for pk, name, n in counties]
    if at_city:
        items.append(Item(city_label, at_city))
    if elsewhere:
        items.append(Item(elsewhere_label, elsewhere))
    if counts.get(None):
        items.append(Item(_("未填写"), counts[None], query.talent_link(**{param: NOT_FILLED})))
    return items


def by_region(query: CockpitQuery, field: str, param: str, top: int | None = None) -> list[Item]:
    """Counts by a region reference (a province, a city), largest first (ties in code order)."""
    counts = query.tally.grouped(f"{field}_id")
    known = regions(query)
    ranked = sorted((pk for pk in counts if pk in known), key=lambda pk: (-counts[pk], known[pk][0]))
    shown = ranked if top is None or len(ranked) <= top else ranked[:top]
    items = [Item(known[pk][1], counts[pk], query.talent_link(**{param: pk})) for pk in shown]
    if len(shown) < len(ranked):
        items.append(Item(_("其他"), sum(counts[pk] for pk in ranked[top:])))
    return items


def words(query: CockpitQuery, field: str, top: int) -> list[Item]:
    """The ``top`` most frequent entries of a free-text list field (e.g. 研究方向), each counted
    once per talent (ties in the entries' order); a drill-down searches the registry for it."""
    counts = query.tally.words(field)
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:top]
    return [Item(word, n, query.talent_link(q=word)) for word, n in ranked]
