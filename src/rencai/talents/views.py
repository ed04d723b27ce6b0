"""Pages of the registry (人才库): the talent list, profile, edit form, bulk edit, and settings.

Declared on the generic views (``core.views.generic``); writes go through ``talents.services``.
The list searches through the term index and keeps its ranking, and otherwise reads in the
(region, name, id) order its index holds, so a page costs the same at a million rows as at a
hundred. Users keep named filter and column combinations as saved views.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rencai.core.forms import region_choices
from rencai.core.scope import user_can
from rencai.core.tables import table_preferences
from rencai.core.views.generic import ObjectListView, ObjectTab, ViewSet, build_listing, register_tab
from rencai.talents import services
from rencai.talents.choices import TalentKind
from rencai.talents.filters import TagFilterSet, TalentDatabaseFilterSet, TalentFilterSet
from rencai.talents.forms import TagForm, TalentBulkEditForm, TalentDatabaseForm, TalentForm
from rencai.talents.models import Tag, Talent, TalentDatabase, TalentEducation, TalentWork
from rencai.talents.tables import TagTable, TalentDatabaseTable, TalentTable

LIST_KEY = Talent._meta.label_lower
# Query parameters that belong to a page of the list, not to what it shows.
PAGE_PARAMETERS = ("after", "before", "view")

TALENT_RELATED = (
    "region", "native_place", "work_province", "work_city", "category", "tier", "education", "degree",
    "title_level", "liaison_officer", "databases", "tags",
)
DETAIL_RELATED = (
    *TALENT_RELATED, "ethnicity", "political_status", "discipline", "created_by", "updated_by",
)


def with_related(queryset, names):
    """``queryset`` reading the related records ``names`` with its rows: the foreign keys one
    query per related model (dictionary items, regions, users), the talent databases and tags
    one query each.

    Not one join of them all: PostgreSQL spends 35 ms planning a join of seven tables and 65 ms
    for eleven, for a page that takes under a millisecond to read. Not even the region's: read
    with 籍贯 and the work place it costs no query of its own, and a page's fifty talents share
    a dozen regions rather than carry fifty copies.
    """
    return queryset.fetch_references(*dict.fromkeys(names))


def list_related(columns) -> list[str]:
    """The relations the talent list needs for these chosen columns (None: the default ones)."""
    choosable = [name for name in TalentTable.base_columns if name not in TalentTable.exempt_columns]
    shown = [name for name in (columns or []) if name in choosable] or list(TalentTable.default_columns)
    return [name for name in shown if name in TALENT_RELATED]

DETAIL_SECTIONS = (
    (_("身份信息"), ("name", "gender", "ethnicity", "birth_date", "id_card", "mobile", "other_phones", "email",
                   "wechat", "political_status")),
    (_("籍贯与所在地"), ("native_place", "region", "work_country", "work_province", "work_city")),
    (_("人才分类"), ("kind", "category", "databases", "tier", "tier_basis", "tags")),
    (_("工作与学术"), ("work_unit", "unit_type", "position", "admin_rank", "title", "title_level", "education", "degree",
                     "school", "major", "discipline", "research_fields", "skills", "honours")),
    (_("联络与来源"), ("liaison_officer", "status", "consent_date", "consent_scope", "consent_method", "source",
                     "source_ref", "notes", "created_by", "created_at", "updated_by", "updated_at", "version")),
)
USER_FIELDS = ("liaison_officer", "created_by", "updated_by")


def list_query(query: QueryDict) -> str:
    """The filters and sort of a list URL, without the page it was on."""
    kept = query.copy()
    for name in PAGE_PARAMETERS:
        kept.pop(name, None)
    return kept.urlencode()


class TalentListView(ObjectListView):
    """The list, searched by rank when there is a query, with the user's saved views."""

    def listing(self):
        request = self.request
        view = self.viewset.active_view(request)
        columns = view["columns"] if view else table_preferences(request.user, LIST_KEY).get("columns")
        # Only the relations of the columns shown are read.
        queryset = with_related(Talent.objects.all(), list_related(columns)).restrict(request.user, "view")
        perms = self.viewset.permissions(request.user)
        return build_listing(
            request, queryset, table_class=TalentTable, filterset_class=TalentFilterSet, prefs_key=LIST_KEY,
            base_url=request.path, selectable=perms["change"] or perms["delete"], default_ordering=self.viewset.ordering,
            columns=view["columns"] if view else None, ranked=bool((request.GET.get("q") or "").strip()),
            ordering_index=self.viewset.ordering_index,
        )


