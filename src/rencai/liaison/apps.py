"""Liaison work (联络服务): contact records, cadences and worklists, leads."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiaisonConfig(AppConfig):
    name = "rencai.liaison"
    label = "liaison"
    verbose_name = _("联络服务")

    def ready(self) -> None:
        from rencai.liaison import dashboard, menus, receivers, tabs  # noqa: F401  (cockpit section, sidebar, state upkeep, talent tabs)
