"""The cooperation area's sidebar group (省校合作)."""

from rencai.core.navigation import MenuGroup, MenuItem, register_menu

register_menu(
    MenuGroup(
        "cooperation", "省校合作", "school",
        (
            MenuItem("合作院校", "university_list", "cooperation.view_university"),
            MenuItem("合作协议", "agreement_list", "cooperation.view_agreement"),
            MenuItem("合作项目", "project_list", "cooperation.view_project"),
            MenuItem("调度报告", "report_list", "cooperation.view_report"),
            MenuItem("项目督导", "supervision_list", "cooperation.view_supervision"),
            MenuItem("整改问题", "problem_list", "cooperation.view_problem"),
            MenuItem("合作基地", "base_list", "cooperation.view_base"),
            MenuItem("专家库", "expert_list", "cooperation.view_expert"),
            MenuItem("成果库", "achievement_list", "cooperation.view_achievement"),
            MenuItem("走访名校", "visit_list", "cooperation.view_visit"),
            MenuItem("合作统计", "cooperation_figures", "cooperation.view_project"),
            MenuItem("调度会材料", "cooperation_pack", "cooperation.view_project"),
            MenuItem("合作资源库", "cooperationdatabase_list", "cooperation.change_cooperationdatabase"),
        ),
        order=130,
    )
)
