"""WSGI entry point for gunicorn (each worker imports it once, before its first request)."""

import os

from django.core.wsgi import get_wsgi_application

from rencai import serving

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rencai.settings")
application = get_wsgi_application()
serving.prepare()
