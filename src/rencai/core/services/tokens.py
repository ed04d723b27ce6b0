"""API tokens (API 令牌): creating, revoking and authenticating personal bearer tokens.

A token is shown once, when it is created; the database keeps only its SHA-256 digest and a
short prefix by which its owner recognises it in the list. Stealing the table therefore gives
nobody a usable token. A token acts as its user, with the user's roles and regions, so the API
needs no permission model of its own.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.core import audit
from rencai.core.models import ApiToken
from rencai.core.models.audit import AuditAction

TOKEN_PREFIX = "rc_"  # noqa: S105  (marks a rencai token, so it can be recognised in leaks)
PREFIX_LENGTH = 12  # "rc_" and nine characters of the secret: enough to tell tokens apart
MAX_TOKEN_DAYS = 365
# A busy client must not turn every request into a write: last use is kept to the minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)
CLI_ACTOR = "命令行"


class InvalidToken(Exception):
    """A presented token that does not authenticate; ``reason`` is for the audit log only."""

    def __init__(self, reason: str, token: ApiToken | None = None):
        super().__init__(reason)
        self.reason = reason
        self.token = token


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _actor_fields(acting_user) -> dict:
    if acting_user is not None:
        return {"actor": acting_user}
    if audit.current_actor().user is None:
        return {"actor_name": CLI_ACTOR}
    return {}


def create_token(user, *, name: str = "", days: int | None = None, acting_user=None) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the saved row and the token itself (shown once).

    ``days`` defaults to ``settings.API_TOKEN_DEFAULT_DAYS``; ``acting_user`` is who asked for it
    (the user in the web UI; nobody when run from the command line).
    """
    days = settings.API_TOKEN_DEFAULT_DAYS if days is None else int(days)
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationError(
            _("有效期应在 1 到 %(max)d 天之间。") % {"max": MAX_TOKEN_DAYS}, code="token_days"
        )
    if not user.is_active:
        raise ValidationError(_("该用户已停用，不能创建令牌。"), code="user_inactive")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name.strip()[:100],
            prefix=raw[:PREFIX_LENGTH],
            digest=token_digest(raw),
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit.record(
            AuditAction.TOKEN,
            obj=token,
            changes={"user": user.username, "name": token.name, "expires_at": token.expires_at},
            message=_("创建 API 令牌"),
            **_actor_fields(acting_user),
        )
    return token, raw


def revoke_token(token: ApiToken, *, acting_user=None) -> bool:
    """Revoke ``token`` from now on; False if it was already revoked (nothing written)."""
    now = timezone.now()
    with transaction.atomic():
        if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
            return False
        token.revoked_at = now
        audit.record(
            AuditAction.TOKEN,
            obj=token,
            changes={"revoked_at": [None, now]},
            message=_("撤销 API 令牌"),
            **_actor_fields(acting_user),
        )
    return True


def tokens_of(user):
    """The tokens ``user`` manages: their own, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def token_status(token: ApiToken, now=None) -> str:
    """``active``, ``expired`` or ``revoked``, for lists and the command line."""
    now = now or timezone.now()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at <= now:
        return "expired"
    return "active"


def authenticate_token(raw: str):
    """The active user a presented token stands for, or ``InvalidToken`` saying why not.

    Marks the token used, at most once a minute (a conditional UPDATE, so concurrent requests
    write it once).
    """
    raw = (raw or "").strip()
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        raise InvalidToken("malformed")
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
    if token is None:
        raise InvalidToken("unknown")
    now = timezone.now()
    if token.revoked_at is not None:
        raise InvalidToken("revoked", token)
    if token.expires_at <= now:
        raise InvalidToken("expired", token)
    if not token.user.is_active:
        raise InvalidToken("user inactive", token)
    threshold = now - LAST_USED_RESOLUTION
    if token.last_used_at is None or token.last_used_at < threshold:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=threshold)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token.user
