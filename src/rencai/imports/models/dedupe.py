"""Duplicate candidate pairs, decisions and merges (一人一档：查重与合并).

A dedupe run proposes pairs of talents that may be the same person, each with its score and the
evidence per field. A reviewer merges a pair or decides 「不是同一人」; that decision stays on the
pair, so later runs never propose it again. A merge keeps what is needed to undo it: the merged
record as it was (encrypted, since it holds personal data), the survivor's values it replaced,
and which related rows moved.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from rencai.core.fields import EncryptedTextField
from rencai.core.models import RencaiModel
from rencai.core.models.base import RestrictedManager

__all__ = ["DuplicatePair", "DuplicateStatus", "Merge"]


class DuplicateStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    MERGED = "merged", _("已合并")
    DISTINCT = "distinct", _("不是同一人")


class DuplicatePair(models.Model):
    """Two talents that may be the same person (疑似重复), ``left`` the older record.

    Data scope follows ``left``; the review queue further keeps only pairs whose ``right`` is in
    scope too, so a county officer never sees another county's person through a pair.

    Like the search index, a pending pair is derived data that each run rewrites by the thousand,
    so it is not change-logged row by row (that would put thousands of entries in the audit log
    per run); the run, each decision and each merge write their own audit entries.
    """

    region_scope_field = "left__region"

    left = models.ForeignKey("talents.Talent", verbose_name=_("记录甲"), on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey("talents.Talent", verbose_name=_("记录乙"), on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("相似度"), help_text=_("是同一人的概率（0–1）。"))
    weight = models.FloatField(_("证据权重"), default=0)
    evidence = models.JSONField(_("逐项比对"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=DuplicateStatus.choices, default=DuplicateStatus.PENDING)
    left_version = models.PositiveIntegerField(_("记录甲版本"), default=0)
    right_version = models.PositiveIntegerField(_("记录乙版本"), default=0)
    found_at = models.DateTimeField(_("发现时间"), auto_now_add=True)
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        "core.User", verbose_name=_("审核人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("疑似重复")
        verbose_name_plural = _("疑似重复")
        ordering = ["-score", "pk"]
        indexes = [models.Index(fields=["status", "score"], name="imports_dup_status_score_idx")]
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="imports_dup_unique_pair",
                                    violation_error_message=_("这两条记录已在疑似重复列表中。")),
            models.CheckConstraint(condition=Q(left__lt=F("right")), name="imports_dup_ordered_pair",
                                   violation_error_message=_("记录甲应为编号较小的记录。")),
        ]

    def __str__(self) -> str:
        return f"{self.left_id} ~ {self.right_id} ({self.score:.2f})"


class Merge(RencaiModel):
    """One merge of two talents (合并记录): ``merged_id`` was folded into ``survivor``.

    ``snapshot`` holds, encrypted, the merged record's field values, its many-to-many links and
    the survivor's values that the merge replaced; ``moved`` lists the related rows (by model and
    primary key) that were re-pointed to the survivor. Together they let ``undo_merge`` put both
    records back as they were.
    """

    region_scope_field = "survivor__region"

    survivor = models.ForeignKey("talents.Talent", verbose_name=_("保留记录"), on_delete=models.CASCADE,
                                 related_name="+")
    merged_id = models.PositiveBigIntegerField(_("被合并记录编号"))
    merged_name = models.CharField(_("被合并记录姓名"), max_length=64)
    survivor_version = models.PositiveIntegerField(_("合并后版本"), default=0)
    chosen = models.JSONField(_("逐项取值"), default=dict, blank=True,
                              help_text=_("每个字段取自哪条记录（survivor / merged）。"))
    snapshot = EncryptedTextField(_("合并前快照"), blank=True, default="")
    moved = models.JSONField(_("转移的关联记录"), default=dict, blank=True)
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    undone_by = models.ForeignKey(
        "core.User", verbose_name=_("撤销人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )

    audit_exclude = (*RencaiModel.audit_exclude, "snapshot")

    class Meta:
        verbose_name = _("合并记录")
        verbose_name_plural = _("合并记录")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.merged_name} → {self.survivor_id}"
