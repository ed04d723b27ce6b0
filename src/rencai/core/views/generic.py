"""Generic views, written once and declared per model.

A model's pages are a ``ViewSet`` declaration — model, queryset, filterset, table, form — and its
URLs come from that declaration::

    class OrgUnitViews(ViewSet):
        model = OrgUnit
        url_prefix = "orgunits"
        filterset = OrgUnitFilterSet
        table = OrgUnitTable
        form = OrgUnitForm
        bulk_edit_fields = ("kind", "region")

    urlpatterns = OrgUnitViews.urls()   # orgunit_list, orgunit_detail, orgunit_add, …

Per-model behaviour goes in the declaration's hooks (``get_queryset``, ``get_initial``,
``before_save``, ``get_detail_context`` …), never in a copied ``post()``.

Every view goes through data scope: a list shows ``restrict(user, "view")``; an object page
looks its object up in ``restrict(user, action)`` and answers 404 when it is not there (another
county's record, or no permission at all); a save re-checks scope inside its transaction with
``check_in_scope``, so a record cannot be moved into a county the user does not cover. A list or
a create without permission answers 403: the page exists, the user may not use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, linebreaks
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View

from rencai.core import audit
from rencai.core.bulk import bulk_delete_objects, bulk_edit_objects, bump_version
from rencai.core.fields import EncryptedTextField, LookupHashField, ProtectedField
from rencai.core.forms import (
    CONCURRENCY_INPUT,
    TableConfigForm,
    add_refusal,
    bulk_edit_form_for,
    concurrency_token,
    widget_css_class,
)
from rencai.core.models import AuditEntry
from rencai.core.models.audit import AuditAction
from rencai.core.pagination import (
    DEFAULT_PAGE_SIZE,
    PAGE_SIZES,
    InvalidCursor,
    KeysetPaginator,
    RankedPaginator,
)
from rencai.core.scope import check_in_scope, user_can
from rencai.core.tables import object_url, save_table_preferences, table_preferences

LIST_ACTIONS = ("list", "add", "bulk_edit", "bulk_delete")
OBJECT_ACTIONS = ("detail", "edit", "delete", "changelog")
ALL_ACTIONS = LIST_ACTIONS + OBJECT_ACTIONS
RESULTS_ID = "object-list-results"
# How a change to a set of rows (memberships, history rows) is logged, as the office reads it.
CHANGE_VERBS = {"added": _lazy("新增"), "removed": _lazy("移除"), "changed": _lazy("修改"), "cleared": _lazy("清空")}


# --- tabs on a detail page: the extension point other areas use -------------------------------------
@dataclass(frozen=True)
class ObjectTab:
    """A tab on a model's detail page, e.g. "联络记录" registered by the liaison area for talents.

    ``get_context(request, obj)`` returns the template context (it must itself restrict any
    queryset it shows); ``permission`` hides the tab from users without it; ``badge(obj, user)`` may
    return a number shown beside the label (counting only what ``user`` may see).
    """

    name: str
    label: str
    template_name: str
    get_context: Any = None
    permission: str | None = None
    weight: int = 100
    badge: Any = None


_tabs: dict[str, dict[str, ObjectTab]] = {}


def register_tab(model, tab: ObjectTab) -> None:
    """Add ``tab`` to the detail page of ``model`` (call from an AppConfig.ready)."""
    _tabs.setdefault(model._meta.label_lower, {})[tab.name] = tab


def tabs_for(model, user) -> list[ObjectTab]:
    registered = _tabs.get(model._meta.label_lower, {}).values()
    return sorted(
        (t for t in registered if not t.permission or user.has_perm(t.permission)),
        key=lambda t: (t.weight, t.name),
    )


# --- helpers ---------------------------------------------------------------------------------------
def safe_return_url(request, default: str | None) -> str | None:
    candidate = request.POST.get("return_url") or request.GET.get("return_url")
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, request.is_secure()):
        return candidate
    return default


def _url(name: str, **kwargs) -> str | None:
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def display_value(obj, model_field, value, *, html: bool = True, raw_choice: bool = False) -> str:
    """A field's value as the office reads it: choice labels, 是/否, local dates, linked records.

    ``raw_choice``: ``value`` is a choice code (from a form), not necessarily the object's own.
    """
    if value in (None, "", [], {}):
        return "—"
    if isinstance(model_field, models.ManyToManyField):
        items = value.all() if hasattr(value, "all") else value
        return "、".join(str(item) for item in items) or "—"
    if isinstance(model_field, ProtectedField):
        return model_field.mask(value)
    if isinstance(model_field, EncryptedTextField):
        return audit.MASKED_SECRET
    if getattr(model_field, "choices", None):
        if raw_choice:
            return str(dict(model_field.flatchoices).get(value, value))
        return getattr(obj, f"get_{model_field.name}_display")()
    if isinstance(model_field, models.BooleanField):
        return _("是") if value else _("否")
    if isinstance(model_field, models.DateTimeField):
        return date_format(localtime(value), "Y-m-d H:i")
    if isinstance(model_field, models.DateField):
        return date_format(value, "Y-m-d")
    if isinstance(model_field, models.ForeignKey):
        url = object_url(value) if html else None
        return format_html('<a href="{}">{}</a>', url, value) if url else str(value)
    if isinstance(model_field, models.TextField) and html:
        return mark_safe(linebreaks(value, autoescape=True))  # noqa: S308  (linebreaks escaped the text)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


# --- the declaration -------------------------------------------------------------------------------
class ViewSet:
    """The pages of one model. Subclass, name the parts, override hooks where a model differs."""

    model: type[models.Model]
    url_prefix: str = ""
    queryset = None  # for the list; defaults to every row
    filterset = None
    table = None
    form = None
    bulk_edit_fields: tuple[str, ...] = ()
    # The list's order until the user sorts by a column; None: the model's Meta.ordering. Name an
    # order an index serves, so every page of a large table is read from the index.
    ordering: tuple[str, ...] | None = None
    ordering_index: str | None = None  # the name of the index on ``ordering``, if there is one
    # Names of fields (or ``(attribute, label)`` pairs) on the detail page; None: every field.
    detail_fields: tuple | None = None
    actions: tuple[str, ...] = ALL_ACTIONS

    list_template = "core/object_list.html"
    list_results_template = "core/_list_results.html"  # what an htmx filter, sort or page swaps in
    detail_template = "core/object_detail.html"
    edit_template = "core/object_edit.html"
    delete_template = "core/object_delete.html"

    def __init__(self, request=None):
        self.request = request

    # --- names ----------------------------------------------------------------------------------
    @classmethod
    def model_name(cls) -> str:
        return cls.model._meta.model_name

    @classmethod
    def url_name(cls, action: str) -> str:
        return f"{cls.model_name()}_{action}"

    def url(self, action: str, obj=None) -> str | None:
        if action not in self.actions and action not in ("reveal", "tab"):
            return None
        return _url(self.url_name(action), **({"pk": obj.pk} if obj is not None else {}))

    # --- hooks ------------------------------------------------------------------------------------
    def get_queryset(self, request):
        """The rows the list starts from (before scope and filters)."""
        return self.queryset.all() if self.queryset is not None else self.model._default_manager.all()

    def get_object_queryset(self, request):
        """The rows a single-object page looks its object up in (before scope)."""
        return self.model._default_manager.all()

    def get_initial(self, request) -> dict:
        """Initial values of the add form (e.g. a parent taken from the query string)."""
        return {}

    def before_save(self, request, obj, form, created: bool) -> None:
        """Called inside the save transaction, after the scope re-check."""

    def after_save(self, request, obj, form, created: bool) -> None:
        """Called inside the save transaction, after the save."""

    def save_object(self, request, obj, form, created: bool) -> None:
        """Write the edited object (inside the save transaction, after ``before_save``). A model
        whose writes go through a service function calls it here."""
        bump_version(obj)
        obj.save()
        form.save_m2m()

    def delete_object(self, request, obj) -> None:
        """Delete one object (inside the delete transaction, after the scope re-check)."""
        obj.delete()

    def get_bulk_edit_form(self):
        """The bulk edit form class: the model's own fields named in ``bulk_edit_fields``."""
        return bulk_edit_form_for(self.model, self.bulk_edit_fields)

    def bulk_edit(self, request, objects, form) -> int:
        """Apply a valid bulk edit ``form`` to ``objects`` (already restricted); all or nothing.
        Raises ``ValidationError`` naming the records that would become invalid."""
        return bulk_edit_objects(objects, form.changed_values(), user=request.user)

    def get_detail_context(self, request, obj) -> dict:
        return {}

    def get_list_context(self, request, listing) -> dict:
        """Extra context of the list page (e.g. the user's saved views)."""
        return {}

    def get_success_url(self, request, obj) -> str:
        return self.url("detail", obj) or self.url("list") or reverse("home")

    def get_delete_success_url(self, request, obj) -> str:
        return self.url("list") or reverse("home")

    def get_breadcrumbs(self, request, obj=None, leaf: str | None = None) -> list[tuple[str, str | None]]:
        crumbs: list[tuple[str, str | None]] = [(_("首页"), reverse("home"))]
        crumbs.append((str(self.model._meta.verbose_name_plural), self.url("list")))
        if obj is not None and obj.pk is not None:
            crumbs.append((str(obj), self.url("detail", obj) if leaf else None))
        if leaf:
            crumbs.append((leaf, None))
        return crumbs

    # --- what a user may do -------------------------------------------------------------------------
    def permissions(self, user) -> dict[str, bool]:
        return {action: user_can(user, self.model, action) for action in ("view", "add", "change", "delete")}

    def detail_rows(self, obj, user) -> list[dict]:
        names = self.detail_fields
        if names is None:
            names = tuple(
                f.name for f in self.model._meta.concrete_fields
                if not f.primary_key and not isinstance(f, LookupHashField) and (f.editable or f.name in ("created_at", "updated_at"))
            )
        rows = []
        for entry in names:
            name, label = entry if isinstance(entry, tuple) else (entry, None)
            try:
                model_field = self.model._meta.get_field(name)
            except Exception:  # noqa: BLE001  (not a field: a property such as Region.full_name)
                model_field = None
            if model_field is not None:
                value = getattr(obj, name)
                row = {"name": name, "label": label or model_field.verbose_name,
                       "value": display_value(obj, model_field, value), "protected": False}
                if isinstance(model_field, ProtectedField):
                    row["protected"] = True
                    if value and user.can_view_personal:
                        row["reveal_url"] = _url(self.url_name("reveal"), pk=obj.pk, field=name)
            else:
                value = getattr(obj, name)
                row = {"name": name, "label": label or name, "value": "—" if value in (None, "") else str(value),
                       "protected": False}
            rows.append(row)
        return rows

    # --- URLs ---------------------------------------------------------------------------------------
    list_view: type[View]
    detail_view: type[View]
    edit_view: type[View]
    delete_view: type[View]
    bulk_edit_view: type[View]
    bulk_delete_view: type[View]
    changelog_view: type[View]
    tab_view: type[View]
    reveal_view: type[View]

    @classmethod
    def urls(cls) -> list:
        prefix = cls.url_prefix.strip("/")
        patterns = []

        def add(route: str, view: type[View], action: str, always: bool = False) -> None:
            # An empty prefix: the app's own URL module is mounted under the model's prefix.
            if always or action in cls.actions:
                patterns.append(path(f"{prefix}/{route}" if prefix else route, view.as_view(viewset_class=cls),
                                     name=cls.url_name(action)))

        add("", cls.list_view, "list")
        add("add/", cls.edit_view, "add")
        add("edit/", cls.bulk_edit_view, "bulk_edit")
        add("delete/", cls.bulk_delete_view, "bulk_delete")
        add("<int:pk>/", cls.detail_view, "detail")
        add("<int:pk>/edit/", cls.edit_view, "edit")
        add("<int:pk>/delete/", cls.delete_view, "delete")
        add("<int:pk>/changelog/", cls.changelog_view, "changelog")
        if "detail" in cls.actions:
            add("<int:pk>/tab/<slug:tab>/", cls.tab_view, "tab", always=True)
            if any(isinstance(f, ProtectedField) for f in cls.model._meta.concrete_fields):
                add("<int:pk>/reveal/<str:field>/", cls.reveal_view, "reveal", always=True)
        return patterns


