"""URLs of the dedupe part of the imports app, mounted at /imports/duplicates/."""

from django.urls import path

from rencai.imports.views import dedupe as views

urlpatterns = [
    path("", views.duplicate_list, name="duplicate_list"),
    path("run/", views.duplicate_run, name="duplicate_run"),
    path("merges/", views.merge_list, name="merge_list"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
    path("<int:pk>/", views.duplicate_detail, name="duplicate_detail"),
    path("<int:pk>/merge/", views.duplicate_merge, name="duplicate_merge"),
    path("<int:pk>/distinct/", views.duplicate_distinct, name="duplicate_distinct"),
]
