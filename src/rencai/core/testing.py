"""Helpers for tests: building users with roles and regions through the same models as the UI."""

from __future__ import annotations

import pyotp
from django.utils import timezone

from rencai.core.models import Region, Role, User

PASSWORD = "Rencai-Test-2026!"  # noqa: S105  (test personas only)


def make_user(
    username: str,
    *,
    roles: list[str] = (),
    regions: list[str] = (),
    password: str = PASSWORD,
    totp: bool = False,
    **fields,
) -> User:
    """A ready-to-use account: password fresh, administrators enrolled in TOTP."""
    user = User(username=username, **fields)
    user.set_password(password)
    if totp:
        user.totp_secret = pyotp.random_base32()
        user.totp_confirmed_at = timezone.now()
    user.save()
    if roles:
        user.roles.set(Role.objects.filter(code__in=roles))
    if regions:
        user.regions.set(Region.objects.filter(code__in=regions))
    return user
