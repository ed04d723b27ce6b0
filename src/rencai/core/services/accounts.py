"""Account and role changes: each ``do_<verb>_<noun>`` runs in one transaction and is audited.

Views and commands parse and authorise, then call these; the rules that must hold whoever calls
(separation of the three administrator duties, the last system administrator, no business
permission on a duty role) are enforced here, inside the transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.core import audit
from rencai.core.auth import totp
from rencai.core.models import Region, Role, User
from rencai.core.models.accounts import AdminDuty
from rencai.core.models.audit import AuditAction
from rencai.core.roles import business_permissions_q, check_duties, duty_permissions, is_business_permission

# Generated one-time passwords: no look-alike characters (0/O, 1/l/I), every class present.
_ALPHABETS = ("abcdefghijkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "!@#$%^&*-_=+?")


@contextmanager
def _acting(acting_user) -> Iterator[None]:
    """Attribute the automatic change log to ``acting_user``, keeping the request's address."""
    if acting_user is None:
        yield
        return
    with audit.acting(acting_user, audit.current_actor().ip_address):
        yield


def _require(acting_user, perm: str) -> None:
    # None is the command line (rencai init, a shell): the operator of the machine.
    if acting_user is not None and not acting_user.has_perm(perm):
        raise PermissionDenied


def _require_self(acting_user, user: User) -> None:
    """One's password and two-factor device are set by oneself only (an administrator resets
    them instead: ``do_reset_password``, ``do_reset_totp``); None is the command line, as above."""
    if acting_user is not None and acting_user.pk != user.pk:
        raise PermissionDenied


def generate_password(length: int = 14) -> str:
    """A random one-time password that meets the password policy."""
    while True:
        chars = [secrets.choice(alphabet) for alphabet in _ALPHABETS]
        everything = "".join(_ALPHABETS)
        chars += [secrets.choice(everything) for _i in range(length - len(chars))]
        secrets.SystemRandom().shuffle(chars)
        password = "".join(chars)
        try:
            validate_password(password)
        except ValidationError:
            continue
        return password


