"""Settings of the search benchmark: rencai's own, plus Django's admin for the side-by-side.

The product has no Django admin; the benchmark adds it here only, with a ModelAdmin for Talent
(see ``talents_search_urls``), to time the changelist a Django developer gets from
``search_fields`` on the same data.
"""

from rencai.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.admin"]  # noqa: F405
ROOT_URLCONF = "talents_search_urls"
