"""人才驾驶舱 (dashboards): statistics, charts and reports over every area."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "rencai.dashboards"
    label = "dashboards"
    verbose_name = _("人才驾驶舱")

    def ready(self) -> None:
        from rencai.dashboards import menus, sections  # noqa: F401  (sidebar, the registry's section)
