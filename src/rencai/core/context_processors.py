"""Template context shared by every page of the shell."""

from __future__ import annotations

from django.conf import settings


def shell(request):
    from rencai.core.navigation import sidebar_for

    return {
        "SITE_TITLE": settings.SITE_TITLE,
        "sidebar": sidebar_for(request) if getattr(request, "user", None) and request.user.is_authenticated else [],
    }
