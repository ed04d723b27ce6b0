"""Reference data pages: regions (行政区划), dictionaries (数据字典) and their items.

Regions and dictionaries are data loaded at set-up (GB/T 2260 and the other standards) and kept
up to date by administrators; everyone with the view permission may read them.
"""

from __future__ import annotations

from django.db.models import Count
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from rencai.core.filters import DictionaryFilterSet, DictionaryItemFilterSet, RegionFilterSet
from rencai.core.forms import DictionaryForm, DictionaryItemForm, RegionForm
from rencai.core.models import Dictionary, DictionaryItem, Region
from rencai.core.scope import user_can
from rencai.core.tables import DictionaryItemTable, DictionaryTable, RegionTable
from rencai.core.views.generic import ViewSet, build_listing


class RegionViews(ViewSet):
    model = Region
    url_prefix = "reference/regions"
    queryset = Region.objects.select_related("parent")
    filterset = RegionFilterSet
    table = RegionTable
    form = RegionForm
    # Regions are added by loading the national table, never by hand; a region in use is never
    # deleted (disable it instead).
    actions = ("list", "detail", "edit", "changelog")
    detail_template = "core/region_detail.html"
    detail_fields = ("code", "name", ("full_name", _("全称")), "level", "parent", "is_standard", "is_active",
                     "sort_order")

    def get_object_queryset(self, request):
        return Region.objects.select_related("parent__parent__parent")

    def get_breadcrumbs(self, request, obj=None, leaf=None):
        crumbs = super().get_breadcrumbs(request, None, None)
        if obj is not None:
            ancestors = []
            node = obj.parent
            while node is not None:
                ancestors.append((node.name, self.url("detail", node)))
                node = node.parent
            crumbs.extend(reversed(ancestors))
            crumbs.append((obj.name, self.url("detail", obj) if leaf else None))
        if leaf:
            crumbs.append((leaf, None))
        return crumbs

    def get_detail_context(self, request, obj):
        children = build_listing(
            request, Region.objects.restrict(request.user, "view").filter(parent=obj).select_related("parent"),
            table_class=RegionTable, prefs_key="core.region.children", base_url=self.url("detail", obj),
            target_id="region-children", selectable=False, default_ordering=["sort_order", "code"], per_page=200,
        )
        return {"children": children}


class DictionaryViews(ViewSet):
    model = Dictionary
    url_prefix = "reference/dictionaries"
    queryset = Dictionary.objects.annotate(item_count=Count("items"))
    filterset = DictionaryFilterSet
    table = DictionaryTable
    form = DictionaryForm
    actions = ("list", "detail", "add", "edit", "delete", "changelog")
    detail_template = "core/dictionary_detail.html"
    detail_fields = ("code", "name", "standard", "description")

    def get_detail_context(self, request, obj):
        items = build_listing(
            request,
            DictionaryItem.objects.restrict(request.user, "view").filter(dictionary=obj).select_related("parent"),
            table_class=DictionaryItemTable, filterset_class=DictionaryItemFilterSet,
            prefs_key="core.dictionaryitem", base_url=self.url("detail", obj), target_id="dictionary-items",
            selectable=False,
        )
        add_url = None
        if user_can(request.user, DictionaryItem, "add"):
            add_url = f"{reverse('dictionaryitem_add')}?dictionary={obj.pk}"
        return {"items": items, "item_add_url": add_url}


class DictionaryItemViews(ViewSet):
    """Items are managed from their dictionary's page: every page leads back there."""

    model = DictionaryItem
    url_prefix = "reference/dictionary-items"
    form = DictionaryItemForm
    actions = ("detail", "add", "edit", "delete", "changelog")
    detail_fields = ("dictionary", "code", "label", "synonyms", "parent", "sort_order", "is_active", "description")

    def get_object_queryset(self, request):
        return DictionaryItem.objects.select_related("dictionary", "parent")

    def get_initial(self, request):
        """A new item belongs to the dictionary whose page it was added from (``?dictionary=``)."""
        dictionary = request.GET.get("dictionary") or request.POST.get("dictionary") or ""
        if dictionary.isdigit() and Dictionary.objects.restrict(request.user, "view").filter(pk=dictionary).exists():
            return {"dictionary": int(dictionary)}
        raise Http404

    def get_success_url(self, request, obj):
        return reverse("dictionary_detail", kwargs={"pk": obj.dictionary_id})

    def get_delete_success_url(self, request, obj):
        return reverse("dictionary_detail", kwargs={"pk": obj.dictionary_id})

    def get_breadcrumbs(self, request, obj=None, leaf=None):
        crumbs = [(_("首页"), reverse("home")), (str(Dictionary._meta.verbose_name_plural), reverse("dictionary_list"))]
        dictionary = obj.dictionary if obj is not None and obj.pk else None
        if dictionary is None:
            dictionary = Dictionary.objects.filter(pk=self.get_initial(request)["dictionary"]).first()
        if dictionary is not None:
            crumbs.append((str(dictionary), reverse("dictionary_detail", kwargs={"pk": dictionary.pk})))
        if obj is not None and obj.pk:
            crumbs.append((str(obj), self.url("detail", obj) if leaf else None))
        if leaf:
            crumbs.append((leaf, None))
        return crumbs


urlpatterns = [*RegionViews.urls(), *DictionaryViews.urls(), *DictionaryItemViews.urls()]
