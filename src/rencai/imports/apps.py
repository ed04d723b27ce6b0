"""The imports app: Excel import pipeline, validation reports, exports, dedupe and merge."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "rencai.imports"
    label = "imports"
    verbose_name = _("导入导出与查重")

    def ready(self) -> None:
        from rencai.imports import menus  # noqa: F401  (the sidebar group)
