"""The cooperation area's tabs: on a liaison lead's page (合作项目), the project the lead became or
the button that turns it into one; on a talent's page (专家库), the universities the talent is an
expert of."""

from django.utils.translation import gettext_lazy as _

from rencai.cooperation.models import Expert, Project
from rencai.core.scope import user_can
from rencai.core.views.generic import ObjectTab, register_tab
from rencai.liaison.choices import LeadStatus
from rencai.liaison.models import Lead
from rencai.talents.models import Talent


def lead_tab_context(request, lead: Lead) -> dict:
    user = request.user
    project = Project.objects.restrict(user, "view").filter(lead=lead).select_related("university").first()
    exists = project is not None or Project.objects.filter(lead=lead).exists()
    return {
        "project": project,
        "may_convert": not exists and lead.status != LeadStatus.CLOSED and user_can(user, Project, "add")
        and user_can(user, Lead, "change"),
    }


register_tab(Lead, ObjectTab(
    "cooperation", _("合作项目"), "cooperation/_tab_lead.html", get_context=lead_tab_context,
    permission="cooperation.view_project", weight=50,
))


def talent_tab_context(request, talent: Talent) -> dict:
    user = request.user
    return {
        "experts": list(Expert.objects.restrict(user, "view").filter(talent=talent).select_related("university")),
        "may_add": user_can(user, Expert, "add"),
    }


def talent_tab_badge(talent: Talent, user) -> int:
    return Expert.objects.restrict(user, "view").filter(talent=talent).count() or None


register_tab(Talent, ObjectTab(
    "expert", _("专家库"), "cooperation/_tab_talent.html", get_context=talent_tab_context,
    permission="cooperation.view_expert", weight=60, badge=talent_tab_badge,
))
