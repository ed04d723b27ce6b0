"""URLs of the import wizard and its batches, under /imports/."""

from django.urls import path

from rencai.imports.views import importing

urlpatterns = [
    path("", importing.import_start, name="import_start"),
    path("template.xlsx", importing.import_template, name="import_template"),
    path("uploads/<int:pk>/", importing.import_configure, name="import_configure"),
    path("uploads/<int:pk>/report.xlsx", importing.import_preview_report, name="import_preview_report"),
    path("uploads/<int:pk>/preview/<uuid:job>/", importing.import_preview_result, name="import_preview_result"),
    path("uploads/<int:pk>/commit/", importing.import_commit, name="import_commit"),
    path("batches/", importing.batch_list, name="import_batch_list"),
    path("batches/<int:pk>/", importing.batch_detail, name="import_batch_detail"),
    path("batches/<int:pk>/report.xlsx", importing.batch_report, name="import_batch_report"),
    path("batches/<int:pk>/undo/", importing.batch_undo, name="import_batch_undo"),
]
