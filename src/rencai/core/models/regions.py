"""Administrative regions (行政区划, GB/T 2260) and the city's own zones."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rencai.core.models.base import ChangeLoggedModel, RestrictedManager


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("省级")
    PREFECTURE = "prefecture", _("地级")
    COUNTY = "county", _("县级")
    ZONE = "zone", _("功能区")


class Region(ChangeLoggedModel):
    """An administrative division: a province, a prefecture-level city, a county, or a zone.

    Codes follow GB/T 2260; zones such as 运城经济技术开发区 have no national code and carry a
    local one (``is_standard`` is false). ``path`` holds the codes from the root down
    (``/140000/140800/140802/``) so "this region and every region under it" is one prefix match.
    """

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("级别"), max_length=16, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(_("路径"), max_length=128, db_index=True, editable=False)
    is_standard = models.BooleanField(_("国家标准代码"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        """The name with its ancestors above prefecture level, e.g. 山西省运城市盐湖区."""
        names = []
        node = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))

    def compute_path(self) -> str:
        prefix = self.parent.path if self.parent_id else "/"
        return f"{prefix}{self.code}/"

    def save(self, *args, **kwargs):
        old_path = self.path
        self.path = self.compute_path()
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            # Moving a region moves everything under it.
            for child in self.children.all():
                child.save()
