"""Information collection (信息采集): what talents send in themselves, waiting for review.

Two kinds of submission reach the same review queue:

- a self-registration (自主登记) from the public page the office shares as a link or QR code,
  filled in by a native of the city working elsewhere;
- a correction (信息更正) sent through a talent's personal update link, proposing new values
  for the record the link was made for.

A submission belongs to a county like every business record: a registration to the county of
the person's 籍贯 (the county office that will look after them), a correction to the region of
the talent it is about. Staff accept it as a new talent, merge it into an existing record field
by field, or reject it; each submission is handled once.

The person's values are held in fields cloned from ``Talent`` (the same lengths, choices,
validation and encryption: ID-card and mobile numbers are ``ProtectedField`` here too), so a
submission always fits the record it may become. Once handled, its personal values are erased
(the record, or nobody, keeps them); the name, the outcome and the consent given stay.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.fields.related import RelatedField
from django.utils.translation import gettext_lazy as _

from rencai.core.fields import LookupHashField
from rencai.core.models import RegionScopedModel
from rencai.talents.choices import ConsentMethod
from rencai.talents.models import Talent

__all__ = ["PERSON_FIELDS", "IntakeSubmission", "SubmissionKind", "SubmissionStatus"]


class SubmissionKind(models.TextChoices):
    REGISTRATION = "registration", _("自主登记")
    UPDATE = "update", _("信息更正")


class SubmissionStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    ACCEPTED = "accepted", _("已新建人才")
    MERGED = "merged", _("已并入已有记录")
    REJECTED = "rejected", _("已驳回")


# The talent's fields a person fills in themselves, in the order of the form.
PERSON_FIELDS = (
    "name", "gender", "id_card", "mobile", "email", "wechat",
    "native_place", "work_country", "work_province", "work_city",
    "work_unit", "category", "position", "title",
    "education", "degree", "school", "major", "research_fields",
)


class IntakeSubmission(RegionScopedModel):
    """A self-registration or a correction sent in by a talent, waiting for review (信息采集)."""

    kind = models.CharField(_("类型"), max_length=16, choices=SubmissionKind.choices)
    status = models.CharField(_("审核状态"), max_length=16, choices=SubmissionStatus.choices,
                              default=SubmissionStatus.PENDING)
    talent = models.ForeignKey(
        Talent, verbose_name=_("人才"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="intake_submissions",
        help_text=_("信息更正：链接所属的人才；审核后：新建或并入的人才。"),
    )
    base_version = models.PositiveIntegerField(_("填写时的记录版本"), null=True, blank=True, editable=False)

    # --- consent (个人信息处理同意) -----------------------------------------------------------------
    consent_at = models.DateTimeField(_("同意时间"), null=True)
    consent_scope = models.CharField(_("同意范围"), max_length=200, blank=True)
    consent_method = models.CharField(_("同意方式"), max_length=16, choices=ConsentMethod.choices, blank=True)
    consent_notice = models.CharField(_("告知书版本"), max_length=16, blank=True)

    # --- review ------------------------------------------------------------------------------------
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", editable=False,
    )
    handled_at = models.DateTimeField(_("审核时间"), null=True, blank=True, editable=False)
    reject_reason = models.TextField(_("驳回理由"), blank=True)

    class Meta:
        verbose_name = _("信息采集")
        verbose_name_plural = _("信息采集")
        ordering = ["-created_at", "-id"]
        indexes = [
            # A county's queue (pending first asked for), newest first.
            models.Index(fields=["region", "status", "created_at"], name="liaison_intake_queue_idx"),
            models.Index(fields=["status", "created_at"], name="liaison_intake_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(consent_at__isnull=False), name="liaison_intake_consent_given",
                violation_error_message=_("未经本人同意，不能保存个人信息。"),
            ),
            models.UniqueConstraint(
                fields=["talent"], condition=Q(kind="update", status="pending"),
                name="liaison_intake_one_pending_update",
                violation_error_message=_("该人才已有一份待审核的信息更正。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.name}"

    @property
    def is_pending(self) -> bool:
        return self.status == SubmissionStatus.PENDING


def _talent_field(name: str) -> models.Field:
    """A copy of the talent's field ``name``: same label, length, choices and protection."""
    field = Talent._meta.get_field(name)
    if field.is_relation:
        # ``clone()`` of a foreign key asks the app registry whether its target is swappable,
        # which it cannot answer while models load; a region or a dictionary item never is.
        _name, _path, args, kwargs = RelatedField.deconstruct(field)
        kwargs.update(related_name="+", on_delete=field.remote_field.on_delete)
        copy = models.ForeignKey(field.remote_field.model, *args, **kwargs)
    else:
        copy = field.clone()
    if not isinstance(copy, LookupHashField):
        # Nothing looks submissions up by these: the queue reads by region, status and date.
        copy.db_index = False
    return copy


for _name in PERSON_FIELDS:
    IntakeSubmission.add_to_class(_name, _talent_field(_name))
IntakeSubmission.add_to_class("id_card_hash", _talent_field("id_card_hash"))
IntakeSubmission.add_to_class("mobile_hash", _talent_field("mobile_hash"))
