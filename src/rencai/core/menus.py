"""The shell's own sidebar groups. Other areas register theirs in their AppConfig.ready."""

from rencai.core.navigation import MenuGroup, MenuItem, register_menu

register_menu(
    MenuGroup(
        "reference", "基础数据", "database",
        (
            MenuItem("组织机构", "orgunit_list", "core.view_orgunit"),
            MenuItem("行政区划", "region_list", "core.view_region"),
            MenuItem("数据字典", "dictionary_list", "core.view_dictionary"),
        ),
        order=800,
    )
)
register_menu(
    MenuGroup(
        "system", "系统管理", "settings",
        (
            MenuItem("用户管理", "user_list", "core.view_user"),
            MenuItem("角色与权限", "role_list", "core.view_role"),
            MenuItem("审计日志", "auditentry_list", "core.view_auditentry"),
            MenuItem("后台任务", "job_list"),  # everyone has their own jobs (exports, imports …)
            MenuItem("API 令牌", "token_list"),
        ),
        order=900,
    )
)