# --- the list: filters, sorting, column choice and keyset pages --------------------------------------
@dataclass
class Listing:
    """Everything a list page (or a list inside a detail page) renders."""

    table: Any
    page: Any
    filterset: Any = None
    sort: str = ""
    headers: list = field(default_factory=list)
    count: int | None = None
    count_capped: bool = False
    per_page: int = DEFAULT_PAGE_SIZE
    base_url: str = ""
    target_id: str = RESULTS_ID
    prefs_key: str = ""
    config_form: Any = None


def _column_sort_specs(bound_column) -> list[str]:
    order_by = bound_column.column.order_by
    specs = list(order_by) if order_by is not None else [str(bound_column.accessor)]
    return [str(s).replace(".", "__") for s in specs]


def style_filters(filterset):
    """``filterset`` with the Tabler class on each filter's widget (as the list pages show them)."""
    for form_field in filterset.form.fields.values():
        css = widget_css_class(form_field.widget)
        if css:
            form_field.widget.attrs.setdefault("class", css)
    return filterset


def build_listing(request, queryset, *, table_class, filterset_class=None, prefs_key: str, base_url: str,
                  target_id: str = RESULTS_ID, selectable: bool = True, default_ordering=None,
                  per_page: int | None = None, columns: list[str] | None = None, ranked: bool = False,
                  ordering_index: str | None = None) -> Listing:
    """Filter ``queryset`` (already restricted) with ``filterset_class``, sort it by the ``sort``
    parameter (a column name, ``-`` for descending) and cut one keyset page from it.

    ``columns`` overrides the user's saved column choice (a saved view brings its own);
    ``ranked``: the filtered queryset is already in its best order (search results by rank), so
    until the user sorts by a column it is paged in that order rather than re-ordered;
    ``ordering_index`` names the index of ``default_ordering`` (see ``KeysetPaginator``).
    """
    user = request.user
    filterset = None
    if filterset_class is not None:
        filterset = style_filters(filterset_class(request.GET or None, queryset=queryset, user=user))
        # Invalid fields are left out of the filter and shown with their error on the form.
        queryset = filterset.qs
    prefs = table_preferences(user, prefs_key)
    if per_page is None:
        per_page = prefs.get("per_page") if prefs.get("per_page") in PAGE_SIZES else DEFAULT_PAGE_SIZE
    if columns is None:
        columns = prefs.get("columns")
    table = table_class([], user=user, columns=columns, selectable=selectable)

    sort = request.GET.get("sort", "")
    ordering = list(default_ordering or queryset.model._meta.ordering or ["pk"])
    if sort:
        name = sort.lstrip("-")
        bound = next((c for c in table.columns.iterall() if c.name == name and c.orderable), None)
        if bound is None:
            sort = ""
        else:
            specs = _column_sort_specs(bound)
            ordering = [s if not sort.startswith("-") else (s[1:] if s.startswith("-") else f"-{s}") for s in specs]
    try:
        if ranked and not sort:
            paginator = RankedPaginator(queryset, per_page=per_page)
        else:
            paginator = KeysetPaginator(queryset, ordering, per_page=per_page, index=None if sort else ordering_index)
    except ValueError:
        sort = ""
        paginator = KeysetPaginator(queryset, list(queryset.model._meta.ordering or ["pk"]), per_page=per_page)
    try:
        page = paginator.page(after=request.GET.get("after"), before=request.GET.get("before"))
    except InvalidCursor:
        page = paginator.page()
    count, capped = paginator.count()

    table = table_class(page.object_list, user=user, columns=columns, selectable=selectable)
    headers = []
    for column in table.columns:
        direction = None
        if sort and sort.lstrip("-") == column.name:
            direction = "desc" if sort.startswith("-") else "asc"
        next_sort = None
        if column.orderable and column.name not in table.exempt_columns:
            next_sort = f"-{column.name}" if direction == "asc" else column.name
        headers.append({"column": column, "header": column.header, "next_sort": next_sort, "direction": direction,
                        "attrs": column.attrs.get("th", {})})
    return Listing(
        table=table, page=page, filterset=filterset, sort=sort, headers=headers, count=count,
        count_capped=capped, per_page=per_page, base_url=base_url, target_id=target_id, prefs_key=prefs_key,
        config_form=TableConfigForm(table=table, initial={"columns": table.visible_columns, "per_page": per_page}),
    )


