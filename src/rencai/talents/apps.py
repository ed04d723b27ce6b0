"""The talent registry app."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TalentsConfig(AppConfig):
    name = "rencai.talents"
    label = "talents"
    verbose_name = _("人才库")

    def ready(self) -> None:
        from rencai.talents import menus  # noqa: F401  (the sidebar group)
