"""Campaigns and greetings (宣传推送与节日问候): messages to many talents at once, and who asked
to receive no more.

A campaign (推送活动) is one message — a newsletter about the hometown, a policy, an invitation, a
request to check one's details, a greeting — sent through one channel to an audience: the
talents of a saved view of the registry, resolved within the scope of the user who made the
campaign (a county officer's campaign reaches their own county's talents only), or a list of
talents (a day's birthdays). It belongs to a region like every business record.

Sending materialises one ``CampaignRecipient`` per talent, each with its own status (queued,
sent, failed, opted out), attempts and next attempt time, so a send cut off by a restart picks
up where it stopped. ``OptOut`` records a talent's wish to receive nothing more through a
channel (or any): every later campaign marks them 已退订 instead of sending. SMS and WeChat
messages go to ``OutboxMessage`` unless a gateway sender is configured (``liaison.senders``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rencai.core.fields import EncryptedTextField
from rencai.core.models import RegionScopedModel, RencaiModel
from rencai.core.models.base import RestrictedManager


class CampaignKind(models.TextChoices):
    NEWSLETTER = "newsletter", _("家乡通讯")
    POLICY = "policy", _("政策推送")
    EVENT = "event", _("活动邀请")
    UPDATE = "update", _("信息更新")
    FESTIVAL = "festival", _("节日问候")
    BIRTHDAY = "birthday", _("生日祝福")


class CampaignChannel(models.TextChoices):
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    CANCELLED = "cancelled", _("已停止")


class RecipientStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    # Claimed by a sending job and handed to the sender; a row a vanished worker left so is not
    # sent again but marked failed, with the reason (whether it went out is not known).
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    OPTED_OUT = "opted_out", _("已退订")


class OptOutSource(models.TextChoices):
    LINK = "link", _("本人通过退订链接")
    STAFF = "staff", _("工作人员登记")


class Campaign(RegionScopedModel):
    """A message sent to many talents through one channel (推送活动)."""

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=CampaignKind.choices)
    channel = models.CharField(_("发送渠道"), max_length=16, choices=CampaignChannel.choices)
    subject = models.CharField(_("邮件标题"), max_length=200, blank=True,
                               help_text=_("仅电子邮件使用；可含占位符。"))
    body = models.TextField(_("内容模板"), help_text=_("可用占位符如 {姓名}、{称谓}、{单位}、{职务}、{更新链接}。"))
    audience_name = models.CharField(_("发送对象"), max_length=100, blank=True,
                                     help_text=_("所用人才库视图的名称。"))
    # The saved view's filters, copied when the campaign is made: a later change of the view does
    # not change whom a campaign already reviewed goes to.
    audience_query = models.TextField(_("筛选条件"), blank=True)
    # Who chose that view: the audience is resolved in their data scope (the maker's when empty).
    audience_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("选定发送对象的用户"), null=True, blank=True,
                                    editable=False, on_delete=models.SET_NULL, related_name="+")
    region_only = models.BooleanField(_("仅本级管理的人才"), default=False,
                                      help_text=_("不含下级地区管理的人才（节日问候草稿按地区分别生成）。"))
    talents = models.ManyToManyField("talents.Talent", verbose_name=_("指定人才"), blank=True, related_name="+")
    occasion = models.CharField(_("问候场合"), max_length=64, blank=True, editable=False,
                                help_text=_("自动生成的问候草稿所对应的节日或生日日期。"))
    occasion_date = models.DateField(_("问候日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    job = models.ForeignKey("core.Job", verbose_name=_("发送任务"), null=True, blank=True, editable=False,
                            on_delete=models.SET_NULL, related_name="+")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发送人"), null=True, blank=True,
                                editable=False, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(_("开始发送"), null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("发送结束"), null=True, blank=True, editable=False)
    recipients_ready = models.BooleanField(_("已生成发送名单"), default=False, editable=False)

    class Meta:
        verbose_name = _("推送活动")
        verbose_name_plural = _("推送活动")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "occasion"], condition=~models.Q(occasion=""), name="liaison_campaign_occasion_uniq",
                violation_error_message=_("该地区的这个问候场合已有草稿。"),
            ),
        ]
        indexes = [models.Index(fields=["region", "status"], name="liaison_campaign_region_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_draft(self) -> bool:
        return self.status == CampaignStatus.DRAFT


class CampaignRecipient(models.Model):
    """One talent of a campaign's audience and what became of its message (written in bulk by the
    sending job; the campaign's audit entries tell who sent it)."""

    region_scope_field = "campaign__region"

    campaign = models.ForeignKey(Campaign, verbose_name=_("推送活动"), on_delete=models.CASCADE, related_name="recipients")
    talent = models.ForeignKey("talents.Talent", verbose_name=_("人才"), on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("状态"), max_length=16, choices=RecipientStatus.choices, default=RecipientStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    # What went wrong, in words for the office; never the address or a server's reply verbatim.
    error = models.CharField(_("失败原因"), max_length=200, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("发送对象")
        verbose_name_plural = _("发送对象")
        ordering = ["campaign", "id"]
        default_permissions = ("view",)
        indexes = [models.Index(fields=["campaign", "status", "next_attempt_at"], name="liaison_recipient_due_idx")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.talent_id}"


class OptOut(RencaiModel):
    """A talent's wish to receive no more campaigns through a channel, or through any (退订)."""

    region_scope_field = "talent__region"

    talent = models.ForeignKey("talents.Talent", verbose_name=_("人才"), on_delete=models.CASCADE, related_name="opt_outs")
    channel = models.CharField(_("退订渠道"), max_length=16, choices=CampaignChannel.choices, blank=True,
                               help_text=_("留空表示全部渠道。"))
    source = models.CharField(_("来源"), max_length=16, choices=OptOutSource.choices, default=OptOutSource.STAFF)
    campaign = models.ForeignKey(Campaign, verbose_name=_("来自推送活动"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("退订")
        verbose_name_plural = _("退订")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["talent", "channel"], name="liaison_optout_talent_idx")]

    def __str__(self) -> str:
        return f"{self.talent} · {self.get_channel_display() or _('全部渠道')}"


class CampaignSendPace(models.Model):
    """The send-rate limit shared by every sending job: one row holding the earliest moment the
    next campaign message may leave (each job reserves its slot here under the row's lock)."""

    next_at = models.DateTimeField(_("下一条可发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("推送发送节奏")
        verbose_name_plural = _("推送发送节奏")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.next_at}"


class OutboxMessage(models.Model):
    """An SMS or WeChat message as the default sender keeps it (发件箱): for staff to see what went
    out, or to send on by hand, where no gateway is configured. Address and text are encrypted."""

    region_scope_field = "region"

    channel = models.CharField(_("渠道"), max_length=16, choices=CampaignChannel.choices)
    region = models.ForeignKey("core.Region", verbose_name=_("所属地区"), on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(Campaign, verbose_name=_("推送活动"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    talent = models.ForeignKey("talents.Talent", verbose_name=_("人才"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    address = EncryptedTextField(_("接收号码/账号"))
    body = EncryptedTextField(_("内容"))
    created_at = models.DateTimeField(_("写入时间"), auto_now_add=True, db_index=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("发件箱")
        verbose_name_plural = _("发件箱")
        ordering = ["-created_at", "-id"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.created_at:%Y-%m-%d %H:%M}"


__all__ = [
    "Campaign", "CampaignChannel", "CampaignKind", "CampaignRecipient", "CampaignSendPace", "CampaignStatus", "OptOut", "OptOutSource",
    "OutboxMessage", "RecipientStatus",
]
