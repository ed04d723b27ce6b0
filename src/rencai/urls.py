"""URL map of rencai: the shell and each area under its own prefix, the API under /api/."""

from django.urls import include, path

from rencai.api.urls import api
from rencai.core.views import errors
from rencai.liaison import urls_campaigns, urls_intake

urlpatterns = [
    path("", include("rencai.core.urls")),
    path("talents/", include("rencai.talents.urls")),
    path("imports/", include("rencai.imports.urls")),
    path("dashboards/", include("rencai.dashboards.urls")),
    path("liaison/review/", include(urls_intake.review_urlpatterns)),
    path("liaison/", include("rencai.liaison.urls")),
    path("cooperation/", include("rencai.cooperation.urls")),
    path("join/unsubscribe/", include(urls_campaigns.public_urlpatterns)),
    path("join/", include(urls_intake.public_urlpatterns)),
    path("api/", api.urls),
]

handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
