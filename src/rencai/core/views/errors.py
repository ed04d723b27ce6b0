"""Styled error pages: a plain Chinese message, never a stack trace or personal data."""

from __future__ import annotations

from django.shortcuts import render

from rencai.core import audit


def _render(request, status: int, title: str, message: str):
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse({"detail": message}, status=status)
    return render(request, "core/error.html", {"status": status, "title": title, "message": message}, status=status)


def permission_denied(request, exception=None):
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        audit.record_denied(request, "403")
    return _render(request, 403, "无权访问", "您没有执行此操作的权限。如需开通，请联系安全管理员。")


def page_not_found(request, exception=None):
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        audit.record_denied(request, "404")
    return _render(request, 404, "页面不存在", "您要访问的页面不存在，或不在您的数据范围内。")


def server_error(request):
    return _render(request, 500, "系统错误", "系统出现错误，已记录。请稍后再试，或联系系统管理员。")
