"""Tables: the base every list page and export builds on, and the tables of core's own models.

A table names its columns once; the list page shows what the user chose in the column chooser
(kept per user in ``user.preferences``) and an export writes the same columns. Protected
personal fields are always declared as ``ProtectedColumn``: the table refuses to be built with a
plain column over one, so a new table cannot leak an ID-card number by accident.
"""

from __future__ import annotations

import django_tables2 as tables
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_tables2.columns import library
from django_tables2.data import TableListData

from rencai.core.fields import ProtectedField
from rencai.core.models import Dictionary, DictionaryItem, OrgUnit, Region
from rencai.core.scope import user_can


def object_url(obj, action: str = "detail") -> str | None:
    """The URL of ``obj``'s ``<model>_<action>`` page, or None where the model declares none."""
    if obj is None or obj.pk is None:
        return None
    try:
        return reverse(f"{obj._meta.model_name}_{action}", kwargs={"pk": obj.pk})
    except NoReverseMatch:
        return None


def _field_at(model, accessor: str):
    """The model field an accessor such as ``contact_mobile`` or ``region__name`` ends at."""
    current = model
    field = None
    for part in accessor.replace(".", "__").split("__"):
        if current is None:
            return None
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        current = field.related_model if field.is_relation else None
    return field


@library.register
class ProtectedColumn(tables.Column):
    """A protected personal value, always masked in lists.

    Full values are seen one at a time on the detail page ("显示完整", audited). An export that
    the user confirmed, and that is audited, sets ``table.reveal_personal`` for roles allowed it.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("orderable", False)  # ciphertext has no meaningful order
        super().__init__(*args, **kwargs)

    @classmethod
    def from_field(cls, field, **kwargs):
        if isinstance(field, ProtectedField):
            return cls(**kwargs)
        return None

    def render(self, value, record, bound_column, table):
        if getattr(table, "reveal_personal", False):
            return value
        field = _field_at(type(record), bound_column.accessor)
        return field.mask(value) if isinstance(field, ProtectedField) else "******"

    def value(self, value, record, bound_column, table):
        return self.render(value, record, bound_column, table)


class SelectColumn(tables.CheckBoxColumn):
    """The row checkbox that feeds bulk edit and bulk delete."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("accessor", "pk")
        kwargs.setdefault("attrs", {
            "th__input": {"class": "form-check-input m-0 align-middle", "data-rencai-select-all": "",
                          "aria-label": _("全选")},
            "td__input": {"class": "form-check-input m-0 align-middle", "aria-label": _("选择")},
            "th": {"class": "w-1"},
            "td": {"class": "w-1"},
        })
        super().__init__(*args, **kwargs)


class ActionsColumn(tables.Column):
    """Edit and delete buttons, each shown only to users with that permission."""

    def __init__(self, *args, actions=("edit", "delete"), **kwargs):
        self.actions = actions
        kwargs.setdefault("accessor", "pk")
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("verbose_name", "")
        kwargs.setdefault("exclude_from_export", True)
        kwargs.setdefault("attrs", {"td": {"class": "text-end w-1"}})
        super().__init__(*args, **kwargs)

    def render(self, record, table):
        user = getattr(table, "user", None)
        buttons = []
        labels = {"edit": (_("修改"), "pencil", "btn-ghost-primary"), "delete": (_("删除"), "trash", "btn-ghost-danger")}
        permission = {"edit": "change", "delete": "delete"}
        for action in self.actions:
            if user is None or not user_can(user, type(record), permission.get(action, action)):
                continue
            url = object_url(record, action)
            if url is None:
                continue
            label, icon, css = labels.get(action, (action, "dots", "btn-ghost-secondary"))
            buttons.append((url, css, label, icon))
        return format_html_join(
            "", '<a href="{}" class="btn btn-sm btn-icon {}" title="{}"><i class="ti ti-{}"></i></a>', buttons
        ) or "—"


class _ModelListData(TableListData):
    """A list of model instances that still knows its model (for column headers)."""

    def __init__(self, data, model):
        super().__init__(list(data))
        self._model = model

    @property
    def model(self):
        return self._model


