"""Helpers for tests: building users with roles and regions through the same models as the UI, and
the API's bearer header for one of them."""

from __future__ import annotations

import pyotp
from django.utils import timezone

from rencai.core.models import Region, Role, User

PASSWORD = "Rencai-Test-2026!"  # noqa: S105  (test personas only)


_hashes: dict[tuple[str, str], str] = {}


def _hashed(password: str) -> str:
    """``password`` hashed by the first configured hasher, once per process: the personas share
    the test password, and an Argon2 hash costs 0.2 s (a salt shared by test accounts reveals
    nothing). Signing in still checks it the slow way, as in production."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    key = (password, settings.PASSWORD_HASHERS[0])
    if key not in _hashes:
        _hashes[key] = make_password(password)
    return _hashes[key]


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
    user.password, user.password_changed_at = _hashed(password), timezone.now()
    if totp:
        user.totp_secret = pyotp.random_base32()
        user.totp_confirmed_at = timezone.now()
    user.save()
    if roles:
        user.roles.set(Role.objects.filter(code__in=roles))
    if regions:
        user.regions.set(Region.objects.filter(code__in=regions))
    return user


def bearer(user) -> dict:
    """Request headers carrying a fresh API token of ``user``."""
    from rencai.core.services.tokens import create_token

    _, raw = create_token(user)
    return {"Authorization": f"Bearer {raw}"}


def table_schema(models) -> dict[str, dict]:
    """The indexes and constraints of ``models``' tables (name → columns, unique, index, foreign
    key): a bulk load that drops and rebuilds them must leave this as it found it."""
    from django.db import connection

    with connection.cursor() as cursor:
        return {
            model._meta.db_table: {
                name: (tuple(c["columns"]), c["unique"], c["index"], c["foreign_key"])
                for name, c in connection.introspection.get_constraints(cursor, model._meta.db_table).items()
            }
            for model in models
        }