class BaseObjectView(LoginRequiredMixin, View):
    """Base of the generic views: knows its declaration and its request's user."""

    viewset_class: type[ViewSet] | None = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.viewset = self.viewset_class(request)
        self.model = self.viewset.model

    def require(self, action: str) -> None:
        """A page without an object: no permission answers 403."""
        if not user_can(self.request.user, self.model, action):
            raise PermissionDenied

    def get_object(self, pk, action: str = "view", *, for_update: bool = False):
        """The object in the user's scope for ``action``, or 404."""
        queryset = self.viewset.get_object_queryset(self.request).restrict(self.request.user, action)
        if for_update:
            queryset = queryset.select_for_update(of=("self",))
        try:
            return queryset.get(pk=pk)
        except self.model.DoesNotExist as exc:
            raise Http404 from exc

    def base_context(self, **extra) -> dict:
        opts = self.model._meta
        context = {
            "viewset": self.viewset,
            "model_opts": opts,
            "verbose_name": opts.verbose_name,
            "verbose_name_plural": opts.verbose_name_plural,
            "perms_for_model": self.viewset.permissions(self.request.user),
            "list_url": self.viewset.url("list"),
            "add_url": self.viewset.url("add"),
        }
        context.update(extra)
        return context


class ObjectListView(BaseObjectView):
    """The list page: filters (htmx), sortable columns, column chooser, keyset pages."""

    def get(self, request, *args, **kwargs):
        self.require("view")
        listing = self.listing()
        context = self.base_context(
            listing=listing,
            page_title=self.model._meta.verbose_name_plural,
            breadcrumbs=self.viewset.get_breadcrumbs(request),
            bulk_edit_url=self.viewset.url("bulk_edit") if self.viewset.bulk_edit_fields else None,
            bulk_delete_url=self.viewset.url("bulk_delete"),
        )
        context.update(self.viewset.get_list_context(request, listing))
        htmx = getattr(request, "htmx", None)
        if htmx and not htmx.history_restore_request and htmx.target == RESULTS_ID:
            return render(request, self.viewset.list_results_template, context)
        return render(request, self.viewset.list_template, context)

    def listing(self) -> Listing:
        queryset = self.viewset.get_queryset(self.request).restrict(self.request.user, "view")
        perms = self.viewset.permissions(self.request.user)
        selectable = (perms["change"] and "bulk_edit" in self.viewset.actions and bool(self.viewset.bulk_edit_fields)) or (
            perms["delete"] and "bulk_delete" in self.viewset.actions
        )
        return build_listing(
            self.request, queryset, table_class=self.viewset.table, filterset_class=self.viewset.filterset,
            prefs_key=self.model._meta.label_lower, base_url=self.request.path, selectable=selectable,
            default_ordering=self.viewset.ordering, ordering_index=self.viewset.ordering_index,
        )

    def post(self, request, *args, **kwargs):
        """The column chooser: save (or reset) this table's columns and page size for the user."""
        self.require("view")
        key = self.model._meta.label_lower
        if "_reset" in request.POST:
            save_table_preferences(request.user, key, reset=True)
            messages.success(request, _("已恢复默认列设置。"))
        else:
            table = self.viewset.table([], user=request.user)
            form = TableConfigForm(request.POST, table=table)
            if form.is_valid():
                save_table_preferences(request.user, key, columns=form.cleaned_data["columns"],
                                       per_page=form.cleaned_data["per_page"])
                messages.success(request, _("列设置已保存。"))
            else:
                messages.error(request, _("列设置无效，未保存。"))
        return redirect(safe_return_url(request, request.path))


