"""Keyset pagination for API lists, on the same ``KeysetPaginator`` as the web lists.

A list answers ``{"items": [...], "next_cursor": "…", "next": "/api/…?cursor=…"}``; the client
follows ``next`` until it is null. A cursor names the last row seen, so page 25,000 costs what
page 1 costs, and rows added or removed meanwhile neither repeat nor vanish from the walk.
Usage::

    @router.get("/", response=list[OrgUnitOut])
    @paginate(KeysetPagination, ordering=("region__path", "name"))
    def list_orgunits(request): ...

``CountedKeysetPagination`` adds ``count`` (capped) and ``count_capped``, for lists whose size is
part of the answer (the registry, a worklist).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.pagination import PaginationBase

from rencai.api.errors import ApiValidationError
from rencai.core.pagination import COUNT_LIMIT, InvalidCursor, KeysetPaginator

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class KeysetPagination(PaginationBase):
    class Input(Schema):
        cursor: str | None = Field(None, description="上一页返回的 next_cursor；不填为第一页")
        limit: int = Field(DEFAULT_LIMIT, ge=1, description=f"每页条数（默认 {DEFAULT_LIMIT}，最多 {MAX_LIMIT}）")

    class Output(Schema):
        items: list[Any]
        next_cursor: str | None = Field(None, description="下一页的游标；为 null 表示已到最后一页")
        next: str | None = Field(None, description="下一页的地址（其余查询参数不变）")

    items_attribute = "items"

    def __init__(self, *, ordering: tuple[str, ...] = ("pk",), on_page=None, index: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.ordering = ordering
        # Called with (request, rows) for the rows actually returned (e.g. to audit what was shown).
        self.on_page = on_page
        self.index = index  # an index on exactly ``ordering`` (see ``KeysetPaginator._fetch``)

    def paginator(self, queryset, per_page: int, request):
        """What pages ``queryset`` for this request (a subclass may rank a search instead)."""
        return KeysetPaginator(queryset, self.ordering, per_page=per_page, index=self.index)

    def totals(self, paginator) -> dict:
        """What the page says of the whole list besides its rows: nothing, by default."""
        return {}

    def paginate_queryset(self, queryset, pagination: Input, request, **params) -> dict:
        paginator = self.paginator(queryset, min(pagination.limit, MAX_LIMIT), request)
        try:
            page = paginator.page(after=pagination.cursor or None)
        except (InvalidCursor, ValueError) as exc:
            raise ApiValidationError({"cursor": [_("分页游标无效，请从第一页重新开始。")]}) from exc
        rows = list(page.object_list)
        totals = self.totals(paginator)
        if self.on_page is not None:
            self.on_page(request, rows)
        next_url = None
        if page.next_cursor:
            query = request.GET.copy()
            query["cursor"] = page.next_cursor
            next_url = f"{request.path}?{query.urlencode()}"
        return {"items": rows, **totals, "next_cursor": page.next_cursor, "next": next_url}


class CountedKeysetPagination(KeysetPagination):
    """Keyset pages that also say how many rows the list has (counting stops at 10,000)."""

    class Output(KeysetPagination.Output):
        count: int = Field(description=f"符合条件的记录数（超过 {COUNT_LIMIT:,} 时为 {COUNT_LIMIT:,}，且 count_capped 为 true）")
        count_capped: bool

    def totals(self, paginator) -> dict:
        count, capped = paginator.count()
        return {"count": count, "count_capped": capped}
