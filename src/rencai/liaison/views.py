"""Pages of liaison work (联络服务): contact records with their requests, quick entry from a
talent's page or the contact list, the requests (诉求) being handled, the worklists, leads and the
cadence rules.

Declared on the generic views (``core.views.generic``) like the registry's; writes go through
``liaison.services`` (contacts, requests, leads) and ``talents.services`` (the worklist's bulk
assignment of liaison officers and 确认失联, which are edits of talents). Everything is read within
the user's data scope: another county's contact is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rencai.core.forms import add_refusal, region_choices
from rencai.core.models.regions import RegionLevel
from rencai.core.scope import get_object_or_404_in_scope, user_can
from rencai.core.views.generic import RESULTS_ID, ViewSet, build_listing, safe_return_url
from rencai.liaison import services, worklists
from rencai.liaison.choices import RequestStatus
from rencai.liaison.filters import ContactRecordFilterSet, ContactRequestFilterSet, LeadFilterSet
from rencai.liaison.forms import (
    AssignOfficerForm,
    CadenceRuleForm,
    ContactRecordForm,
    LeadForm,
    QuickContactForm,
)
from rencai.liaison.models import CadenceRule, ContactRecord, ContactRequest, ContactState, Lead
from rencai.liaison.schedule import LOST_AFTER
from rencai.liaison.tables import (
    CadenceRuleTable,
    ContactRecordTable,
    ContactRequestTable,
    LeadTable,
    WorklistTable,
)
from rencai.talents import search
from rencai.talents import services as talent_services
from rencai.talents.choices import TalentStatus
from rencai.talents.forms import liaison_officer_queryset
from rencai.talents.models import Talent

TEMPLATES = "liaison/"
TIMELINE_LENGTH = 50  # contacts shown on a talent's timeline (the contact list has them all)
TALENT_SEARCH_LIMIT = 10


def _talent_in_scope(user, pk, action: str = "view") -> Talent | None:
    if not str(pk or "").isdecimal():
        return None
    return Talent.objects.restrict(user, action).select_related("region").filter(pk=pk).first()


# --- contact records ----------------------------------------------------------------------------------------
class ContactRecordViews(ViewSet):
    model = ContactRecord
    url_prefix = "contacts"
    queryset = ContactRecord.objects.fetch_references("staff", "region", "talents", "topics")
    filterset = ContactRecordFilterSet
    table = ContactRecordTable
    form = ContactRecordForm
    actions = ("list", "add", "detail", "edit", "delete", "changelog")
    detail_fields = ("talents", "channel", "contacted_at", "staff", "reached", "topics", "summary",
                     "next_contact_date", "region", "created_by", "created_at", "updated_by", "updated_at")
    list_template = TEMPLATES + "contactrecord_list.html"
    detail_template = TEMPLATES + "contactrecord_detail.html"
    edit_template = TEMPLATES + "contactrecord_edit.html"

    def get_object_queryset(self, request):
        return ContactRecord.objects.select_related("staff", "region", "created_by", "updated_by")

    def get_initial(self, request):
        """A new contact: with the talent asked for (``?talent=``), if the user may see them."""
        talent = _talent_in_scope(request.user, request.GET.get("talent"))
        return {"talents": [talent.pk]} if talent else {}

    def save_object(self, request, obj, form, created):
        services.save_contact(obj, user=request.user, **form.service_arguments())

    def delete_object(self, request, obj):
        services.delete_contact(obj, user=request.user)

    def get_success_url(self, request, obj):
        return self.url("detail", obj)

    def get_list_context(self, request, listing):
        """The quick-entry form, and the talent the list is narrowed to (from their page)."""
        return {
            "quick_form": quick_form_for(request.user) if user_can(request.user, ContactRecord, "add") else None,
            "filtered_talent": _talent_in_scope(request.user, request.GET.get("talent")),
        }

    def get_detail_context(self, request, obj):
        user = request.user
        leads = Lead.objects.restrict(user, "view").filter(contact=obj).select_related("owner")
        return {
            "requests": list(obj.requests.select_related("talent", "handler")),
            "leads": list(leads),
            "lead_add_url": reverse("lead_add") + f"?contact={obj.pk}" if user_can(user, Lead, "add") else None,
        }


def quick_form_for(user, data=None, talent: Talent | None = None) -> QuickContactForm:
    return QuickContactForm(data, user=user, fixed_talent=talent)


@login_required
@require_GET
def talent_search(request):
    """The talent picker's search: the best matches the user may see, to tick."""
    if not user_can(request.user, ContactRecord, "view") and not user_can(request.user, Lead, "view"):
        raise PermissionDenied
    name = request.GET.get("name") or "talents"
    query = (request.GET.get(f"{name}__search") or request.GET.get("q") or "").strip()
    found = []
    if query:
        found = list(search.apply_search(Talent.objects.restrict(request.user, "view"), query)[:TALENT_SEARCH_LIMIT])
        regions = {r.pk: r for r in region_choices(request.user).filter(pk__in={t.region_id for t in found})}
        for talent in found:
            talent.region_label = regions[talent.region_id].name if talent.region_id in regions else ""
    return render(request, TEMPLATES + "widgets/_talent_options.html", {
        "talents": found, "query": query, "name": name,
        "multiple": request.GET.get("multiple") != "0",
    })


