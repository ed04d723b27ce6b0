"""The cockpit's sidebar group."""

from rencai.core.navigation import MenuGroup, MenuItem, register_menu

register_menu(
    MenuGroup(
        "dashboards", "人才驾驶舱", "chart-pie",
        (
            MenuItem("驾驶舱", "cockpit", "talents.view_talent"),
            MenuItem("统计报告", "cockpit_report", "talents.view_talent"),
        ),
        order=50,
    )
)
