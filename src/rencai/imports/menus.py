"""The imports app's sidebar group."""

from rencai.core.navigation import MenuGroup, MenuItem, register_menu

register_menu(
    MenuGroup(
        "imports", "导入与查重", "file-spreadsheet",
        (
            MenuItem("导入人才", "import_start", "talents.add_talent"),
            MenuItem("导入批次", "import_batch_list", "talents.add_talent"),
            MenuItem("疑似重复", "duplicate_list", "imports.view_duplicatepair"),
            MenuItem("合并记录", "merge_list", "imports.view_merge"),
        ),
        order=150,
    )
)
