"""The base every domain model inherits: the restricted manager, stamps and change logging.

``RestrictedQuerySet.restrict(user, action)`` is the one data-scope path of rencai: every view,
export, API endpoint, search and dashboard narrows its queryset through it (see core.scope).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RestrictedQuerySet(models.QuerySet):
    """A queryset that can narrow itself to what a user may do."""

    def restrict(self, user, action: str = "view") -> RestrictedQuerySet:
        from rencai.core.scope import restrict_queryset

        return restrict_queryset(self, user, action)


class RestrictedManager(models.Manager.from_queryset(RestrictedQuerySet)):
    pass


class ChangeLoggedModel(models.Model):
    """A model whose every create, update and delete is written to the audit log.

    The values loaded from the database are kept so the change log can name the fields a save
    changed (personal values masked) without reading the row again; see ``core.signals``.
    """

    # Fields left out of the change log (noise such as stamps and counters).
    audit_exclude: tuple[str, ...] = ()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_values = dict(zip(field_names, values, strict=True))
        return instance


class RencaiModel(ChangeLoggedModel):
    """Base of every domain model: created/updated stamps, change logging, restricted manager.

    ``region_scope_field`` names the path to the region a record belongs to, for data scope;
    ``None`` means the model is not region-scoped.
    """

    region_scope_field: str | None = None
    audit_exclude: tuple[str, ...] = ("created_at", "updated_at", "created_by", "updated_by")

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("更新人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    objects = RestrictedManager()

    class Meta:
        abstract = True


class RegionScopedModel(RencaiModel):
    """A record that belongs to a region (county); data scope follows that region."""

    region_scope_field = "region"

    region = models.ForeignKey(
        "core.Region",
        verbose_name=_("所属地区"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        abstract = True
