"""Dictionaries (数据字典): code tables such as ethnicities, education levels and talent tiers."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rencai.core.models.base import ChangeLoggedModel, RestrictedManager


class Dictionary(ChangeLoggedModel):
    """A named code table, e.g. ``ethnicity`` (GB/T 3304) or ``talent_tier`` (A–E)."""

    code = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    standard = models.CharField(_("依据标准"), max_length=64, blank=True)
    description = models.TextField(_("说明"), blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("数据字典")
        verbose_name_plural = _("数据字典")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class DictionaryItem(ChangeLoggedModel):
    """One value of a dictionary: its code, label, synonyms (for matching imported text) and
    an optional parent (e.g. a category under the kind of talent it belongs to)."""

    dictionary = models.ForeignKey(
        Dictionary, verbose_name=_("字典"), on_delete=models.CASCADE, related_name="items"
    )
    code = models.CharField(_("代码"), max_length=32)
    label = models.CharField(_("名称"), max_length=128)
    synonyms = models.JSONField(_("同义词"), default=list, blank=True)
    description = models.TextField(_("说明"), blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("字典项")
        verbose_name_plural = _("字典项")
        ordering = ["dictionary", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["dictionary", "code"],
                name="core_dictionaryitem_unique_code",
                violation_error_message=_("同一字典中的代码不能重复。"),
            )
        ]

    def __str__(self) -> str:
        return self.label
