"""JSON errors for every failure of the API, in Chinese, never with a stack trace.

Every error body has ``detail`` (a sentence for a person); validation errors (422) add
``errors``: ``{"field": ["message", …]}``, with ``"__all__"`` for errors of the record as a whole,
whether the request failed the schema (pydantic) or the model's own rules (``full_clean``).
Refusals of an authenticated caller (403, 404) are audited like the web UI's.
"""

from __future__ import annotations

import logging

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as SchemaValidationError

from rencai.core import audit

logger = logging.getLogger("rencai.api")

MESSAGES = {
    400: _("请求格式有误，例如请求体不是有效的 JSON。"),
    401: _("需要有效的 API 令牌：请在请求头中提供 Authorization: Bearer <令牌>。"),
    403: _("您没有执行此操作的权限。"),
    404: _("请求的对象不存在，或不在您的数据范围内。"),
    409: _("该记录仍被其他记录引用，或与现有记录冲突，操作未执行。"),
    412: _("该记录已被他人修改，请重新读取后再提交。"),
    422: _("提交的数据未通过校验，请按字段修改后重试。"),
    429: _("请求过于频繁，请稍后再试。"),
    500: _("系统出现错误，已记录。请稍后再试，或联系系统管理员。"),
}
INVALID_TOKEN = _("API 令牌无效、已过期或已被撤销。")  # noqa: S105  (a message, not a secret)

# pydantic error types, as a person would read them.
_SCHEMA_MESSAGES = {
    "missing": _("此字段为必填项。"),
    "string_type": _("应为文本。"),
    "int_type": _("应为整数。"),
    "int_parsing": _("应为整数。"),
    "int_from_float": _("应为整数。"),
    "float_type": _("应为数字。"),
    "float_parsing": _("应为数字。"),
    "bool_type": _("应为 true 或 false。"),
    "bool_parsing": _("应为 true 或 false。"),
    "string_too_short": _("至少 {min_length} 个字符。"),
    "string_too_long": _("最多 {max_length} 个字符。"),
    "greater_than": _("应大于 {gt}。"),
    "greater_than_equal": _("不能小于 {ge}。"),
    "less_than": _("应小于 {lt}。"),
    "less_than_equal": _("不能大于 {le}。"),
    "enum": _("不是有效的选项。"),
    "literal_error": _("不是有效的选项。"),
    "uuid_type": _("不是有效的编号。"),
    "uuid_parsing": _("不是有效的编号。"),
    "date_parsing": _("日期格式应为 YYYY-MM-DD。"),
    "date_from_datetime_parsing": _("日期格式应为 YYYY-MM-DD。"),
    "datetime_parsing": _("时间格式应为 ISO 8601。"),
    "datetime_from_date_parsing": _("时间格式应为 ISO 8601。"),
    "list_type": _("应为列表。"),
    "dict_type": _("应为 JSON 对象。"),
    "model_attributes_type": _("应为 JSON 对象。"),
    "model_type": _("应为 JSON 对象。"),
    "json_invalid": _("请求体不是有效的 JSON。"),
    "extra_forbidden": _("不接受此字段。"),
}
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


class InvalidTokenError(AuthenticationError):
    """A token was presented but does not authenticate (unknown, expired, revoked, user disabled)."""

    def __init__(self):
        super().__init__(message=str(INVALID_TOKEN))


class ApiValidationError(Exception):
    """Field errors found by our own code (a region out of scope, a bad cursor …): a 422."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def schema_message(error: dict) -> str:
    template = str(_SCHEMA_MESSAGES.get(error.get("type", ""), _("取值无效。")))
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return template


def schema_field(error: dict) -> str:
    """The field a pydantic error is about, without the request part and the body's parameter
    name: ``("body", "payload", "region")`` is ``region``, ``("query", "limit")`` is ``limit``."""
    loc = [str(part) for part in error.get("loc", ())]
    if loc and loc[0] in _SOURCES:
        source, loc = loc[0], loc[1:]
        if source == "body" and len(loc) > 1:
            loc = loc[1:]
    return ".".join(loc) or NON_FIELD_ERRORS


def _respond(api, request, status: int, detail: str | None = None, **extra):
    response = api.create_response(request, {"detail": str(detail or MESSAGES[status]), **extra}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _deny(request, status: int) -> None:
    if getattr(request, "auth_user", None) is not None:
        audit.record_denied(request, f"API {status}")


def install(api) -> None:
    """Register rencai's handlers on ``api`` (replacing ninja's English ones)."""

    def unauthenticated(request, exc):
        return _respond(api, request, 401, INVALID_TOKEN if isinstance(exc, InvalidTokenError) else None)

    def forbidden(request, exc):
        _deny(request, 403)
        return _respond(api, request, 403)

    def not_found(request, exc):
        _deny(request, 404)
        return _respond(api, request, 404)

    def schema_invalid(request, exc: SchemaValidationError):
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            errors.setdefault(schema_field(error), []).append(schema_message(error))
        return _respond(api, request, 422, errors=errors)

    def model_invalid(request, exc: DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = {field: list(messages) for field, messages in exc.message_dict.items()}
        else:
            errors = {NON_FIELD_ERRORS: list(exc.messages)}
        return _respond(api, request, 422, errors=errors)

    def own_invalid(request, exc: ApiValidationError):
        return _respond(api, request, 422, errors=exc.errors)

    def conflict(request, exc):
        return _respond(api, request, 409)

    def throttled(request, exc):
        return _respond(api, request, 429)

    def http_error(request, exc: HttpError):
        status = exc.status_code
        return _respond(api, request, status, MESSAGES.get(status) or str(exc))

    def server_error(request, exc):
        # The traceback goes to the log (redacted of personal numbers), never to the client.
        logger.error("API error on %s %s", request.method, request.path, exc_info=exc)
        return _respond(api, request, 500)

    api.add_exception_handler(AuthenticationError, unauthenticated)
    api.add_exception_handler(PermissionDenied, forbidden)
    api.add_exception_handler(AuthorizationError, forbidden)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(ObjectDoesNotExist, not_found)
    api.add_exception_handler(SchemaValidationError, schema_invalid)
    api.add_exception_handler(DjangoValidationError, model_invalid)
    api.add_exception_handler(ApiValidationError, own_invalid)
    api.add_exception_handler(ProtectedError, conflict)
    api.add_exception_handler(RestrictedError, conflict)
    api.add_exception_handler(IntegrityError, conflict)
    api.add_exception_handler(Throttled, throttled)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Exception, server_error)