@login_required
@require_POST
def quick_entry(request):
    """快速录入: a contact recorded from a talent's page (``for_talent``) or from the contact list.

    Answers htmx with the part of the page to swap: the talent's refreshed timeline and schedule,
    or a fresh form for the next contact (the list refreshes itself on ``contactSaved``).
    """
    user = request.user
    if not user_can(user, ContactRecord, "add"):
        raise PermissionDenied
    talent = None
    if request.POST.get("for_talent"):
        talent = _talent_in_scope(user, request.POST["for_talent"])
        if talent is None:
            raise Http404
    form = quick_form_for(user, request.POST, talent)
    saved = None
    if form.is_valid():
        try:
            saved = services.save_contact(form.save(commit=False), user=user, **form.service_arguments())
        except ValidationError as exc:
            add_refusal(form, exc)
    if saved is not None:
        text = _("已记录%(channel)s（%(when)s）。") % {
            "channel": saved.get_channel_display(), "when": f"{saved.contacted_at:%Y-%m-%d}"}
        if not request.htmx:
            messages.success(request, text)
            return redirect(reverse("talent_tab", kwargs={"pk": talent.pk, "tab": "contacts"}) if talent
                            else reverse("contactrecord_list"))
        form, saved_message = quick_form_for(user, None, talent), text
    else:
        saved_message = None
        if not request.htmx:
            for message in form.non_field_errors() or [_("请检查填写的内容。")]:
                messages.error(request, message)
            return redirect(safe_return_url(request, reverse("contactrecord_list")))
    if talent is not None:
        context = talent_tab_context(request, talent, form=form)
        response = render(request, TEMPLATES + "_tab_contacts_body.html", {**context, "saved_message": saved_message})
    else:
        response = render(request, TEMPLATES + "_quick_form.html", {"quick_form": form, "saved_message": saved_message})
    if saved_message:
        response["HX-Trigger"] = "contactSaved"
    return response


# --- the talent's 联络记录 tab --------------------------------------------------------------------------------
def talent_tab_context(request, talent: Talent, *, form=None) -> dict:
    """The talent's schedule (next due, last contact, failed attempts), the quick-entry form and
    the timeline of the contacts the user may see, newest first."""
    user = request.user
    contacts = list(
        ContactRecord.objects.restrict(user, "view").filter(talents=talent)
        .fetch_references("staff", "topics", "talents").order_by("-contacted_at", "-id")[:TIMELINE_LENGTH]
    )
    requests = {}
    for row in ContactRequest.objects.filter(contact__in=[c.pk for c in contacts]).select_related("handler"):
        requests.setdefault(row.contact_id, []).append(row)
    for contact in contacts:
        contact.request_rows = requests.get(contact.pk, [])
    may_add = user_can(user, ContactRecord, "add")
    return {
        "talent": talent,
        "state": ContactState.objects.filter(talent=talent).first(),
        "lost_after": LOST_AFTER,
        "timeline": contacts,
        "timeline_more": len(contacts) == TIMELINE_LENGTH,
        "contacts_url": reverse("contactrecord_list") + f"?talent={talent.pk}",
        "quick_form": (form or quick_form_for(user, None, talent)) if may_add else None,
        "add_url": reverse("contactrecord_add") + f"?talent={talent.pk}" if may_add else None,
        "lead_add_url": reverse("lead_add") + f"?talent={talent.pk}" if user_can(user, Lead, "add") else None,
    }


def talent_tab_get_context(request, talent):
    return talent_tab_context(request, talent)


def talent_tab_badge(talent, user):
    """The talent's contacts ``user`` may see (a city-level contact with several counties'
    talents is not counted for a county officer)."""
    return ContactRecord.objects.restrict(user, "view").filter(talents=talent).count() or None


