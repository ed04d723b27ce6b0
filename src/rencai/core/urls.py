"""URLs of the shell: home, sign-in, accounts, reference data, organisation units, audit, jobs."""

from django.urls import path

from rencai.core.views import accounts, auditlog, home, jobs, orgunits, reference, tokens

urlpatterns = [
    path("", home.home, name="home"),
    path("favicon.ico", home.favicon, name="favicon"),
    *accounts.urlpatterns,
    *auditlog.urlpatterns,
    *jobs.urlpatterns,
    *tokens.urlpatterns,
    *reference.urlpatterns,
    *orgunits.urlpatterns,
]
