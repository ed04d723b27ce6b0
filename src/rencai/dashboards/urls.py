"""URLs of the cockpit, mounted at /dashboards/."""

from django.urls import path

from rencai.dashboards import views

urlpatterns = [
    path("", views.cockpit, name="cockpit"),
    path("report/", views.report, name="cockpit_report"),
    path("charts/<slug:key>.xlsx", views.chart_xlsx, name="cockpit_chart_xlsx"),
]