class ObjectDetailView(BaseObjectView):
    """A record's page: its fields, its tabs, and the actions the user may take on it."""

    def get(self, request, pk, *args, **kwargs):
        obj = self.get_object(pk, "view")
        context = self.object_context(obj, active_tab="detail")
        htmx = getattr(request, "htmx", None)
        if htmx and not htmx.history_restore_request:
            # A list inside the page (a region's children, a dictionary's items) filtered or paged.
            for value in context.values():
                if isinstance(value, Listing) and value.target_id == htmx.target:
                    return render(request, "core/_list_results_plain.html", {**context, "listing": value})
        return render(request, self.viewset.detail_template, context)

    def object_context(self, obj, *, active_tab: str, **extra) -> dict:
        user = self.request.user
        perms = self.viewset.permissions(user)
        tabs = [{"name": "detail", "label": _("详情"), "url": self.viewset.url("detail", obj)}]
        for tab in tabs_for(self.model, user):
            tabs.append({"name": tab.name, "label": tab.label, "badge": tab.badge(obj, user) if tab.badge else None,
                         "url": _url(self.viewset.url_name("tab"), pk=obj.pk, tab=tab.name)})
        if "changelog" in self.viewset.actions:
            tabs.append({"name": "changelog", "label": _("变更记录"), "url": self.viewset.url("changelog", obj)})
        context = self.base_context(
            object=obj,
            page_title=str(obj),
            breadcrumbs=self.viewset.get_breadcrumbs(self.request, obj),
            tabs=tabs,
            active_tab=active_tab,
            fields=self.viewset.detail_rows(obj, user) if active_tab == "detail" else [],
            edit_url=self.viewset.url("edit", obj) if perms["change"] else None,
            delete_url=self.viewset.url("delete", obj) if perms["delete"] else None,
        )
        if active_tab == "detail":
            context.update(self.viewset.get_detail_context(self.request, obj))
        context.update(extra)
        return context