# --- requests (诉求) -------------------------------------------------------------------------------------------
class ContactRequestViews(ViewSet):
    model = ContactRequest
    url_prefix = "requests"
    queryset = ContactRequest.objects.fetch_references("talent", "handler", "contact")
    filterset = ContactRequestFilterSet
    table = ContactRequestTable
    actions = ("list", "detail", "changelog")
    ordering = ("-contact__contacted_at", "-id")
    detail_fields = ("content", "talent", "contact", "status", "handler", "result", "closed_on", "created_at",
                     "updated_at")

    def get_object_queryset(self, request):
        return ContactRequest.objects.select_related("talent", "handler", "contact")

    def get_detail_context(self, request, obj):
        return {"edit_url": reverse("contactrecord_edit", kwargs={"pk": obj.contact_id})
                if user_can(request.user, ContactRecord, "change") else None}


@login_required
@require_POST
def request_status(request, pk):
    """The quick status change of the requests list (scoped, audited)."""
    row = get_object_or_404_in_scope(ContactRequest.objects.select_related("contact"), request.user, "change", pk=pk)
    status = request.POST.get(f"status-{row.pk}") or request.POST.get("status")
    if status not in RequestStatus.values:
        return render(request, TEMPLATES + "_request_status.html", {
            "record": row, "may_change": True, "status_choices": RequestStatus.choices, "error": _("办理状态无效。")},
            status=400)
    row.status = status
    services.save_request(row, user=request.user)
    if request.htmx:
        return render(request, TEMPLATES + "_request_status.html", {
            "record": row, "may_change": True, "status_choices": RequestStatus.choices, "saved": True})
    messages.success(request, _("已将诉求“%(request)s”改为%(status)s。") % {"request": row, "status": row.get_status_display()})
    return redirect(safe_return_url(request, reverse("contactrequest_list")))


# --- leads (线索) ---------------------------------------------------------------------------------------------
class LeadViews(ViewSet):
    model = Lead
    url_prefix = "leads"
    queryset = Lead.objects.fetch_references("talent", "owner", "region")
    filterset = LeadFilterSet
    table = LeadTable
    form = LeadForm
    actions = ("list", "add", "detail", "edit", "delete", "changelog")
    detail_fields = ("kind", "title", "status", "talent", "contact", "owner", "due_date", "region", "description",
                     "outcome", "created_by", "created_at", "updated_at")
    edit_template = TEMPLATES + "lead_edit.html"

    def get_object_queryset(self, request):
        return Lead.objects.select_related("talent", "owner", "region", "contact", "created_by")

    def get_initial(self, request):
        """转为线索: from a contact (``?contact=``) its talent, region and what was said; or a talent's."""
        user = request.user
        initial = {}
        contact = None
        if str(request.GET.get("contact") or "").isdecimal():
            contact = ContactRecord.objects.restrict(user, "view").filter(pk=request.GET["contact"]).first()
        if contact is not None:
            talents = list(contact.talents.values_list("pk", flat=True)[:2])
            initial.update({"contact": contact.pk, "description": contact.summary, "region": contact.region_id})
            if len(talents) == 1:
                initial["talent"] = talents[0]
        talent = _talent_in_scope(user, request.GET.get("talent"))
        if talent is not None:
            initial.update({"talent": talent.pk, "region": talent.region_id})
        return initial

    def save_object(self, request, obj, form, created):
        services.save_lead(obj, user=request.user)

    def delete_object(self, request, obj):
        services.delete_lead(obj, user=request.user)


# --- cadence rules (联络周期) ------------------------------------------------------------------------------------
class CadenceRuleViews(ViewSet):
    """Kept by the city administrator (city configuration); a change re-works every schedule in
    the background (``receivers.refresh_after_rule_change``)."""

    model = CadenceRule
    url_prefix = "cadences"
    queryset = CadenceRule.objects.fetch_references("tier", "category", "database")
    table = CadenceRuleTable
    form = CadenceRuleForm
    actions = ("list", "add", "detail", "edit", "delete", "changelog")
    ordering = ("sort_order", "id")
    detail_fields = ("name", "tier", "category", "database", "interval_days", "sort_order", "is_active",
                     "created_at", "updated_at")
    list_template = TEMPLATES + "cadencerule_list.html"

    def save_object(self, request, obj, form, created):
        services.save_cadence_rule(obj, user=request.user)
        messages.info(request, _("各位人才的下次联络日期将在后台按新的联络周期重新计算。"))

    def delete_object(self, request, obj):
        services.delete_cadence_rule(obj, user=request.user)
        messages.info(request, _("各位人才的下次联络日期将在后台按新的联络周期重新计算。"))


