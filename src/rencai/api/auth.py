"""Bearer-token authentication of the API, and the permission helpers every endpoint uses.

The API accepts only ``Authorization: Bearer <token>`` (no session cookie, so no CSRF to worry
about). The token's user becomes ``request.auth_user`` and the actor of every audit entry the
request writes. Endpoints then apply the same rules as the web UI: the model permission for the
action (403 without it) and the user's data scope (404 outside it).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from ninja.security import HttpBearer

from rencai.api.errors import InvalidTokenError
from rencai.core import audit
from rencai.core.scope import get_object_or_404_in_scope, user_can
from rencai.core.services.tokens import InvalidToken, authenticate_token


class ApiTokenAuth(HttpBearer):
    """A personal API token (see ``rencai token create`` and the 「API 令牌」 page)."""

    def authenticate(self, request, token: str):
        try:
            user = authenticate_token(token)
        except InvalidToken as exc:
            audit.record_denied(request, f"API 令牌无效（{exc.reason}）")
            raise InvalidTokenError from exc
        request.auth_user = user
        audit.set_actor_user(user)
        return user


def require_permission(request, model, action: str) -> None:
    """403 unless the caller's roles allow ``action`` on ``model`` at all."""
    if not user_can(request.auth_user, model, action):
        raise PermissionDenied


def scoped(request, queryset_or_model, action: str = "view"):
    """The records the caller may ``action`` (403 without the permission)."""
    queryset = getattr(queryset_or_model, "objects", queryset_or_model)
    require_permission(request, queryset.model, action)
    return queryset.restrict(request.auth_user, action)


def get_in_scope(request, queryset_or_model, action: str = "view", **lookup):
    """One record the caller may ``action``: 403 without the permission, 404 out of scope."""
    queryset = getattr(queryset_or_model, "objects", queryset_or_model)
    require_permission(request, queryset.model, action)
    return get_object_or_404_in_scope(queryset, request.auth_user, action, **lookup)


def personal_value(user, obj, field_name: str) -> str:
    """A protected field's value as this user may see it: full, or masked."""
    value = getattr(obj, field_name) or ""
    if not value or user.can_view_personal:
        return value
    return type(obj)._meta.get_field(field_name).mask(value)


def audit_full_values(user, objects, field_names: tuple[str, ...], *, label: str) -> None:
    """Audit that a response carried full personal values (one entry per response)."""
    if not user.can_view_personal:
        return
    shown = [obj for obj in objects if any(getattr(obj, name) for name in field_names)]
    if not shown:
        return
    from rencai.core.models.audit import AuditAction

    first = shown[0]
    audit.record(
        AuditAction.VIEW_PERSONAL,
        obj=first if len(shown) == 1 else None,
        object_type=first._meta.label_lower,
        changes={"ids": [obj.pk for obj in shown], "fields": list(field_names)},
        message=f"API 返回完整{label} {len(shown)} 条",
    )