class ObjectTabView(ObjectDetailView):
    """A tab another area registered for this model."""

    def get(self, request, pk, tab, *args, **kwargs):
        obj = self.get_object(pk, "view")
        found = next((t for t in tabs_for(self.model, request.user) if t.name == tab), None)
        if found is None:
            raise Http404
        extra = found.get_context(request, obj) if found.get_context else {}
        context = self.object_context(obj, active_tab=tab, tab=found, tab_template=found.template_name, **extra)
        return render(request, "core/object_tab.html", context)


class ObjectChangeLogView(ObjectDetailView):
    """The change history of one record, from the audit log (newest first, keyset pages)."""

    def get(self, request, pk, *args, **kwargs):
        obj = self.get_object(pk, "view")
        # Changes only: who looked at the record (VIEW_PERSONAL …) is for the audit administrator.
        entries = AuditEntry.objects.filter(
            object_type=obj._meta.label_lower, object_id=str(obj.pk),
            action__in=[AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE],
        )
        paginator = KeysetPaginator(entries, ["-id"], per_page=50)
        try:
            page = paginator.page(after=request.GET.get("after"), before=request.GET.get("before"))
        except InvalidCursor:
            page = paginator.page()
        self.fields_by_key = {f.attname: f for f in self.model._meta.concrete_fields}
        self.fields_by_key.update({f.name: f for f in self.model._meta.many_to_many})
        self.related_names = self.related_labels(page)
        context = self.object_context(obj, active_tab="changelog", page=page,
                                      entries=[self.describe(entry) for entry in page])
        return render(request, "core/object_changelog.html", context)

    def related_labels(self, entries) -> dict:
        """Names of the records the page's foreign-key changes point at, one query per model,
        and only those the user may see (others stay a bare number)."""
        wanted: dict[type, set] = {}
        for entry in entries:
            for key, change in (entry.changes or {}).items():
                model_field = self.fields_by_key.get(key)
                if isinstance(model_field, models.ForeignKey) and isinstance(change, list):
                    wanted.setdefault(model_field.related_model, set()).update(v for v in change if v is not None)
        labels = {}
        for related, ids in wanted.items():
            queryset = related._default_manager.filter(pk__in=ids)
            if not hasattr(queryset, "restrict"):
                continue
            for record in queryset.restrict(self.request.user, "view"):
                labels[(related, record.pk)] = str(record)
        return labels

    def describe(self, entry) -> dict:
        """An audit entry as rows of 字段 / 原值 / 新值 with the fields' own names."""
        rows = []
        for key, change in (entry.changes or {}).items():
            model_field = self.fields_by_key.get(key)
            label = getattr(model_field, "verbose_name", key)
            if isinstance(change, list) and len(change) == 2:
                old, new = change
                rows.append({"label": label, "old": self.show(model_field, old), "new": self.show(model_field, new)})
            elif isinstance(change, dict):
                text = "；".join(f"{CHANGE_VERBS.get(verb, verb)}：{'、'.join(map(str, values))}" for verb, values in change.items())
                rows.append({"label": label, "old": "", "new": text})
            else:
                rows.append({"label": label, "old": "", "new": str(change)})
        return {"entry": entry, "rows": rows}

    def show(self, model_field, value) -> str:
        if value in (None, "", [], {}):
            return "—"
        if isinstance(model_field, models.ForeignKey):
            return self.related_names.get((model_field.related_model, value), f"#{value}")
        choices = dict(getattr(model_field, "flatchoices", None) or [])
        if not isinstance(value, list | dict) and value in choices:
            return str(choices[value])
        if isinstance(value, bool):
            return _("是") if value else _("否")
        if isinstance(value, list):
            return "、".join(map(str, value))
        return str(value)


