"""Liaison work (联络服务): contact records, the cadence of contact, each talent's schedule, leads.

A contact record (联络记录) is one conversation, visit or meeting with one or more talents. It
belongs to a region like every business record: by default the county of its talents (the city
when they come from several counties), so a county office sees the contacts about its own people.

How often each talent should be contacted comes from cadence rules (联络周期): the first rule,
in order, whose conditions (tier, category, talent database) the talent meets gives the interval.
Each talent's schedule (``ContactState``: last contact, failed attempts, next due date) is
worked out from its contacts and the rules by ``liaison.schedule`` and kept in step with every
write of a contact or of a talent; it carries the talent's region, liaison officer and whether
the talent is still followed, so a county's overdue worklist is one index range at any size.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rencai.core.models import RegionScopedModel, RencaiModel
from rencai.core.models.base import RestrictedManager
from rencai.liaison.choices import Channel, LeadKind, LeadStatus, RequestStatus
from rencai.talents.models import dictionary_fk


class ContactRecord(RegionScopedModel):
    """One contact with one or more talents (联络记录)."""

    talents = models.ManyToManyField("talents.Talent", verbose_name=_("联络对象"), related_name="contacts")
    channel = models.CharField(_("联络方式"), max_length=16, choices=Channel.choices)
    contacted_at = models.DateTimeField(_("联络时间"))
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("联络人员"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    reached = models.BooleanField(_("已联系上"), default=True,
                                  help_text=_("未接通、未回复等未联系上的尝试不计为一次联络，连续多次将提示失联。"))
    summary = models.TextField(_("联络内容"), blank=True)
    topics = models.ManyToManyField(
        "core.DictionaryItem", verbose_name=_("话题"), blank=True, related_name="+",
        limit_choices_to={"dictionary__code": "contact_topic"},
    )
    next_contact_date = models.DateField(_("下次联络日期"), null=True, blank=True,
                                         help_text=_("留空则按联络周期计算。"))

    class Meta:
        verbose_name = _("联络记录")
        verbose_name_plural = _("联络记录")
        ordering = ["-contacted_at", "-id"]
        indexes = [
            models.Index(fields=["region", "contacted_at"], name="liaison_contact_region_idx"),
            models.Index(fields=["contacted_at"], name="liaison_contact_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.contacted_at:%Y-%m-%d}"


class ContactRequest(RencaiModel):
    """A request a talent made in a contact (诉求), followed until it is handled."""

    region_scope_field = "contact__region"

    contact = models.ForeignKey(ContactRecord, verbose_name=_("联络记录"), on_delete=models.CASCADE,
                                related_name="requests")
    talent = models.ForeignKey("talents.Talent", verbose_name=_("提出人"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="contact_requests")
    content = models.TextField(_("诉求内容"))
    status = models.CharField(_("办理状态"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("承办人"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    result = models.TextField(_("办理结果"), blank=True)
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        ordering = ["contact", "id"]

    def __str__(self) -> str:
        return self.content[:30]


class CadenceRule(RencaiModel):
    """How often talents who meet the rule's conditions are contacted (联络周期).

    A blank condition matches every talent; the first active rule in ``sort_order`` that a
    talent meets applies, and a talent no rule meets is contacted every ``DEFAULT_INTERVAL``.
    """

    city_configuration = True

    name = models.CharField(_("名称"), max_length=64)
    tier = dictionary_fk(_("人才层次"), "talent_tier")
    category = models.ForeignKey(
        "core.DictionaryItem", verbose_name=_("人才类别"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", limit_choices_to={"dictionary__code__in": ["talent_category_native", "talent_system_local"]},
    )
    database = models.ForeignKey("talents.TalentDatabase", verbose_name=_("人才库"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    interval_days = models.PositiveIntegerField(_("联络间隔（天）"))
    sort_order = models.PositiveIntegerField(_("顺序"), default=0, help_text=_("数字小的先匹配。"))
    is_active = models.BooleanField(_("启用"), default=True)

    DEFAULT_INTERVAL = 90

    class Meta:
        verbose_name = _("联络周期")
        verbose_name_plural = _("联络周期")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class ContactState(models.Model):
    """A talent's liaison schedule, derived from its contacts and the cadence rules (never edited).

    ``region``, ``liaison_officer`` and ``followed`` copy the talent's (its managing region, its
    liaison officer, and a status still worth contacting), kept in step by ``liaison.schedule``
    on every write of the talent, so the worklists read this table alone.
    """

    # Rebuilt for the survivor when two talents merge, dropped with a talent an import undo removes.
    derived_from_talent = True
    region_scope_field = "region"

    talent = models.OneToOneField("talents.Talent", verbose_name=_("人才"), primary_key=True, on_delete=models.CASCADE,
                                  related_name="contact_state")
    region = models.ForeignKey("core.Region", verbose_name=_("所属地区"), on_delete=models.CASCADE, related_name="+")
    liaison_officer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("联络员"), null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+", db_index=False)
    followed = models.BooleanField(_("在联络范围"), default=True)
    last_contact_at = models.DateTimeField(_("最近联系上"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("最近联络尝试"), null=True, blank=True)
    failed_attempts = models.PositiveIntegerField(_("连续未联系上次数"), default=0)
    interval_days = models.PositiveIntegerField(_("联络间隔（天）"))
    next_due = models.DateField(_("下次联络日期"))

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("联络计划")
        verbose_name_plural = _("联络计划")
        default_permissions = ("view",)
        indexes = [
            # A county's (or a liaison officer's) due and overdue talents, soonest first, and their count.
            models.Index(fields=["followed", "region", "next_due", "talent"], name="liaison_state_region_idx"),
            models.Index(fields=["followed", "liaison_officer", "next_due", "talent"], name="liaison_state_officer_idx"),
            # The same across the whole city.
            models.Index(fields=["followed", "next_due", "talent"], name="liaison_state_due_idx"),
            # A county's probably lost talents (failed attempts in a row), and their count.
            models.Index(fields=["followed", "region", "failed_attempts"], name="liaison_state_lost_idx"),
            # A county's worklist sizes per liaison officer, read from the index alone.
            models.Index(fields=["followed", "region", "liaison_officer", "next_due", "failed_attempts"],
                         name="liaison_state_summary_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.talent_id} → {self.next_due}"


class Lead(RegionScopedModel):
    """A lead (线索) from liaison work: an intention to invest or start a business at home, a
    project, a talent recommended, an appeal."""

    kind = models.CharField(_("线索类型"), max_length=16, choices=LeadKind.choices)
    title = models.CharField(_("线索"), max_length=200)
    description = models.TextField(_("详细情况"), blank=True)
    talent = models.ForeignKey("talents.Talent", verbose_name=_("相关人才"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="leads")
    contact = models.ForeignKey(ContactRecord, verbose_name=_("来源联络记录"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="leads")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("负责人"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("状态"), max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW)
    due_date = models.DateField(_("办理期限"), null=True, blank=True)
    outcome = models.TextField(_("进展与结果"), blank=True)

    class Meta:
        verbose_name = _("线索")
        verbose_name_plural = _("线索")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["region", "status", "due_date"], name="liaison_lead_region_idx")]

    def __str__(self) -> str:
        return self.title


from rencai.liaison.models_campaigns import *  # noqa: E402, F403  (campaigns, opt-outs, the outbox)
from rencai.liaison.models_intake import *  # noqa: E402, F403  (self-registration and update links)
