"""The audit log (审计日志): append-only, each entry chained by keyed hash to the one before."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOGOUT = "logout", _("退出")
    LOCKED = "locked", _("账户锁定")
    PASSWORD_CHANGE = "password_change", _("修改密码")
    PASSWORD_RESET = "password_reset", _("重置密码")
    TOTP = "totp", _("两步验证设置")
    ACCESS_DENIED = "access_denied", _("拒绝访问")
    EXPORT = "export", _("导出")
    VIEW_PERSONAL = "view_personal", _("查看完整个人信息")
    TOKEN = "token", _("API 令牌")
    ROLE_ASSIGN = "role_assign", _("分配角色")
    BACKUP = "backup", _("备份")
    RESTORE = "restore", _("恢复")
    JOB = "job", _("后台任务")


class AuditEntry(models.Model):
    """One audited event: who did what to which record, when, from where, and the field changes.

    ``entry_hash`` is an HMAC over this entry's content and ``prev_hash``; altering or removing any
    row breaks the chain, which ``rencai audit verify`` reports. The table refuses UPDATE and
    DELETE at the database level (triggers, see migrations).
    """

    created_at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        "core.User", verbose_name=_("操作人"), null=True, blank=True, on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+",
    )
    actor_name = models.CharField(_("操作人账号"), max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    action = models.CharField(_("操作"), max_length=32, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True, db_index=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    region_code = models.CharField(_("所属地区"), max_length=12, blank=True)
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    prev_hash = models.CharField(_("前一条摘要"), max_length=64)
    entry_hash = models.CharField(_("本条摘要"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-id"]
        default_permissions = ("view",)
        permissions = [("export_auditentry", _("可以导出审计日志"))]
        indexes = [
            # The change-history tab of every record reads its entries by (type, id).
            models.Index(fields=["object_type", "object_id", "id"], name="core_audit_object_idx"),
            models.Index(fields=["actor", "id"], name="core_audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("audit entries are append-only")


class AuditChainHead(models.Model):
    """The single row that serialises writers of the chain and holds the latest hash."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    length = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("审计链头")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.length}: {self.last_hash[:12]}"
