"""Setting up an installation: the first system administrator.

``rencai init`` calls ``ensure_first_admin``; it changes nothing when an active system
administrator exists, so running init again is harmless.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from rencai.core.models import Role, User
from rencai.core.models.accounts import AdminDuty
from rencai.core.services.accounts import do_create_user

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD_ENV = "RENCAI_ADMIN_PASSWORD"  # noqa: S105  (the name of a variable, not a secret)


@dataclass(frozen=True)
class FirstAdmin:
    user: User
    created: bool
    password: str | None = None  # the generated password, to be shown once; None otherwise


def active_system_admins():
    return User.objects.filter(is_active=True, roles__duty=AdminDuty.SYSTEM).distinct()


def _free_username(base: str) -> str:
    # A disabled "admin" stays as it is (its history is audited); the new one gets another name.
    if not User.objects.filter(username=base).exists():
        return base
    n = 2
    while User.objects.filter(username=f"{base}{n}").exists():
        n += 1
    return f"{base}{n}"


@transaction.atomic
def ensure_first_admin(password: str | None = None) -> FirstAdmin:
    """Create the system administrator ``admin`` unless an active one exists.

    ``password`` (or ``RENCAI_ADMIN_PASSWORD``) must meet the password policy; without one a
    strong password is generated, returned once, and must be changed at first sign-in. Either
    way the account enrols a TOTP device at first sign-in (the security gate asks for it).
    """
    existing = active_system_admins().order_by("pk").first()
    if existing is not None:
        return FirstAdmin(existing, created=False)
    password = password if password is not None else os.environ.get(ADMIN_PASSWORD_ENV) or None
    username = _free_username(ADMIN_USERNAME)
    if password is not None:
        validate_password(password, User(username=username, full_name="系统管理员"))
    role = Role.objects.get(code="system_admin")
    user, generated = do_create_user(username=username, full_name="系统管理员", roles=[role], acting_user=None)
    if password is None:
        return FirstAdmin(user, created=True, password=generated)
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    return FirstAdmin(user, created=True)
