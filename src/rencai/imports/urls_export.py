"""URLs of the export part of the imports app (mounted at /imports/exports/)."""

from django.urls import path

from rencai.imports.views import exporting

urlpatterns = [
    path("talents/", exporting.export_list, {"source_key": "talents"}, name="export_talents"),
    path("<uuid:pk>/", exporting.export_job, name="export_job"),
    path("<uuid:pk>/cancel/", exporting.export_cancel, name="export_cancel"),
    path("<uuid:pk>/download/", exporting.export_download, name="export_download"),
]
