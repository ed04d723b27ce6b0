"""Accounts and roles: who may do what, and over which regions.

Permissions are data: a role holds Django permissions (``app.action_model``) and says whether it
covers every region or only the regions assigned to the user. The three administrator duties of
等保 三级 (系统管理员, 安全管理员, 审计管理员) are roles with a ``duty``; no account may hold two
of them, and none of them reads talent data by virtue of that role.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import Permission
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from rencai.core.fields import EncryptedTextField
from rencai.core.models.base import ChangeLoggedModel


class AdminDuty(models.TextChoices):
    """The three separated administrator duties (三员分立)."""

    SYSTEM = "system", _("系统管理员")
    SECURITY = "security", _("安全管理员")
    AUDIT = "audit", _("审计管理员")


class Role(ChangeLoggedModel):
    """A role: a named set of permissions with a region scope and a personal-data clearance."""

    code = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=64, unique=True)
    description = models.TextField(_("说明"), blank=True)
    duty = models.CharField(_("管理职责"), max_length=16, choices=AdminDuty.choices, blank=True)
    all_regions = models.BooleanField(
        _("全部地区"), default=False, help_text=_("否则只限用户所分配的地区及其下级地区。")
    )
    can_view_personal = models.BooleanField(
        _("可查看完整个人信息"), default=False, help_text=_("否则身份证号、手机号等一律脱敏显示。")
    )
    permissions = models.ManyToManyField(Permission, verbose_name=_("权限"), blank=True, related_name="+")
    # Permissions a security administrator removed from a built-in role; seeding never re-adds them.
    revoked_permissions = models.JSONField(_("已撤销的内置权限"), default=list, blank=True, editable=False)
    is_builtin = models.BooleanField(_("内置"), default=False, editable=False)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(username=username)

    def create_user(self, username: str, password: str | None = None, **fields) -> User:
        user = self.model(username=username, **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        return user


class User(ChangeLoggedModel, AbstractBaseUser):
    """A person who signs in: city or county staff, a leader, or an administrator."""

    username_validator = UnicodeUsernameValidator()

    username = models.CharField(
        _("用户名"), max_length=64, unique=True, validators=[username_validator],
        error_messages={"unique": _("该用户名已被使用。")},
    )
    full_name = models.CharField(_("姓名"), max_length=64, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    roles = models.ManyToManyField(Role, verbose_name=_("角色"), blank=True, related_name="users")
    regions = models.ManyToManyField(
        "core.Region", verbose_name=_("负责地区"), blank=True, related_name="users",
        help_text=_("包含其下级地区：分配运城市即可查看全市各县。"),
    )
    date_joined = models.DateTimeField(_("创建时间"), default=timezone.now)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    must_change_password = models.BooleanField(_("下次登录须修改密码"), default=False)
    failed_login_count = models.PositiveIntegerField(_("连续登录失败次数"), default=0)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)
    totp_secret = EncryptedTextField(_("两步验证密钥"), blank=True, default="")
    totp_confirmed_at = models.DateTimeField(_("两步验证启用时间"), null=True, blank=True)
    totp_last_step = models.BigIntegerField(_("上次验证码时间片"), default=0)
    preferences = models.JSONField(_("个人偏好"), default=dict, blank=True)

    objects = UserManager()

    audit_exclude = ("password", "last_login", "failed_login_count", "totp_last_step", "preferences")

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.full_name or self.username

    # --- password life ---------------------------------------------------------------------
    def set_password(self, raw_password):
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    @property
    def password_expired(self) -> bool:
        max_age = settings.PASSWORD_MAX_AGE_DAYS
        if not max_age or self.password_changed_at is None:
            return False
        return timezone.now() - self.password_changed_at > timedelta(days=max_age)

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()

    @property
    def totp_enabled(self) -> bool:
        return bool(self.totp_secret) and self.totp_confirmed_at is not None

    # --- roles and scope ---------------------------------------------------------------------
    @cached_property
    def role_list(self) -> list[Role]:
        return list(self.roles.all())

    @property
    def duties(self) -> set[str]:
        return {role.duty for role in self.role_list if role.duty}

    @property
    def is_administrator(self) -> bool:
        """Holds one of the three administrator duties (and so must use two-factor sign-in)."""
        return bool(self.duties)

    @property
    def sees_all_regions(self) -> bool:
        return any(role.all_regions for role in self.role_list)

    @property
    def can_view_personal(self) -> bool:
        return any(role.can_view_personal for role in self.role_list)

    @cached_property
    def region_paths(self) -> list[str]:
        return list(self.regions.values_list("path", flat=True))

    def scope_regions(self):
        """The regions this user covers: the assigned ones and every region under them."""
        from rencai.core.models.regions import Region

        if self.sees_all_regions:
            return Region.objects.all()
        if not self.region_paths:
            return Region.objects.none()
        condition = Q()
        for path in self.region_paths:
            condition |= Q(path__startswith=path)
        return Region.objects.filter(condition)

    # --- the parts of Django's permission API that templates and views use --------------------
    @property
    def is_staff(self) -> bool:
        return False

    @property
    def is_superuser(self) -> bool:
        # No account bypasses the role checks: separation of duties forbids an all-powerful user.
        return False

    def get_all_permissions(self, obj=None) -> set[str]:
        from django.contrib.auth import get_backends

        perms: set[str] = set()
        for backend in get_backends():
            if hasattr(backend, "get_all_permissions"):
                perms.update(backend.get_all_permissions(self, obj))
        return perms

    def has_perm(self, perm: str, obj=None) -> bool:
        return self.is_active and perm in self.get_all_permissions(obj)

    def has_perms(self, perm_list, obj=None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_active and any(p.startswith(f"{app_label}.") for p in self.get_all_permissions())