class RevealView(BaseObjectView):
    """"显示完整": the full value of a protected field, for roles that may see it; audited."""

    http_method_names = ["post"]

    def post(self, request, pk, field, *args, **kwargs):
        obj = self.get_object(pk, "view")
        try:
            model_field = self.model._meta.get_field(field)
        except Exception as exc:  # noqa: BLE001  (FieldDoesNotExist)
            raise Http404 from exc
        if not isinstance(model_field, ProtectedField):
            raise Http404
        if not request.user.can_view_personal:
            raise PermissionDenied
        audit.record(
            AuditAction.VIEW_PERSONAL, obj=obj, changes={"field": field},
            message=_("查看完整的%(field)s") % {"field": model_field.verbose_name},
        )
        value = getattr(obj, model_field.attname) or "—"
        return HttpResponse(render_to_string("core/_revealed.html", {"value": value}, request=request))


class ObjectEditView(BaseObjectView):
    """Add (no ``pk``) or edit a record; a stale edit is refused and the user's input kept."""

    def get(self, request, pk=None, *args, **kwargs):
        if pk is None:
            self.require("add")
            obj = self.model()
            form = self.viewset.form(instance=obj, initial=self.viewset.get_initial(request), user=request.user)
        else:
            obj = self.get_object(pk, "change")
            form = self.viewset.form(instance=obj, user=request.user)
        return self.respond(obj, form)

    def post(self, request, pk=None, *args, **kwargs):
        created = pk is None
        if created:
            self.require("add")
        try:
            with transaction.atomic():
                obj = self.model() if created else self.get_object(pk, "change", for_update=True)
                saved_token = concurrency_token(obj)
                form = self.viewset.form(request.POST, request.FILES, instance=obj, user=request.user,
                                         initial=self.viewset.get_initial(request) if created else None)
                if not created and CONCURRENCY_INPUT in form.fields and request.POST.get(CONCURRENCY_INPUT) != saved_token:
                    return self.conflict(obj, form, saved_token, missing=not request.POST.get(CONCURRENCY_INPUT))
                if not form.is_valid():
                    return self.respond(obj, form, status=200)
                obj = form.save(commit=False)
                check_in_scope(request.user, obj, "add" if created else "change")
                self.viewset.before_save(request, obj, form, created)
                self.viewset.save_object(request, obj, form, created)
                self.viewset.after_save(request, obj, form, created)
        except ValidationError as exc:
            # A hook may refuse a save with a ValidationError; show it on the form, save nothing.
            add_refusal(form, exc)
            return self.respond(obj, form)
        if created:
            messages.success(request, _("已新增%(model)s“%(object)s”。") % {"model": self.model._meta.verbose_name, "object": obj})
        else:
            messages.success(request, _("已保存%(model)s“%(object)s”的修改。") % {"model": self.model._meta.verbose_name, "object": obj})
        return redirect(safe_return_url(request, self.viewset.get_success_url(request, obj)))

    def conflict(self, obj, form, saved_token, *, missing: bool = False):
        """Someone saved this record after the user opened it: keep the user's input, show what
        is saved now, and carry the new token so a deliberate second submit goes through."""
        fresh = self.get_object(obj.pk, "change")
        names = [
            name for name in self.viewset.form._meta.fields or ()
            if not isinstance(self.model._meta.get_field(name), ProtectedField)
        ]
        # Read what is saved before the form is bound: binding writes the input onto the instance.
        saved = {name: display_value(fresh, self.model._meta.get_field(name), getattr(fresh, name), html=False)
                 for name in names}
        who = getattr(fresh, "updated_by", None)
        when = getattr(fresh, "updated_at", None)
        data = form.data.copy()
        data[CONCURRENCY_INPUT] = saved_token
        form = self.viewset.form(data, self.request.FILES, instance=fresh, user=self.request.user)
        form.is_valid()
        differences = []
        for name in names:
            if name not in form.fields:
                continue
            model_field = self.model._meta.get_field(name)
            submitted = form.cleaned_data.get(name) if hasattr(form, "cleaned_data") else form.data.get(name)
            yours = display_value(fresh, model_field, submitted, html=False, raw_choice=True)
            if yours != saved[name]:
                differences.append({"label": model_field.verbose_name, "current": saved[name], "yours": yours})
        if missing:
            message = _("保存失败：表单缺少版本信息，无法确认它是否基于最新内容。请核对下方内容后再次提交。")
        else:
            message = _(
                "保存失败：在您编辑期间，这条记录已被%(who)s于 %(when)s 修改。您的填写仍保留在下方，"
                "请对照当前保存的内容核对后再次提交（再次提交将以您的填写为准）。"
            ) % {
                "who": f"“{who}”" if who else _("他人"),
                "when": date_format(localtime(when), "Y-m-d H:i:s") if when else "",
            }
        return self.respond(fresh, form, conflict={"message": message, "differences": differences}, status=409)

    def respond(self, obj, form, *, conflict=None, status: int = 200):
        created = obj.pk is None
        leaf = _("新增") if created else _("修改")
        context = self.base_context(
            object=None if created else obj,
            form=form,
            conflict=conflict,
            page_title=(_("新增%(model)s") % {"model": self.model._meta.verbose_name}) if created else
            (_("修改：%(object)s") % {"object": obj}),
            breadcrumbs=self.viewset.get_breadcrumbs(self.request, None if created else obj, leaf),
            return_url=safe_return_url(self.request, None),
            cancel_url=safe_return_url(self.request, self.viewset.url("list") if created else self.viewset.url("detail", obj))
            or reverse("home"),
        )
        return render(self.request, self.viewset.edit_template, context, status=status)


