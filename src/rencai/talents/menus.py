"""The registry's sidebar group."""

from rencai.core.navigation import MenuGroup, MenuItem, register_menu

register_menu(
    MenuGroup(
        "talents", "人才库", "users",
        (
            MenuItem("人才列表", "talent_list", "talents.view_talent"),
            MenuItem("新增人才", "talent_add", "talents.add_talent"),
            MenuItem("人才库设置", "talentdatabase_list", "talents.view_talentdatabase"),
        ),
        order=100,
    )
)
