"""URLs of the registry, mounted at /talents/: talent_list, talent_detail …, talentdatabase_list,
tag_list, and the saved views of the talent list."""

from django.urls import path

from rencai.talents import views

urlpatterns = [
    path("views/save/", views.save_view, name="talent_view_save"),
    path("views/<str:view_id>/delete/", views.delete_view, name="talent_view_delete"),
    *views.TalentDatabaseViews.urls(),
    *views.TagViews.urls(),
    *views.TalentViews.urls(),
]
