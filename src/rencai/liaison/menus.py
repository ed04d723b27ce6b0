"""The liaison area's sidebar group (联络服务).

The campaign pages' URL names are listed before those pages exist: an item whose URL does not
reverse is left out of the sidebar, so each appears once its page does.
"""

from rencai.core.navigation import MenuGroup, MenuItem, register_menu

register_menu(
    MenuGroup(
        "liaison", "联络服务", "phone-call",
        (
            MenuItem("联络记录", "contactrecord_list", "liaison.view_contactrecord"),
            MenuItem("新增联络记录", "contactrecord_add", "liaison.add_contactrecord"),
            MenuItem("诉求办理", "contactrequest_list", "liaison.view_contactrequest"),
            MenuItem("工作清单", "worklist", "liaison.view_contactstate"),
            MenuItem("线索", "lead_list", "liaison.view_lead"),
            MenuItem("信息采集审核", "intakesubmission_list", "liaison.view_intakesubmission"),
            MenuItem("推送活动", "campaign_list", "liaison.view_campaign"),
            MenuItem("节日问候", "greeting_list", "liaison.view_campaign"),
            MenuItem("发件箱", "outbox_list", "liaison.view_outboxmessage"),
            MenuItem("退订名单", "optout_list", "liaison.view_optout"),
            # The city administrator's: other roles may read the rules but not change them.
            MenuItem("联络周期", "cadencerule_list", "liaison.change_cadencerule"),
        ),
        order=120,
    )
)
