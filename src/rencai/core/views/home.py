"""The home page and the favicon."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.views.decorators.cache import cache_control


@login_required
def home(request):
    return render(request, "core/home.html", {})


@cache_control(max_age=86400, public=True)
def favicon(request):
    found = finders.find("rencai/favicon.ico")
    if not found:
        raise Http404
    return FileResponse(open(found, "rb"), content_type="image/x-icon")  # noqa: SIM115
