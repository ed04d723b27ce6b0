"""Organisation unit pages (组织机构): the demonstrator of data scope and masking.

Units belong to a region, so a county officer lists, opens, edits and bulk-edits only the units
of the county they cover; the contact's mobile number is a protected field, masked for roles
without personal-data clearance.
"""

from __future__ import annotations

from rencai.core.filters import OrgUnitFilterSet
from rencai.core.forms import OrgUnitForm
from rencai.core.models import OrgUnit
from rencai.core.tables import OrgUnitTable
from rencai.core.views.generic import ViewSet


class OrgUnitViews(ViewSet):
    model = OrgUnit
    url_prefix = "orgunits"
    queryset = OrgUnit.objects.select_related("region", "parent")
    filterset = OrgUnitFilterSet
    table = OrgUnitTable
    form = OrgUnitForm
    bulk_edit_fields = ("kind", "region", "parent")
    # Served by the (region, name) unique index: grouped by region, by name within it.
    ordering = ("region", "name")
    detail_fields = ("name", "kind", "region", "parent", "contact_name", "contact_mobile", "address", "notes",
                     "created_at", "updated_at")

    def get_object_queryset(self, request):
        return OrgUnit.objects.select_related("region", "parent")


urlpatterns = OrgUnitViews.urls()
