"""The liaison area's tabs on the talent's page: 联络记录, the talent's timeline of contacts with
their schedule and a quick-entry form."""

from django.utils.translation import gettext_lazy as _

from rencai.core.views.generic import ObjectTab, register_tab
from rencai.liaison.views import talent_tab_badge, talent_tab_get_context
from rencai.talents.models import Talent

register_tab(Talent, ObjectTab(
    "contacts", _("联络记录"), "liaison/_tab_contacts.html", get_context=talent_tab_get_context,
    permission="liaison.view_contactrecord", weight=30, badge=talent_tab_badge,
))
