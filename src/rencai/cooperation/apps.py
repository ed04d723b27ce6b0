"""Province–university cooperation (省校合作): universities, agreements, projects, bases, the 四库."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CooperationConfig(AppConfig):
    name = "rencai.cooperation"
    label = "cooperation"
    verbose_name = _("省校合作")

    def ready(self) -> None:
        from rencai.cooperation import dashboard, menus, tabs  # noqa: F401  (cockpit section, sidebar, lead tab)
