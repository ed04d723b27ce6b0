"""Search of the registry (first cut: name contains). Replaced by the term index."""

from __future__ import annotations

from django.db.models import Q


def terms_for(talent) -> list[tuple[str, int]]:
    return []


def index_talent(talent) -> None:
    """Bring the search terms of one talent up to date."""


def index_bulk(talents) -> None:
    """Index many talents at once (demo data, imports)."""


def apply_search(queryset, query: str):
    """The talents matching ``query``, best first."""
    query = (query or "").strip()
    if not query:
        return queryset
    return queryset.filter(Q(name__contains=query) | Q(work_unit__contains=query))
