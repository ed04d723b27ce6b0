"""Styled error pages: a plain Chinese message, never a stack trace or personal data.

403 and 404 are audited as denied access (a user probing for another county's records leaves a
trace). The 500 page is rendered without a request context: no session, no user, no context
processor, so it still renders when the database is what failed.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from rencai.core import audit


def _render(request, status: int, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    html = render_to_string(
        "core/error.html",
        {"status": status, "title": title, "message": message, "site_title": settings.SITE_TITLE},
    )
    return HttpResponse(html, status=status)


def _audit_denied(request, reason: str) -> None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        audit.record_denied(request, reason)


def permission_denied(request, exception=None):
    _audit_denied(request, "403")
    return _render(request, 403, _("无权访问"), _("您没有执行此操作的权限。如需开通，请联系安全管理员。"))


def page_not_found(request, exception=None):
    _audit_denied(request, "404")
    return _render(request, 404, _("页面不存在"), _("您要访问的页面不存在，或不在您的数据范围内。"))


def server_error(request):
    return _render(request, 500, _("系统错误"), _("系统出现错误，已记录。请稍后再试，或联系系统管理员。"))
