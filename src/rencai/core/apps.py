"""The core app: regions, dictionaries, accounts and roles, data scope, audit, jobs, the UI shell."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "rencai.core"
    label = "core"
    verbose_name = _("平台基础")

    def ready(self) -> None:
        from rencai.core import menus, signals  # noqa: F401  (sidebar entries, change logging, role sync)
