"""URL map of rencai: the shell and each area under its own prefix, the API under /api/."""

from django.urls import include, path

from rencai.api.urls import api
from rencai.core.views import errors

urlpatterns = [
    path("", include("rencai.core.urls")),
    path("talents/", include("rencai.talents.urls")),
    path("imports/", include("rencai.imports.urls")),
    path("liaison/", include("rencai.liaison.urls")),
    path("api/", api.urls),
]

handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