class ObjectDeleteView(BaseObjectView):
    """Confirm, then delete one record (refused with a message while others still reference it)."""

    def get(self, request, pk, *args, **kwargs):
        obj = self.get_object(pk, "delete")
        return self.respond(obj)

    def post(self, request, pk, *args, **kwargs):
        try:
            with transaction.atomic():
                obj = self.get_object(pk, "delete", for_update=True)
                check_in_scope(request.user, obj, "delete")
                label = str(obj)
                success_url = self.viewset.get_delete_success_url(request, obj)
                self.viewset.delete_object(request, obj)
        except ProtectedError as exc:
            obj = self.get_object(pk, "delete")
            messages.error(request, _("“%(object)s”仍被 %(count)d 条记录引用，不能删除。请先处理这些记录。")
                           % {"object": obj, "count": len(exc.protected_objects)})
            return self.respond(obj, status=409)
        messages.success(request, _("已删除%(model)s“%(object)s”。") % {"model": self.model._meta.verbose_name, "object": label})
        return redirect(safe_return_url(request, success_url))

    def respond(self, obj, status: int = 200):
        context = self.base_context(
            object=obj, page_title=_("删除：%(object)s") % {"object": obj},
            breadcrumbs=self.viewset.get_breadcrumbs(self.request, obj, _("删除")),
            return_url=safe_return_url(self.request, None),
            cancel_url=safe_return_url(self.request, self.viewset.url("detail", obj)) or reverse("home"),
        )
        return render(self.request, self.viewset.delete_template, context, status=status)


