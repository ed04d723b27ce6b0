"""Writing and verifying the audit log.

``record()`` appends one entry inside the caller's transaction: it first bumps the single
chain-head row (which serialises concurrent writers on both SQLite and PostgreSQL), then links the
new entry to the head's hash. ``verify()`` walks the chain and names the first broken link.

Who acts and from where comes from ``acting()``: the request middleware sets it for web and API
requests, commands and jobs set it themselves.
"""

from __future__ import annotations

import contextvars
import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone

from rencai.core import crypto
from rencai.core.fields import EncryptedTextField, LookupHashField, ProtectedField
from rencai.core.models.audit import AuditAction, AuditChainHead, AuditEntry

GENESIS_HASH = "0" * 64
MASKED_SECRET = "******"  # noqa: S105  (the mask shown for a secret, not a secret)


@dataclass(frozen=True)
class Actor:
    user: Any = None
    ip_address: str | None = None


_NOBODY = Actor()
_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("rencai_actor", default=_NOBODY)  # noqa: B039  (frozen)


def command_line_actor() -> str:
    """The actor name of work done from the command line without a rencai user: the OS user."""
    try:
        return f"命令行:{getpass.getuser()}"[:64]
    except (KeyError, OSError):
        return "命令行"


def current_actor() -> Actor:
    return _actor.get()


def set_actor_user(user) -> None:
    """Attribute the rest of the current request to ``user`` (an API token's owner, say)."""
    _actor.set(Actor(user, _actor.get().ip_address))


@contextmanager
def acting(user=None, ip_address: str | None = None) -> Iterator[Actor]:
    """Attribute everything audited inside the block to ``user`` (from ``ip_address``)."""
    token = _actor.set(Actor(user, ip_address))
    try:
        yield _actor.get()
    finally:
        _actor.reset(token)


# --- snapshots and diffs -----------------------------------------------------------------------
def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def _loggable(field: models.Field, value: Any) -> Any:
    if isinstance(field, ProtectedField):
        return field.mask(value) if value else value
    if isinstance(field, EncryptedTextField):
        return MASKED_SECRET if value else value
    if isinstance(field, models.FileField):  # a stored file: its name, as loaded or as saved
        return getattr(value, "name", value) or ""
    return value


def snapshot(instance: models.Model, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """The loggable state of ``instance`` (or of ``values`` keyed by attname, as loaded)."""
    exclude = set(getattr(instance, "audit_exclude", ()))
    state = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude or field.attname in exclude or field.primary_key:
            continue
        if isinstance(field, LookupHashField):  # derived from a value that is already logged
            continue
        if values is not None:
            if field.attname not in values:
                continue
            raw = values[field.attname]
        else:
            raw = getattr(instance, field.attname)
        state[field.attname] = _loggable(field, raw)
    return _json_safe(state)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}


# --- writing ------------------------------------------------------------------------------------
def _payload(entry: AuditEntry) -> bytes:
    content = {
        "created_at": entry.created_at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "ip_address": entry.ip_address,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "region_code": entry.region_code,
        "changes": entry.changes,
        "message": entry.message,
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def object_label(obj: models.Model) -> str:
    return obj._meta.label_lower


def region_code_of(obj: models.Model | None) -> str:
    scope_field = getattr(type(obj), "region_scope_field", None) if obj is not None else None
    region = obj
    if scope_field is None:
        return ""
    for part in scope_field.split("__"):
        region = getattr(region, part, None)
    return getattr(region, "code", "") or ""


def record(
    action: str,
    *,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    message: str = "",
    actor=None,
    actor_name: str | None = None,
    ip_address: str | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> AuditEntry:
    """Append one entry to the audit log (inside the caller's transaction, if any)."""
    context = current_actor()
    if actor is None:
        actor = context.user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if ip_address is None:
        ip_address = context.ip_address
    if obj is not None:
        object_type = object_type or object_label(obj)
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    entry = AuditEntry(
        created_at=timezone.now(),
        actor=actor,
        actor_name=(actor_name if actor_name is not None else getattr(actor, "username", ""))[:64],
        ip_address=ip_address,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        region_code=region_code_of(obj),
        changes=_json_safe(changes or {}),
        message=message[:500],
    )
    with transaction.atomic():
        # Bumping the head first takes its row lock: writers of the chain queue here.
        prev_hash = _bump_head()
        if prev_hash is None:
            if AuditEntry.objects.exists():
                raise RuntimeError("the audit chain head is missing: run `rencai audit verify`")
            AuditChainHead.objects.create(pk=1, last_hash=GENESIS_HASH, length=1)
            prev_hash = GENESIS_HASH
        entry.prev_hash = prev_hash
        entry.entry_hash = crypto.chain_hash(entry.prev_hash, _payload(entry))
        entry.save()
        AuditChainHead.objects.filter(pk=1).update(last_hash=entry.entry_hash)
    return entry


def _bump_head() -> str | None:
    """Lengthen the chain by one and return the hash to link to (None: no head yet).

    One ``UPDATE … RETURNING`` where the database has it (PostgreSQL, SQLite 3.35+), rather than
    the update and a read of the row: a statement less in every audited request.
    """
    if not _update_returning():
        if not AuditChainHead.objects.filter(pk=1).update(length=F("length") + 1):
            return None
        return AuditChainHead.objects.get(pk=1).last_hash
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET length = length + 1 WHERE id = 1 RETURNING last_hash")  # noqa: S608
        row = cursor.fetchone()
    return row[0] if row else None


def _update_returning() -> bool:
    return connection.vendor == "postgresql" or connection.Database.sqlite_version_info >= (3, 35)


def record_denied(request, reason: str = "") -> None:
    """Audit a refused request (403/404 for an authenticated user, a bad token …)."""
    record(AuditAction.ACCESS_DENIED, object_type="url", object_repr=request.path[:200], message=reason)


# --- verifying ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""


def verify(batch_size: int = 2000) -> VerifyResult:
    """Walk the whole chain; report the first entry whose link or content does not hold."""
    prev_hash = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        batch = list(AuditEntry.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for entry in batch:
            if entry.prev_hash != prev_hash:
                return VerifyResult(False, checked, entry.id, "前一条记录被删除或改动（链接断开）")
            if crypto.chain_hash(entry.prev_hash, _payload(entry)) != entry.entry_hash:
                return VerifyResult(False, checked, entry.id, "本条记录的内容被改动")
            prev_hash = entry.entry_hash
            checked += 1
            last_id = entry.id
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None or head.last_hash != prev_hash or head.length != checked:
        return VerifyResult(False, checked, None, "链尾记录被删除（链头与最后一条记录不符）")
    return VerifyResult(True, checked)