def perm_label(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


# --- roles held by one account ------------------------------------------------------------------
def validate_role_set(roles: Iterable[Role]) -> None:
    """Refuse roles that may not be held together (三员分立); raises ValidationError."""
    check_duties(list(roles))


def _system_admin_holders():
    holders = User.roles.through.objects.filter(role__duty=AdminDuty.SYSTEM).values("user_id")
    return User.objects.filter(pk__in=holders, is_active=True)


def _check_not_last_system_admin(user: User, message: str) -> None:
    # Lock the holders' rows so two administrators cannot each remove the other at once.
    holders = list(_system_admin_holders().select_for_update().values_list("pk", flat=True))
    if user.pk in holders and len(holders) == 1:
        raise ValidationError(message, code="last_system_admin")


# --- users --------------------------------------------------------------------------------------
@transaction.atomic
def do_create_user(
    *,
    username: str,
    full_name: str = "",
    email: str = "",
    phone: str = "",
    roles: Iterable[Role] = (),
    regions: Iterable[Region] = (),
    acting_user,
) -> tuple[User, str]:
    """Create an account with a generated one-time password it must change at first sign-in.

    Returns the user and the password, which is shown once and never stored in clear.
    """
    _require(acting_user, "core.add_user")
    roles, regions = list(roles), list(regions)
    validate_role_set(roles)
    password = generate_password()
    with _acting(acting_user):
        user = User(username=username, full_name=full_name, email=email, phone=phone, must_change_password=True)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save()
        user.roles.set(roles)
        user.regions.set(regions)
        if roles:
            audit.record(
                AuditAction.ROLE_ASSIGN, obj=user,
                changes={"roles": [[], sorted(r.name for r in roles)]}, message="新建账户并分配角色",
            )
    return user, password


@transaction.atomic
def do_update_user(
    user: User,
    *,
    full_name: str,
    email: str = "",
    phone: str = "",
    roles: Iterable[Role],
    regions: Iterable[Region],
    acting_user,
) -> User:
    """Change an account's contact details, roles and regions."""
    _require(acting_user, "core.change_user")
    roles, regions = list(roles), list(regions)
    validate_role_set(roles)
    old_roles = list(user.roles.all())
    had_system = any(r.duty == AdminDuty.SYSTEM for r in old_roles)
    keeps_system = any(r.duty == AdminDuty.SYSTEM for r in roles)
    if had_system and not keeps_system and user.is_active:
        _check_not_last_system_admin(user, _("这是最后一个启用的系统管理员账户，不能取消其系统管理员角色。"))
    with _acting(acting_user):
        user.full_name, user.email, user.phone = full_name, email, phone
        user.save(update_fields=["full_name", "email", "phone"])
        if {r.pk for r in old_roles} != {r.pk for r in roles}:
            user.roles.set(roles)
            audit.record(
                AuditAction.ROLE_ASSIGN, obj=user,
                changes={"roles": [sorted(r.name for r in old_roles), sorted(r.name for r in roles)]},
            )
        if set(user.regions.values_list("pk", flat=True)) != {r.pk for r in regions}:
            user.regions.set(regions)
    _forget_cached_roles(user)
    return user


def _forget_cached_roles(user: User) -> None:
    for attr in ("role_list", "region_paths", "_rencai_perm_cache"):
        user.__dict__.pop(attr, None)


@transaction.atomic
def do_disable_user(user: User, *, acting_user) -> None:
    """Disable an account: it can no longer sign in and its open sessions stop working."""
    _require(acting_user, "core.change_user")
    if acting_user is not None and acting_user.pk == user.pk:
        raise ValidationError(_("不能停用自己的账户。"), code="disable_self")
    if not user.is_active:
        return
    if any(r.duty == AdminDuty.SYSTEM for r in user.roles.all()):
        _check_not_last_system_admin(user, _("这是最后一个启用的系统管理员账户，不能停用。"))
    with _acting(acting_user):
        user.is_active = False
        user.save(update_fields=["is_active"])


@transaction.atomic
def do_enable_user(user: User, *, acting_user) -> None:
    _require(acting_user, "core.change_user")
    if user.is_active:
        return
    with _acting(acting_user):
        user.is_active = True
        user.save(update_fields=["is_active"])


@transaction.atomic
def do_unlock_user(user: User, *, acting_user) -> None:
    """Lift a lock-out before it runs out (the person called in and was identified)."""
    _require(acting_user, "core.change_user")
    with _acting(acting_user):
        User.objects.filter(pk=user.pk).update(failed_login_count=0)
        user.failed_login_count = 0
        user.locked_until = None
        user.save(update_fields=["locked_until"])


@transaction.atomic
def do_reset_password(user: User, *, acting_user) -> str:
    """Give an account a new one-time password (shown once) that must be changed at sign-in.

    Also lifts a lock-out, and ends the account's open sessions (their password hash changed).
    """
    _require(acting_user, "core.change_user")
    password = generate_password()
    with _acting(acting_user):
        user.set_password(password)
        user.must_change_password = True
        user.locked_until = None
        user.failed_login_count = 0
        user.save(update_fields=["password", "password_changed_at", "must_change_password",
                                 "locked_until", "failed_login_count"])
        audit.record(AuditAction.PASSWORD_RESET, obj=user, message="管理员重置密码，下次登录须修改")
    return password


@transaction.atomic
def do_change_password(user: User, new_password: str, *, acting_user) -> None:
    """A user sets their own new password (checked against the policy by the caller's form)."""
    _require_self(acting_user, user)
    validate_password(new_password, user)
    with _acting(acting_user):
        forced = user.must_change_password
        expired = user.password_expired
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "password_changed_at", "must_change_password"])
        reason = "首次登录或重置后修改" if forced else ("密码过期后修改" if expired else "本人修改")
        audit.record(AuditAction.PASSWORD_CHANGE, obj=user, message=reason)


