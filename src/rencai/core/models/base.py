"""The base every domain model inherits: the restricted manager, stamps and change logging.

``RestrictedQuerySet.restrict(user, action)`` is the one data-scope path of rencai: every view,
export, API endpoint, search and dashboard narrows its queryset through it (see core.scope).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F
from django.utils.hashable import make_hashable
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class RestrictedQuerySet(models.QuerySet):
    """A queryset that can narrow itself to what a user may do, and read the records its rows
    point to a model at a time."""

    _references: tuple[str, ...] = ()

    def restrict(self, user, action: str = "view") -> RestrictedQuerySet:
        from rencai.core.scope import restrict_queryset

        return restrict_queryset(self, user, action)

    def fetch_references(self, *names: str) -> RestrictedQuerySet:
        """Read the relations ``names`` of the fetched rows: the foreign keys with one query per
        related model, each many-to-many field with one query of its records joined to its link
        table.

        Eight dictionary fields (category, tier, education …) cost one ``id IN (…)`` query on
        dictionary items, not eight as ``prefetch_related`` would make, and no join either (a
        join of a dozen tables costs PostgreSQL more to plan than a page of 50 costs to read).
        A many-to-many field is filled as ``prefetch_related`` fills it (``row.tags.all()``
        reads no more), without the related manager and queryset it builds per row.
        """
        clone = self._chain()
        clone._references = tuple(dict.fromkeys((*self._references, *names)))
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._references = self._references
        return clone

    def _fetch_all(self):
        fetched = self._result_cache is not None
        super()._fetch_all()
        if self._references and not fetched and self._iterable_class is models.query.ModelIterable:
            attach_references(self._result_cache, self._references, self.db)


def attach_references(rows: list, names, using: str) -> None:
    """Fill the relations ``names`` of ``rows`` (model instances); see ``fetch_references``."""
    if not rows:
        return
    meta = rows[0]._meta
    by_model: dict = {}
    for name in names:
        field = meta.get_field(name)
        if field.many_to_many:
            _attach_many(rows, field, using)
        else:
            by_model.setdefault(field.related_model, []).append(field)
    for model, fields in by_model.items():
        wanted = [(row, field) for row in rows for field in fields if not field.is_cached(row)]
        ids = {getattr(row, field.attname) for row, field in wanted} - {None}
        found = {obj.pk: obj for obj in model._base_manager.using(using).filter(pk__in=ids).order_by()} if ids else {}
        for row, field in wanted:
            field.set_cached_value(row, found.get(getattr(row, field.attname)))


def _attach_many(rows: list, field, using: str) -> None:
    model = field.related_model
    ids = [row.pk for row in rows]
    owned: dict = {}
    if field.remote_field.hidden:  # no way back from the records: the link table, then the records
        through = field.remote_field.through
        source, target = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
        links = list(through._base_manager.using(using).filter(**{f"{source}__in": ids}).values_list(source, target))
        records = model._base_manager.using(using).filter(pk__in={pk for _owner, pk in links}) if links else []
        position = {record.pk: (index, record) for index, record in enumerate(records)}  # the model's ordering
        for owner, pk in sorted((link for link in links if link[1] in position), key=lambda link: position[link[1]][0]):
            owned.setdefault(owner, []).append(position[pk][1])
    else:
        # The records in the model's ordering, each with the row it belongs to: one query.
        back = field.related_query_name()
        records = model._base_manager.using(using).filter(**{f"{back}__in": ids}).annotate(_owner=F(back))
        shared: dict = {}
        for record in records:
            owned.setdefault(record.__dict__.pop("_owner"), []).append(shared.setdefault(record.pk, record))
    for row in rows:
        found = models.QuerySet(model=model, using=using)
        found._result_cache = owned.get(row.pk, [])
        found._prefetch_done = True
        row.__dict__.setdefault("_prefetched_objects_cache", {})[field.name] = found


def related_rows(obj, name: str) -> list:
    """The records of the to-many relation ``name`` of ``obj``: those ``fetch_references`` or
    ``prefetch_related`` read with its page, without building a related manager for each row
    (7 µs each); otherwise read now."""
    cached = getattr(obj, "_prefetched_objects_cache", {}).get(name)
    return list(cached) if cached is not None else list(getattr(obj, name).all())


_display_labels: dict = {}


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

    def _get_FIELD_display(self, field):  # noqa: N802 (Django's name)
        """``get_<field>_display()`` from labels worked out once per field and language.

        Django's own rebuilds the field's choices as a dict on every call, translating each
        label to hash it: 300 calls for a page of 50 talents took longer than reading the page.
        """
        key = (field, get_language())
        labels = _display_labels.get(key)
        if labels is None:
            labels = _display_labels[key] = {make_hashable(value): str(label) for value, label in field.flatchoices}
        value = getattr(self, field.attname)
        return labels.get(make_hashable(value), value)


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
