"""人才驾驶舱 (dashboards): statistics, charts and reports over every area."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "rencai.dashboards"
    label = "dashboards"
    verbose_name = _("人才驾驶舱")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from rencai.dashboards import menus, sections  # noqa: F401  (sidebar, the registry's section)

        post_migrate.connect(install_change_log, sender=self)


def install_change_log(sender, using="default", **kwargs) -> None:
    """(Re)write the triggers that log writes to the tables the cockpit keeps in memory; after
    every migrate, so a table a migration rebuilt gets them back."""
    from rencai.dashboards.replica import install_triggers

    install_triggers(using)