class BaseTable(tables.Table):
    """Base of every list table.

    ``user`` decides masking and which row actions show; ``columns`` (the column chooser's saved
    choice) decides which columns show and in what order. ``pk`` and ``actions`` are not
    choosable: they belong to the page, not to the data.
    """

    pk = SelectColumn()
    actions = ActionsColumn()

    exempt_columns = ("pk", "actions")
    # Columns shown until the user chooses; empty means every column.
    default_columns: tuple[str, ...] = ()

    class Meta:
        attrs = {"class": "table card-table table-vcenter table-hover text-nowrap"}
        orderable = True
        empty_text = _("没有符合条件的记录。")
        template_name = "core/table.html"

    def __init__(self, data, *, user=None, columns=None, selectable=True, **kwargs):
        self.user = user
        if not hasattr(data, "order_by") and self._meta.model is not None:
            # A keyset page is a list; keep the model so headers come from verbose_name.
            data = _ModelListData(data, self._meta.model)
        super().__init__(data, **kwargs)
        self._check_protected_columns()
        if not selectable:
            self.columns.hide("pk")
        self.apply_columns(columns)

    def _check_protected_columns(self) -> None:
        model = self._meta.model
        if model is None:
            return
        for bound in self.columns.iterall():
            field = _field_at(model, str(bound.accessor))
            if isinstance(field, ProtectedField) and not isinstance(bound.column, ProtectedColumn):
                raise ImproperlyConfigured(
                    f"{type(self).__name__}.{bound.name} shows the protected field {field.name}: use ProtectedColumn"
                )

    # --- the column chooser -----------------------------------------------------------------
    @property
    def choosable_columns(self) -> list[tuple[str, str]]:
        return [(c.name, str(c.header)) for c in self.columns.iterall() if c.name not in self.exempt_columns]

    @property
    def default_visible(self) -> list[str]:
        names = [name for name, _label in self.choosable_columns]
        return [n for n in self.default_columns if n in names] or names

    def apply_columns(self, columns) -> None:
        names = [name for name, _label in self.choosable_columns]
        chosen = [c for c in (columns or []) if c in names] or self.default_visible
        for name in names:
            if name in chosen:
                self.columns.show(name)
            else:
                self.columns.hide(name)
        leading = [n for n in self.sequence if n == "pk"]
        trailing = [n for n in self.sequence if n == "actions"]
        hidden = [n for n in names if n not in chosen]
        self.sequence = [*leading, *chosen, *hidden, *trailing]
        self.visible_columns = chosen

    @property
    def chooser_columns(self) -> list[dict]:
        """Every choosable column in the user's order, visible ones first, for the chooser form."""
        labels = dict(self.choosable_columns)
        ordered = [*self.visible_columns, *[n for n in labels if n not in self.visible_columns]]
        return [{"name": n, "label": labels[n], "visible": n in self.visible_columns} for n in ordered]


# --- per-user table preferences ------------------------------------------------------------------
def table_preferences(user, key: str) -> dict:
    """What ``user`` chose for the table ``key``: ``{"columns": [...], "per_page": 50}``."""
    tables_prefs = (getattr(user, "preferences", None) or {}).get("tables", {})
    prefs = tables_prefs.get(key, {})
    return prefs if isinstance(prefs, dict) else {}


def save_table_preferences(user, key: str, *, columns: list[str] | None = None, per_page: int | None = None,
                           reset: bool = False) -> None:
    """Store the column choice and page size for table ``key`` in ``user.preferences``.

    The row is locked and read afresh, so two tabs saving different tables keep both choices.
    """
    from rencai.core.models import User

    with transaction.atomic():
        fresh = User.objects.select_for_update().only("id", "preferences").get(pk=user.pk)
        preferences = dict(fresh.preferences or {})
        all_tables = dict(preferences.get("tables") or {})
        if reset:
            all_tables.pop(key, None)
        else:
            entry = dict(all_tables.get(key) or {})
            if columns is not None:
                entry["columns"] = list(columns)
            if per_page is not None:
                entry["per_page"] = int(per_page)
            all_tables[key] = entry
        preferences["tables"] = all_tables
        fresh.preferences = preferences
        fresh.save(update_fields=["preferences"])
    user.preferences = preferences


# --- core's own tables ----------------------------------------------------------------------------
def _linked(**kwargs):
    return tables.Column(linkify=lambda record: object_url(record), **kwargs)


class OrgUnitTable(BaseTable):
    name = _linked()
    kind = tables.Column()
    region = tables.Column(linkify=lambda record: object_url(record.region), order_by=("region__path",))
    parent = tables.Column(linkify=lambda record: object_url(record.parent), order_by=("parent__name",))
    contact_name = tables.Column()
    contact_mobile = ProtectedColumn()
    address = tables.Column()
    updated_at = tables.DateTimeColumn(format="Y-m-d H:i")

    default_columns = ("name", "kind", "region", "parent", "contact_name", "contact_mobile")

    class Meta(BaseTable.Meta):
        model = OrgUnit
        fields = ("pk", "name", "kind", "region", "parent", "contact_name", "contact_mobile", "address",
                  "updated_at", "actions")


class RegionTable(BaseTable):
    code = _linked()
    name = _linked()
    level = tables.Column()
    parent = tables.Column(linkify=lambda record: object_url(record.parent), order_by=("parent__code",))
    is_standard = tables.BooleanColumn(yesno=(_("是"), _("否")))
    is_active = tables.BooleanColumn(yesno=(_("是"), _("否")))

    class Meta(BaseTable.Meta):
        model = Region
        fields = ("pk", "code", "name", "level", "parent", "is_standard", "is_active", "actions")


class DictionaryTable(BaseTable):
    code = _linked()
    name = _linked()
    standard = tables.Column()
    item_count = tables.Column(verbose_name=_("字典项数"), orderable=False, accessor="item_count",
                               attrs={"td": {"class": "text-end"}})

    class Meta(BaseTable.Meta):
        model = Dictionary
        fields = ("pk", "code", "name", "standard", "item_count", "actions")


class DictionaryItemTable(BaseTable):
    code = tables.Column(linkify=lambda record: object_url(record))
    label = tables.Column()
    parent = tables.Column(order_by=("parent__code",))
    synonyms = tables.Column(orderable=False)
    sort_order = tables.Column()
    is_active = tables.BooleanColumn(yesno=(_("是"), _("否")))

    class Meta(BaseTable.Meta):
        model = DictionaryItem
        fields = ("pk", "code", "label", "parent", "synonyms", "sort_order", "is_active", "actions")

    def render_synonyms(self, value):
        return "、".join(str(v) for v in value) if value else "—"

    def render_parent(self, value):
        return format_html("{} {}", value.code, value.label)
