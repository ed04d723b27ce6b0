"""The imports app's sidebar group."""

from rencai.core.navigation import MenuGroup, MenuItem, register_menu

register_menu(
    MenuGroup(
        "imports", "导入导出", "file-spreadsheet",
        (
            MenuItem("导入人才", "import_start", "talents.add_talent"),
            MenuItem("导入批次", "import_batch_list", "talents.add_talent"),
        ),
        order=150,
    )
)
