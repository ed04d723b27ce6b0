"""Signing in: password check, lock-out after repeated failures, the TOTP step, and the audit.

The answer to a failed attempt is the same whether the username exists or not: unknown names
run the password hasher too (no timing tell) and are locked out on the same count, from a
cache rather than the database.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.core import audit
from rencai.core.middleware import IdleTimeoutMiddleware
from rencai.core.models import User
from rencai.core.models.audit import AuditAction

BACKEND = "rencai.core.auth.backends.RoleBackend"
LAST_SEEN_KEY = IdleTimeoutMiddleware.SESSION_KEY


@dataclass(frozen=True)
class Attempt:
    """The outcome of a username/password check."""

    user: User | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.user is not None and not self.error

    @property
    def needs_totp(self) -> bool:
        return self.ok and self.user.totp_enabled


def bad_credentials_message() -> str:
    return _("用户名或密码不正确。")


def locked_message(locked_until) -> str:
    minutes = max(1, math.ceil((locked_until - timezone.now()).total_seconds() / 60))
    return _("由于连续 %(attempts)d 次登录失败，账户已被锁定，请 %(minutes)d 分钟后再试。") % {
        "attempts": settings.LOCKOUT_ATTEMPTS,
        "minutes": minutes,
    }


def check_password(username: str, password: str) -> Attempt:
    """Check a username and password, counting failures and locking the account at the limit."""
    username = (username or "").strip()
    user = User.objects.filter(username=username).first()
    if user is None:
        make_password(password)  # as slow as a real check
        return _unknown_user_failure(username)
    if user.is_locked:
        audit.record(
            AuditAction.LOGIN_FAILED, obj=user, actor_name=user.username, message="账户锁定期间尝试登录"
        )
        return Attempt(error=locked_message(user.locked_until))
    if not user.check_password(password):
        return Attempt(error=register_failure(user, "密码错误"))
    if not user.is_active:
        audit.record(AuditAction.LOGIN_FAILED, obj=user, actor_name=user.username, message="账户已停用")
        return Attempt(error=_("该账户已停用，请联系系统管理员。"))
    return Attempt(user=user)


def register_failure(user: User, reason: str) -> str:
    """Count one failed attempt (a wrong password or TOTP code); lock at the limit.

    Returns the message for the person signing in.
    """
    with transaction.atomic():
        current = User.objects.select_for_update().only("failed_login_count").get(pk=user.pk)
        count = current.failed_login_count + 1
        audit.record(AuditAction.LOGIN_FAILED, obj=user, actor_name=user.username, message=reason)
        if count < settings.LOCKOUT_ATTEMPTS:
            User.objects.filter(pk=user.pk).update(failed_login_count=count)
            return bad_credentials_message()
        locked_until = timezone.now() + timedelta(minutes=settings.LOCKOUT_MINUTES)
        # The counter starts again after the lock, so the next lock needs a full run of failures.
        User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=locked_until)
        audit.record(
            AuditAction.LOCKED, obj=user, actor_name=user.username,
            message=f"连续 {count} 次登录失败，锁定 {settings.LOCKOUT_MINUTES} 分钟",
            changes={"locked_until": [None, locked_until]},
        )
    user.failed_login_count, user.locked_until = 0, locked_until
    return locked_message(locked_until)


def _unknown_user_failure(username: str) -> Attempt:
    audit.record(AuditAction.LOGIN_FAILED, actor_name=username[:64], object_type="core.user",
                 object_repr=username[:200], message="用户名不存在")
    key = "rencai:signin-unknown:" + hashlib.sha256(username.encode()).hexdigest()
    state = cache.get(key) or {"count": 0, "locked_until": None}
    now = timezone.now()
    if state["locked_until"] and state["locked_until"] > now:
        return Attempt(error=locked_message(state["locked_until"]))
    state["count"] += 1
    if state["count"] >= settings.LOCKOUT_ATTEMPTS:
        state = {"count": 0, "locked_until": now + timedelta(minutes=settings.LOCKOUT_MINUTES)}
        cache.set(key, state, settings.LOCKOUT_MINUTES * 60)
        return Attempt(error=locked_message(state["locked_until"]))
    cache.set(key, state, settings.LOCKOUT_MINUTES * 60)
    return Attempt(error=bad_credentials_message())


def complete_sign_in(request, user: User, *, method: str = "密码") -> None:
    """Log ``user`` in on this request: new session, counters cleared, the login audited."""
    login(request, user, backend=BACKEND)
    if user.failed_login_count or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
        user.failed_login_count, user.locked_until = 0, None
    request.session[LAST_SEEN_KEY] = time.time()
    audit.record(AuditAction.LOGIN, obj=user, actor=user, message=f"登录成功（{method}）")
