"""Organisational units (组织机构): the talent offices, departments and units of the city."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rencai.core.fields import LookupHashField, ProtectedField
from rencai.core.models.base import RegionScopedModel


class OrgUnitKind(models.TextChoices):
    TALENT_OFFICE = "talent_office", _("人才工作机构")
    PARTY = "party", _("党委部门")
    GOVERNMENT = "government", _("政府部门")
    INSTITUTION = "institution", _("事业单位")
    ENTERPRISE = "enterprise", _("企业")
    OTHER = "other", _("其他")


class OrgUnit(RegionScopedModel):
    """A unit in the city's talent work: 市人才办, a county's 人才办, a department or a unit that
    reports data. It belongs to a region, so county officers see their own county's units only."""

    name = models.CharField(_("名称"), max_length=128)
    kind = models.CharField(_("类型"), max_length=32, choices=OrgUnitKind.choices, default=OrgUnitKind.OTHER)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级机构"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    contact_mobile = ProtectedField(_("联系人手机"), kind="mobile")
    contact_mobile_hash = LookupHashField(source="contact_mobile")
    address = models.CharField(_("地址"), max_length=200, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("组织机构")
        verbose_name_plural = _("组织机构")
        ordering = ["region__path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "name"],
                name="core_orgunit_unique_name_in_region",
                violation_error_message=_("同一地区已有同名机构。"),
            )
        ]

    def __str__(self) -> str:
        return self.name