# --- two-factor sign-in ---------------------------------------------------------------------------
@transaction.atomic
def do_enable_totp(user: User, secret: str, code: str, *, acting_user) -> bool:
    """Enrol ``user`` with ``secret`` if ``code`` proves their app has it; False if it does not."""
    _require_self(acting_user, user)
    step = totp.matching_step(secret, code)
    if step is None:
        return False
    with _acting(acting_user):
        user.totp_secret = secret
        user.totp_confirmed_at = timezone.now()
        user.save(update_fields=["totp_secret", "totp_confirmed_at"])
        # The enrolment code may not serve again as a sign-in code.
        User.objects.filter(pk=user.pk).update(totp_last_step=step)
        user.totp_last_step = step
        audit.record(AuditAction.TOTP, obj=user, message="启用两步验证")
    return True


@transaction.atomic
def do_disable_totp(user: User, code: str, *, acting_user) -> bool:
    """Turn off two-factor sign-in with a current code; administrators may not (it is required)."""
    _require_self(acting_user, user)
    if user.is_administrator:
        raise ValidationError(_("管理员账户必须启用两步验证，不能关闭。"), code="totp_required")
    if not totp.consume_code(user, code):
        return False
    with _acting(acting_user):
        _clear_totp(user)
        audit.record(AuditAction.TOTP, obj=user, message="本人关闭两步验证")
    return True


@transaction.atomic
def do_reset_totp(user: User, *, acting_user) -> None:
    """Remove a user's two-factor device (a lost phone); they enrol again at next sign-in."""
    _require(acting_user, "core.change_user")
    with _acting(acting_user):
        _clear_totp(user)
        audit.record(AuditAction.TOTP, obj=user, message="管理员重置两步验证")


def _clear_totp(user: User) -> None:
    user.totp_secret = ""
    user.totp_confirmed_at = None
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])


# --- roles ----------------------------------------------------------------------------------------
@transaction.atomic
def do_update_role(
    role: Role,
    *,
    permissions: Iterable[Permission],
    all_regions: bool,
    can_view_personal: bool,
    acting_user,
) -> Role:
    """Set a role's permissions and scope.

    Permissions removed from a built-in role are remembered in ``revoked_permissions`` so the
    next ``migrate`` does not grant them again; granting one back forgets it.
    """
    _require(acting_user, "core.change_role")
    role = Role.objects.select_for_update().get(pk=role.pk)
    permissions = list(Permission.objects.filter(pk__in=[p.pk for p in permissions]).select_related("content_type"))
    wanted = {perm_label(p) for p in permissions}
    business = sorted(label for label in wanted if is_business_permission(label))
    if role.duty and business:
        raise ValidationError(
            _("管理员角色（三员）不能拥有业务数据权限：%(perms)s") % {"perms": "、".join(business)},
            code="duty_with_business",
        )
    if role.duty and (outside := sorted(wanted - duty_permissions(role.duty))):
        raise ValidationError(
            _("%(duty)s角色只能拥有本职责的权限，不能授予：%(perms)s")
            % {"duty": role.get_duty_display(), "perms": "、".join(outside)},
            code="outside_duty",
        )
    if business and not role.permissions.filter(business_permissions_q()).exists():
        # The role becomes a business role: no administrator may hold it then.
        holders = role.users.values("pk")
        if User.objects.filter(pk__in=holders, roles__duty__gt="").exists():
            raise ValidationError(
                _("该角色由管理员（三员）账户担任，不能授予业务数据权限。"), code="held_by_duty",
            )
    current = {perm_label(p) for p in role.permissions.select_related("content_type")}
    removed, added = current - wanted, wanted - current
    with _acting(acting_user):
        role.all_regions = all_regions
        role.can_view_personal = can_view_personal
        fields = ["all_regions", "can_view_personal"]
        if role.is_builtin:
            revoked = (set(role.revoked_permissions) | removed) - added
            role.revoked_permissions = sorted(revoked)
            fields.append("revoked_permissions")
        role.save(update_fields=fields)
        if removed or added:
            role.permissions.set(permissions)
    return role
