"""Pages of information collection (信息采集).

Public, for anyone without signing in (marked ``login_not_required``; the security middleware
lets such pages through for a signed-in visitor too, see ``core.middleware.is_public``): the
registration form and its thank-you page, the personal update form behind a signed link and its
done page. They keep no session, reveal nothing about the registry (the thank-you page is the
same whoever registers), and are rate-limited per client address and per ID-card number.

For staff (signed in, within data scope): the review queue, declared on the generic views (list,
detail with the 「显示完整」 of the submitted ID-card and mobile numbers, change log), the three
decisions (accept, merge, reject) and the page that shows and downloads the registration QR code.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import django_tables2 as tables
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from rencai.core.auth.totp import qr_svg
from rencai.core.fields import ProtectedField
from rencai.core.middleware import client_ip
from rencai.core.models import Region
from rencai.core.scope import get_object_or_404_in_scope, user_can
from rencai.core.tables import BaseTable, ProtectedColumn, object_url
from rencai.core.views.generic import ViewSet, display_value
from rencai.liaison import intake
from rencai.liaison.forms_intake import IntakeForm, IntakeSubmissionFilterSet, IntakeUpdateForm, city_counties
from rencai.liaison.models_intake import IntakeSubmission, SubmissionKind
from rencai.talents import services as talent_services
from rencai.talents.models import Talent

TEMPLATES = "liaison/intake/"


# --- public pages ----------------------------------------------------------------------------------------
def _public(request, template: str, context: dict | None = None, status: int = 200):
    return render(request, TEMPLATES + template, {
        "contact": settings.INTAKE_CONTACT, "city_name": _city_name(), **(context or {}),
    }, status=status)


def _city_name() -> str:
    return Region.objects.filter(code=settings.CITY_CODE).values_list("name", flat=True).first() or ""


def _form_page(request, form, template: str, *, limited: intake.RateLimited | None = None, **extra):
    return _public(request, template, {"form": form, "limited": limited, **extra}, status=429 if limited else 200)


@login_not_required
@never_cache
def register(request):
    """在外人才自主登记: the public form."""
    if request.method == "POST":
        form = IntakeForm(request.POST)
        try:
            intake.spend_address_attempt(client_ip(request))
            if form.honeypot_filled:
                return redirect("intake_thanks")  # a robot: thanked, nothing kept
            if not form.is_valid():
                return _form_page(request, form, "register.html")
            intake.spend_id_attempt(form.instance.id_card)
        except intake.RateLimited as limited:
            return _form_page(request, form, "register.html", limited=limited)
        intake.submit_registration(form.save(commit=False))
        return redirect("intake_thanks")
    initial = {}
    county = city_counties().filter(code=request.GET.get("county") or "").first()
    if county is not None:
        initial["native_place"] = county.pk
    return _form_page(request, IntakeForm(initial=initial), "register.html")


@login_not_required
def thanks(request):
    return _public(request, "done.html", {
        "page_title": _("提交成功"), "heading": _("提交成功，感谢您的登记！"), "text": _("工作人员核对后会与您联系。")})


@login_not_required
@never_cache
def update(request):
    """The personal update form behind a signed link (``?t=``); any bad link reads the same."""
    token = request.POST.get("t") if request.method == "POST" else request.GET.get("t")
    talent = intake.talent_for_token(token)
    if talent is None:
        return _public(request, "link_invalid.html", status=404)
    if request.method == "POST":
        form = IntakeUpdateForm(request.POST, talent=talent)
        try:
            intake.spend_address_attempt(client_ip(request))
            if form.honeypot_filled:
                return redirect("intake_update_done")
            if not form.is_valid():
                return _form_page(request, form, "update.html", token=token)
        except intake.RateLimited as limited:
            return _form_page(request, form, "update.html", token=token, limited=limited)
        intake.submit_update(talent, form.save(commit=False))
        return redirect("intake_update_done")
    return _form_page(request, IntakeUpdateForm(talent=talent), "update.html", token=token)


@login_not_required
def update_done(request):
    return _public(request, "done.html", {
        "page_title": _("提交成功"), "heading": _("提交成功，谢谢！"), "text": _("工作人员核对后会更新您的信息。")})


# --- the review queue ------------------------------------------------------------------------------------
class IntakeSubmissionTable(BaseTable):
    created_at = tables.DateTimeColumn(verbose_name=gettext_lazy("提交时间"), format="Y-m-d H:i",
                                       linkify=lambda record: object_url(record))
    kind = tables.Column()
    name = tables.Column(linkify=lambda record: object_url(record))
    region = tables.Column(order_by=("region",))
    work_unit = tables.Column()
    mobile = ProtectedColumn()
    status = tables.Column()
    handled_by = tables.Column(order_by=("handled_by",))
    handled_at = tables.DateTimeColumn(format="Y-m-d H:i")

    default_columns = ("created_at", "kind", "name", "region", "work_unit", "mobile", "status", "handled_by")

    class Meta(BaseTable.Meta):
        model = IntakeSubmission
        fields = ("pk", "created_at", "kind", "name", "region", "work_unit", "mobile", "status", "handled_by",
                  "handled_at")
        exclude = ("actions",)
        empty_text = gettext_lazy("没有符合条件的登记或更正。")


class IntakeSubmissionViews(ViewSet):
    """The review queue (信息采集审核), mounted at /liaison/review/."""

    model = IntakeSubmission
    url_prefix = ""
    filterset = IntakeSubmissionFilterSet
    table = IntakeSubmissionTable
    actions = ("list", "detail", "changelog")
    ordering = ("-created_at", "-id")
    detail_fields = (
        "kind", "status", "region", "talent", *intake.PERSON_FIELDS, "consent_at", "consent_method", "consent_scope",
        "consent_notice", ("created_at", _("提交时间")), "handled_by", "handled_at", "reject_reason",
    )
    list_template = TEMPLATES + "review_list.html"
    detail_template = TEMPLATES + "review_detail.html"

    def get_queryset(self, request):
        # The columns' regions and reviewers: one query per model for the page, not one per row.
        return IntakeSubmission.objects.fetch_references("region", "handled_by")

    def get_object_queryset(self, request):
        return IntakeSubmission.objects.select_related("region", "talent", "handled_by", "native_place")

    def get_breadcrumbs(self, request, obj=None, leaf=None):
        crumbs = super().get_breadcrumbs(request, obj, leaf)
        crumbs[1] = (_("信息采集审核"), self.url("list"))
        return crumbs

    def detail_rows(self, obj, user):
        # A handled submission keeps only the name and the outcome: its emptied values say nothing.
        rows = super().detail_rows(obj, user)
        return [row for row in rows if row["value"] != "—" or row["name"] in ("status", "kind")]

    def get_list_context(self, request, listing):
        return {"share_url": reverse("intake_share")}

    def get_detail_context(self, request, obj):
        return review_context(request, obj)


def review_context(request, submission: IntakeSubmission) -> dict:
    """What the detail page shows beside the submission: for a registration, the records it may
    be (and the accept and merge actions); for a correction, the comparison with its record."""
    user = request.user
    may_decide = submission.is_pending and user_can(user, IntakeSubmission, "change")
    context = {
        "submission": submission,
        "may_decide": may_decide,
        "may_accept": may_decide and user_can(user, Talent, "add"),
        "may_merge": may_decide and user_can(user, Talent, "change"),
    }
    if not submission.is_pending:
        return context
    if submission.kind == SubmissionKind.REGISTRATION:
        context["matches"] = intake.find_matches(submission, user)
    elif submission.talent_id and Talent.objects.restrict(user, "view").filter(pk=submission.talent_id).exists():
        context.update(comparison_context(request, submission, submission.talent))
    return context


def _reveal_url(obj, name: str) -> str | None:
    try:
        return reverse(f"{obj._meta.model_name}_reveal", kwargs={"pk": obj.pk, "field": name})
    except NoReverseMatch:
        return None


def comparison_rows(request, submission: IntakeSubmission, talent: Talent, take: set[str]) -> list[dict]:
    """One row per field either side has: the record's value and the submitted one (personal data
    masked, with 「显示完整」 for roles that may see it, audited), and which one the merge keeps."""
    rows = []
    for name in intake.person_fields(submission.kind):
        model_field = Talent._meta.get_field(name)
        raw = {intake.EXISTING: getattr(talent, model_field.attname), intake.SUBMITTED: getattr(submission, model_field.attname)}
        if all(value in (None, "") for value in raw.values()):
            continue
        protected = isinstance(model_field, ProtectedField)
        row = {"name": name, "label": model_field.verbose_name, "same": raw[intake.EXISTING] == raw[intake.SUBMITTED],
               "protected": protected, "sides": []}
        for side, obj, choose in ((intake.EXISTING, talent, _("保留现有的%(field)s")),
                                  (intake.SUBMITTED, submission, _("采用填写的%(field)s"))):
            row["sides"].append({
                "side": side,
                "value": display_value(obj, obj._meta.get_field(name), getattr(obj, name), html=False),
                "chosen": (name in take) == (side == intake.SUBMITTED),
                "choose_label": choose % {"field": model_field.verbose_name},
                "reveal": _reveal_url(obj, name) if protected and raw[side] and request.user.can_view_personal else None,
            })
        rows.append(row)
    return rows


def comparison_context(request, submission, talent, *, take=None) -> dict:
    take = intake.default_take(submission, talent) if take is None else take
    return {
        "target": talent,
        "rows": comparison_rows(request, submission, talent, take),
        "version": talent.version,
        "merge_url": reverse("intake_merge", kwargs={"pk": submission.pk, "talent_pk": talent.pk}),
    }


def _messages_of(exc: ValidationError) -> list[str]:
    """A refusal as sentences that name their field (“籍贯：…”)."""
    if not hasattr(exc, "error_dict"):
        return exc.messages
    found = []
    for name, errors in exc.message_dict.items():
        try:
            label = Talent._meta.get_field(name).verbose_name
        except Exception:  # noqa: BLE001  (FieldDoesNotExist: a refusal about the whole record)
            label = ""
        found.extend(f"{label}：{message}" if label else message for message in errors)
    return found


def _decision_submission(request, pk) -> IntakeSubmission:
    return get_object_or_404_in_scope(
        IntakeSubmission.objects.select_related("region", "talent", "handled_by"), request.user, "change", pk=pk)


def _refused(request, submission, exc: ValidationError):
    if isinstance(exc, intake.AlreadyHandled):
        messages.warning(request, exc.messages[0])
    elif isinstance(exc, talent_services.PossibleDuplicates):
        # The registry's wording asks for its own 「仍然保存」; here the list is on the page.
        messages.error(request, _("人才库中有 %(count)d 条可能是同一人的记录，请核对下方列表后再决定新建或并入。")
                       % {"count": len(exc.similar)})
    else:
        for message in _messages_of(exc):
            messages.error(request, message)
    return redirect("intakesubmission_detail", pk=submission.pk)


@login_required
@require_POST
def accept(request, pk):
    submission = _decision_submission(request, pk)
    try:
        talent = intake.accept_submission(submission, user=request.user,
                                          confirm_duplicates=bool(request.POST.get("confirm_duplicates")))
    except ValidationError as exc:
        return _refused(request, submission, exc)
    messages.success(request, _("已新建人才“%(name)s”。") % {"name": talent.name})
    return redirect("talent_detail", pk=talent.pk)


@login_required
@require_POST
def reject(request, pk):
    submission = _decision_submission(request, pk)
    try:
        intake.reject_submission(submission, user=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        return _refused(request, submission, exc)
    messages.success(request, _("已驳回“%(name)s”的%(kind)s。") % {
        "name": submission.name, "kind": submission.get_kind_display()})
    return redirect("intakesubmission_list")


@login_required
def merge(request, pk, talent_pk):
    """Compare a submission with a record field by field; on POST, merge what the reviewer chose."""
    submission = _decision_submission(request, pk)
    talent = get_object_or_404_in_scope(Talent.objects.select_related("region"), request.user, "change", pk=talent_pk)
    if submission.kind == SubmissionKind.UPDATE and talent.pk != submission.talent_id:
        raise PermissionDenied
    viewset = IntakeSubmissionViews(request)
    page = {
        "page_title": _("并入已有记录：%(name)s") % {"name": submission.name},
        "breadcrumbs": viewset.get_breadcrumbs(request, submission, _("并入已有记录")),
    }
    if request.method != "POST":
        return render(request, TEMPLATES + "review_merge.html",
                      {**page, **review_context(request, submission), **comparison_context(request, submission, talent)})
    take = {name for name in intake.person_fields(submission.kind) if request.POST.get(f"field_{name}") == intake.SUBMITTED}
    version = request.POST.get("version", "")
    if not version.isdecimal():
        return HttpResponse(_("请求缺少记录版本，请刷新页面后重试。"), status=400)
    try:
        intake.merge_submission(submission, talent, user=request.user, take=take, expected_version=int(version))
    except intake.AlreadyHandled as exc:
        return _refused(request, submission, exc)
    except ValidationError as exc:
        # What is saved now, with its version: a deliberate second submit goes through.
        talent.refresh_from_db()
        context = {**page, **review_context(request, submission),
                   **comparison_context(request, submission, talent, take=take),
                   "error": "；".join(_messages_of(exc)),
                   "stale": isinstance(exc, talent_services.StaleTalent)}
        return render(request, TEMPLATES + "review_merge.html", context, status=409)
    messages.success(request, _("已将%(kind)s并入“%(name)s”。") % {"kind": submission.get_kind_display(), "name": talent.name})
    return redirect("talent_detail", pk=talent.pk)


# --- the registration QR code ------------------------------------------------------------------------------
def _share_county(request):
    """The county of the link (its 籍贯 chosen first), among those of the city the user covers."""
    counties = city_counties().filter(pk__in=request.user.scope_regions().values("pk"))
    chosen = counties.filter(code=request.GET.get("county") or "").first()
    if chosen is None and not request.user.sees_all_regions:
        chosen = counties.first()
    return counties, chosen


def _require_share(request) -> None:
    if not user_can(request.user, IntakeSubmission, "view"):
        raise PermissionDenied


@login_required
def share(request):
    """The registration link and its QR code, to put in a WeChat group, a poster, a letter."""
    _require_share(request)
    counties, county = _share_county(request)
    link = intake.registration_link(request, county=county)
    query = f"?county={county.code}" if county else ""
    viewset = IntakeSubmissionViews(request)
    return render(request, TEMPLATES + "share.html", {
        "page_title": _("登记二维码"),
        "breadcrumbs": viewset.get_breadcrumbs(request, None, _("登记二维码")),
        "link": link,
        "qr": qr_svg(link),
        "counties": counties,
        "county": county,
        "all_counties": request.user.sees_all_regions,
        "public_url_set": bool(settings.PUBLIC_URL),
        "svg_url": reverse("intake_share_qr", kwargs={"fmt": "svg"}) + query,
        "png_url": reverse("intake_share_qr", kwargs={"fmt": "png"}) + query,
    })


@login_required
def share_qr(request, fmt: str):
    """The QR code as a file: SVG for print, PNG for WeChat and slides."""
    _require_share(request)
    _counties, county = _share_county(request)
    code = segno.make(intake.registration_link(request, county=county), error="m")
    buffer = io.BytesIO()
    if fmt == "png":
        code.save(buffer, kind="png", scale=12, border=4)
        content_type = "image/png"
    else:
        code.save(buffer, kind="svg", scale=12, border=4, dark="#182433")
        content_type = "image/svg+xml"
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    name = f"{county.name if county else ''}{_('人才自主登记二维码')}.{fmt}"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


