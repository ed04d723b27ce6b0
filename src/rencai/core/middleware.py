"""Request middleware: idle sign-out, the security gate, and the audit context of a request."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse

from rencai.core import audit
from rencai.core.models.audit import AuditAction


def client_ip(request) -> str | None:
    # Behind a reverse proxy set RENCAI_HTTPS and let the proxy overwrite X-Forwarded-For;
    # without one, REMOTE_ADDR is the only address that cannot be forged.
    if settings.HTTPS:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def redirect_to(request, url: str):
    """A redirect that also works for htmx requests (which would otherwise swap the page in)."""
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def is_public(request) -> bool:
    """Whether the request is for a page anyone may open without signing in: a view marked with
    Django's ``login_not_required`` (the public registration pages). A signed-in visitor's
    session rules (idle sign-out, owed security steps) do not stand between them and it."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return getattr(match.func, "login_required", True) is False


class IdleTimeoutMiddleware:
    """Ends a session after ``IDLE_TIMEOUT_MINUTES`` without a request, whatever the cookie says.

    The cookie's own age is the same length, but a stolen or kept-open cookie must not outlive
    the rule: the last request time is kept in the session and checked here on every request.
    """

    SESSION_KEY = "rencai_last_seen"
    # Requests a page makes by itself (progress polling) are not the user's activity.
    BACKGROUND_HEADER = "X-Rencai-Background"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(self.SESSION_KEY)
            if last_seen is not None and now - last_seen > settings.IDLE_TIMEOUT_MINUTES * 60:
                with audit.acting(user, client_ip(request)):
                    audit.record(
                        AuditAction.LOGOUT, obj=user,
                        message=f"空闲超过 {settings.IDLE_TIMEOUT_MINUTES} 分钟，自动退出",
                    )
                logout(request)
                if request.path.startswith("/api/") or is_public(request):
                    return self.get_response(request)
                query = urlencode({"next": request.get_full_path(), "idle": "1"})
                return redirect_to(request, f"{reverse(settings.LOGIN_URL)}?{query}")
            if last_seen is None or not request.headers.get(self.BACKGROUND_HEADER):
                request.session[self.SESSION_KEY] = now
        return self.get_response(request)


class SecurityGateMiddleware:
    """Before anything else, a signed-in user must change a forced or expired password and an
    administrator must enrol in two-factor sign-in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(("/static/", "/api/")):
            target = self.required_step(user)
            if target and request.path not in self.allowed_paths(target) and not is_public(request):
                return redirect_to(request, target)
        return self.get_response(request)

    @staticmethod
    def required_step(user) -> str | None:
        """The page this user must go through first, or None when nothing is owed."""
        if user.must_change_password or user.password_expired:
            return reverse("password_change")
        if user.is_administrator and not user.totp_enabled:
            return reverse("totp_setup")
        return None

    @staticmethod
    def allowed_paths(target: str) -> set[str]:
        return {target, reverse("logout"), reverse("favicon")}


class RequestContextMiddleware:
    """Attributes everything audited during a request to its user and client address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        with audit.acting(user if user is not None and user.is_authenticated else None, client_ip(request)):
            return self.get_response(request)
