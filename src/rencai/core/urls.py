"""URLs of the shell: home, sign-in, accounts, reference data, audit and jobs."""

from django.urls import path

from rencai.core.views import home

urlpatterns = [
    path("", home.home, name="home"),
    path("favicon.ico", home.favicon, name="favicon"),
]