class TalentViews(ViewSet):
    model = Talent
    url_prefix = ""
    queryset = with_related(Talent.objects.all(), TALENT_RELATED)
    filterset = TalentFilterSet
    table = TalentTable
    form = TalentForm
    bulk_edit_fields = services.BULK_FIELDS
    # Served by talents_region_name_idx: every page of a million rows is an index range.
    ordering = ("region", "name", "id")
    ordering_index = "talents_region_name_idx"
    detail_fields = tuple(name for _title, names in DETAIL_SECTIONS for name in names)
    list_template = "talents/talent_list.html"
    detail_template = "talents/talent_detail.html"
    edit_template = "talents/talent_edit.html"
    list_results_template = "talents/_talent_results.html"
    list_view = TalentListView

    def get_object_queryset(self, request):
        return with_related(Talent.objects.all(), DETAIL_RELATED)

    def get_initial(self, request):
        """A new talent: of the kind asked for (``?kind=``), in the officer's county if they have one."""
        initial = {}
        if request.GET.get("kind") in TalentKind.values:
            initial["kind"] = request.GET["kind"]
        regions = list(region_choices(request.user)[:2])
        if len(regions) == 1:
            initial["region"] = regions[0].pk
        return initial

    # --- writes through the service -------------------------------------------------------------------
    def save_object(self, request, obj, form, created):
        services.save_talent(obj, user=request.user, expected_version=None if created else obj.version,
                             **form.save_arguments())

    def delete_object(self, request, obj):
        services.delete_talent(obj, user=request.user)

    def get_bulk_edit_form(self):
        return TalentBulkEditForm

    def bulk_edit(self, request, objects, form):
        return services.bulk_update_talents(objects, user=request.user, **form.service_arguments())

    # --- the profile ------------------------------------------------------------------------------------
    def detail_rows(self, obj, user):
        rows = super().detail_rows(obj, user)
        for row in rows:
            if row["name"] in USER_FIELDS:
                # Plain names: the account pages are for administrators.
                person = getattr(obj, row["name"])
                row["value"] = str(person) if person else "—"
        return rows

    def get_detail_context(self, request, obj):
        rows = {row["name"]: row for row in self.detail_rows(obj, request.user)}
        sections = [
            {"title": title, "rows": [rows[name] for name in names if name in rows]} for title, names in DETAIL_SECTIONS
        ]
        return {"sections": sections}

    # --- saved views --------------------------------------------------------------------------------------
    def active_view(self, request) -> dict | None:
        wanted = request.GET.get("view")
        if not wanted:
            return None
        return next((v for v in services.saved_views(request.user, LIST_KEY) if v["id"] == wanted), None)

    def get_list_context(self, request, listing):
        views = services.saved_views(request.user, LIST_KEY)
        for view in views:
            view["url"] = f"{request.path}?{view['query']}&view={view['id']}" if view["query"] else f"{request.path}?view={view['id']}"
            view["delete_url"] = reverse("talent_view_delete", kwargs={"view_id": view["id"]})
        active = self.active_view(request)
        primary = set(TalentFilterSet.primary)
        return {
            "saved_views": views,
            "active_view": active,
            "more_filters_active": any(
                value and name in TalentFilterSet.base_filters and name not in primary for name, value in request.GET.items()
            ),
            "current_query": list_query(request.GET),
            "save_view_url": reverse("talent_view_save"),
        }


def _list_url() -> str:
    return reverse("talent_list")


@login_required
@require_POST
def save_view(request):
    """「保存当前视图」: the list's filters and sort, and the columns shown, under a name."""
    if not user_can(request.user, Talent, "view"):
        raise Http404
    query = list_query(QueryDict(request.POST.get("query", "")[:2000]))
    table = TalentTable([], user=request.user)
    choosable = {name for name, _label in table.choosable_columns}
    columns = [c for c in request.POST.getlist("columns") if c in choosable] or table.default_visible
    try:
        view = services.save_view(request.user, LIST_KEY, name=request.POST.get("name", ""), query=query, columns=columns)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(f"{_list_url()}?{query}" if query else _list_url())
    messages.success(request, _("已保存视图“%(name)s”。") % {"name": view["name"]})
    return redirect(f"{_list_url()}?{urlencode({'view': view['id']})}{'&' + query if query else ''}")


@login_required
@require_POST
def delete_view(request, view_id: str):
    if not services.delete_view(request.user, LIST_KEY, view_id):
        raise Http404
    messages.success(request, _("已删除视图。"))
    return redirect(_list_url())


# --- history tabs (the same extension point other areas use for their own tabs) ---------------------------
def _history_context(model):
    def get_context(request, obj):
        rows = model.objects.restrict(request.user, "view").filter(talent=obj)
        if model is TalentEducation:
            rows = rows.select_related("education", "degree")
        edit_url = reverse("talent_edit", kwargs={"pk": obj.pk}) if user_can(request.user, Talent, "change") else None
        return {"rows": list(rows), "history_edit_url": edit_url}

    return get_context


def _history_count(model):
    def badge(obj, user):  # a history row is seen with its talent
        return model.objects.filter(talent=obj).count() or None

    return badge


register_tab(Talent, ObjectTab(
    "education", _("学习经历"), "talents/_tab_education.html", get_context=_history_context(TalentEducation),
    permission="talents.view_talenteducation", weight=10, badge=_history_count(TalentEducation),
))
register_tab(Talent, ObjectTab(
    "work", _("工作经历"), "talents/_tab_work.html", get_context=_history_context(TalentWork),
    permission="talents.view_talentwork", weight=20, badge=_history_count(TalentWork),
))


# --- settings: talent databases and tags ----------------------------------------------------------------
class TalentDatabaseViews(ViewSet):
    """人才库设置: the set of talent databases, kept by the city administrator."""

    model = TalentDatabase
    url_prefix = "databases"
    filterset = TalentDatabaseFilterSet
    table = TalentDatabaseTable
    form = TalentDatabaseForm
    ordering = ("sort_order", "code")
    detail_fields = ("name", "code", "kind", "description", "is_active", "sort_order", "created_at", "updated_at")
    list_template = "talents/talentdatabase_list.html"

    def get_list_context(self, request, listing):
        return {"tag_list_url": reverse("tag_list") if user_can(request.user, Tag, "view") else None}


class TagViews(ViewSet):
    model = Tag
    url_prefix = "tags"
    filterset = TagFilterSet
    table = TagTable
    form = TagForm
    ordering = ("name",)
    detail_fields = ("name", "created_at", "updated_at")
