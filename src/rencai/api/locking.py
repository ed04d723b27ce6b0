"""Optimistic locking of API writes: a record's ``ETag`` and the ``If-Match`` check.

A record read through the API carries an ``ETag``: its concurrency token in quotes — the
``version`` where the model has one, else ``updated_at`` (``core.forms.concurrency_token``, the
token the web edit forms carry). A PATCH or DELETE sent with that ``If-Match`` (or, where the body
has one, the ``version`` read) is refused with 412 if the record changed meanwhile; without
either, it applies to the record as it is. Call ``check_if_match`` inside the write's transaction
on the row read with ``select_for_update``: PostgreSQL holds the row, and SQLite's transactions
take the write lock at BEGIN, so no save slips between the check and the write.
"""

from __future__ import annotations

from ninja.errors import HttpError

from rencai.api.errors import MESSAGES
from rencai.core.forms import concurrency_token


def etag(obj) -> str:
    return f'"{concurrency_token(obj)}"'


def check_if_match(request, obj, *, version=None) -> None:
    """412 unless ``If-Match`` (when sent) names ``obj``'s current ETag and ``version`` (when
    given) is its current token."""
    expected = request.headers.get("If-Match")
    if expected and expected.strip() != "*":
        if etag(obj) not in {tag.strip().removeprefix("W/") for tag in expected.split(",")}:
            raise HttpError(412, str(MESSAGES[412]))
    if version is not None and str(version) != concurrency_token(obj):
        raise HttpError(412, str(MESSAGES[412]))
