"""URLs of the search benchmark: rencai's, and a Django admin changelist of talents at /bench-admin/."""

from django.contrib import admin
from django.urls import path

from rencai.talents.models import Talent
from rencai.urls import urlpatterns as rencai_urlpatterns


class BenchAdminSite(admin.AdminSite):
    """Lets the benchmark's city administrator in (rencai users are never ``is_staff``)."""

    def has_permission(self, request):
        return request.user.is_active and request.user.is_authenticated


class TalentAdmin(admin.ModelAdmin):
    # What a Django developer would write for "search by name, unit or field".
    search_fields = ["name", "work_unit", "research_fields"]
    list_display = ["name", "kind", "region", "work_unit"]
    list_select_related = ["region"]


site = BenchAdminSite(name="bench_admin")
site.register(Talent, TalentAdmin)

urlpatterns = [path("bench-admin/", site.urls), *rencai_urlpatterns]