# --- worklists (工作清单) -----------------------------------------------------------------------------------------
def _worklist_choices(request):
    """The worklist, region and officer the page shows, each checked against what the user may see."""
    user = request.user
    kind = request.GET.get("kind") if request.GET.get("kind") in worklists.KINDS else worklists.OVERDUE
    counties = list(region_choices(user).filter(level=RegionLevel.COUNTY))
    officers = list(liaison_officer_queryset(user))
    # A value not found (another county's, a stale link) shows the whole list rather than an error.
    region, officer, _errors = worklists.resolve_filters(user, request.GET.get("region"), request.GET.get("officer"))
    return kind, counties, region, officers, officer


@login_required
def worklist(request):
    """本周待联络 / 已逾期 / 疑似失联: counts per county and per liaison officer, and the list."""
    user = request.user
    if not user_can(user, ContactState, "view"):
        raise PermissionDenied
    kind, counties, region, officers, officer = _worklist_choices(request)
    queryset = worklists.worklist(user, kind, region=region, officer=officer).fetch_references(
        "talent", "region", "liaison_officer")
    may_change = user_can(user, Talent, "change")
    listing = build_listing(request, queryset, table_class=WorklistTable, prefs_key="liaison.worklist",
                            base_url=request.path, selectable=may_change, default_ordering=worklists.ORDERING)
    context = {
        "page_title": _("工作清单"),
        "breadcrumbs": [(_("首页"), reverse("home")), (_("联络服务"), None), (_("工作清单"), None)],
        "listing": listing,
        "kinds": list(worklists.KINDS.items()),
        "kind": kind,
        "kind_label": worklists.KINDS[kind],
        "counties": counties,
        "region": region,
        "officers": officers,
        "officer": officer,
        "no_officer": worklists.NO_OFFICER,
        "may_change": may_change,
        "assign_form": AssignOfficerForm(user=user) if may_change else None,
    }
    if request.htmx and not request.htmx.history_restore_request and request.htmx.target == RESULTS_ID:
        return render(request, TEMPLATES + "_worklist_results.html", context)
    context["by_region"] = _with_cells(worklists.summary_by_region(user, counties))
    context["by_officer"] = _with_cells(worklists.summary_by_officer(user, region=region))
    return render(request, TEMPLATES + "worklist.html", context)


def _with_cells(rows):
    """Each summary row's counts in the order of the worklists, for the table's columns."""
    for row in rows:
        row.cells = [(kind, row.counts[kind]) for kind in worklists.KINDS]
    return rows


def _worklist_back(request) -> str:
    return safe_return_url(request, reverse("worklist"))


@login_required
@require_POST
def worklist_assign(request):
    """分配联络员: the ticked talents get one liaison officer (the registry's bulk edit: scoped, audited)."""
    user = request.user
    if not user_can(user, Talent, "change"):
        raise PermissionDenied
    form = AssignOfficerForm(request.POST, user=user)
    talents = Talent.objects.restrict(user, "change").filter(pk__in=[p for p in request.POST.getlist("pk") if p.isdecimal()])
    if not talents.exists():
        messages.warning(request, _("请先勾选要分配联络员的人才。"))
    elif not form.is_valid():
        messages.error(request, _("请选择联络员。"))
    else:
        try:
            count = talent_services.bulk_update_talents(
                talents, user=user, changes={"liaison_officer": form.cleaned_data["liaison_officer"]})
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("已为 %(count)d 位人才分配联络员%(officer)s。") % {
                "count": count, "officer": form.cleaned_data["liaison_officer"]})
    return redirect(_worklist_back(request))


@login_required
@require_POST
def worklist_confirm_lost(request):
    """确认失联: staff confirm what repeated failed attempts suggest; the talent's status becomes 失联."""
    user = request.user
    talent = _talent_in_scope(user, request.POST.get("talent"), "change")
    if talent is None:
        raise Http404
    if not ContactState.objects.filter(talent=talent, failed_attempts__gte=LOST_AFTER).exists():
        # Only what repeated failed attempts suggest is confirmed here; otherwise edit the talent.
        messages.error(request, _("“%(name)s”尚未连续多次未联系上，不能在此确认失联。") % {"name": talent.name})
        return redirect(_worklist_back(request))
    try:
        talent_services.bulk_update_talents(Talent.objects.restrict(user, "change").filter(pk=talent.pk), user=user,
                                            changes={"status": TalentStatus.LOST})
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("已将“%(name)s”标记为失联。") % {"name": talent.name})
    return redirect(_worklist_back(request))

