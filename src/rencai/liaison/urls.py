"""URLs of the liaison area, mounted at /liaison/ (the review queue has its own, urls_intake)."""

from django.urls import include, path

urlpatterns: list = [
    path("campaigns/", include("rencai.liaison.urls_campaigns")),
]