class BulkView(BaseObjectView):
    """Shared by bulk edit and bulk delete: the selected records, within the user's scope."""

    http_method_names = ["post"]
    action = "change"
    template_name = ""

    def selected(self):
        pks = [pk for pk in self.request.POST.getlist("pk") if pk.isdigit()]
        queryset = self.viewset.get_object_queryset(self.request).restrict(self.request.user, self.action)
        return queryset.filter(pk__in=pks)

    def back(self) -> str:
        return safe_return_url(self.request, self.viewset.url("list") or reverse("home"))

    def respond(self, objects, **extra):
        shown = list(objects[:200])
        context = self.base_context(
            objects=shown, total=objects.count(), return_url=self.back(),
            breadcrumbs=self.viewset.get_breadcrumbs(self.request, None, extra.get("page_title")), **extra,
        )
        return render(self.request, self.template_name, context)


class BulkEditView(BulkView):
    action = "change"
    template_name = "core/bulk_edit.html"

    def post(self, request, *args, **kwargs):
        self.require("change")
        if not self.viewset.bulk_edit_fields:
            raise Http404
        form_class = self.viewset.get_bulk_edit_form()
        objects = self.selected()
        if not objects.exists():
            messages.warning(request, _("请先勾选要修改的记录。"))
            return redirect(self.back())
        title = _("批量修改%(model)s") % {"model": self.model._meta.verbose_name}
        if "_apply" not in request.POST:
            return self.respond(objects, form=form_class(user=request.user, model=self.model), page_title=title)
        form = form_class(request.POST, user=request.user, model=self.model)
        if form.is_valid():
            changes = form.changed_values()
            if not changes:
                form.add_error(None, _("没有填写要修改的内容。"))
            else:
                try:
                    count = self.viewset.bulk_edit(request, objects, form)
                except ValidationError as exc:
                    for error in exc.error_list:
                        form.add_error(None, error)
                else:
                    messages.success(request, _("已修改 %(count)d 条%(model)s。") % {"count": count, "model": self.model._meta.verbose_name})
                    return redirect(self.back())
        return self.respond(objects, form=form, page_title=title)


class BulkDeleteView(BulkView):
    action = "delete"
    template_name = "core/bulk_delete.html"

    def post(self, request, *args, **kwargs):
        self.require("delete")
        objects = self.selected()
        if not objects.exists():
            messages.warning(request, _("请先勾选要删除的记录。"))
            return redirect(self.back())
        title = _("批量删除%(model)s") % {"model": self.model._meta.verbose_name}
        if "_confirm" not in request.POST:
            return self.respond(objects, page_title=title)
        try:
            count = bulk_delete_objects(objects, user=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return self.respond(objects, page_title=title)
        messages.success(request, _("已删除 %(count)d 条%(model)s。") % {"count": count, "model": self.model._meta.verbose_name})
        return redirect(self.back())


ViewSet.list_view = ObjectListView
ViewSet.detail_view = ObjectDetailView
ViewSet.edit_view = ObjectEditView
ViewSet.delete_view = ObjectDeleteView
ViewSet.bulk_edit_view = BulkEditView
ViewSet.bulk_delete_view = BulkDeleteView
ViewSet.changelog_view = ObjectChangeLogView
ViewSet.tab_view = ObjectTabView
ViewSet.reveal_view = RevealView
