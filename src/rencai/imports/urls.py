"""URLs of the imports app, mounted at /imports/: the import wizard and batches, exports, and the
duplicate review queue, a module each."""

from django.urls import include, path

urlpatterns = [
    path("", include("rencai.imports.urls_import")),
    path("exports/", include("rencai.imports.urls_export")),
    path("duplicates/", include("rencai.imports.urls_dedupe")),
]
