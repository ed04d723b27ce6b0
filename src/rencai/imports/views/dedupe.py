"""The duplicate review queue (疑似重复): pairs ranked by score, one pair side by side with the
evidence per field, merge (合并) with a choice per field, 「不是同一人」, and the merges with undo.

Scope: a pair is shown only when both of its records are in the user's scope (restrict on the
pair follows its left record; the right one is narrowed through ``Talent.objects.restrict``), so
a county officer never sees another county's person through a pair. Out of scope is 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rencai.core import jobs
from rencai.core.fields import ProtectedField
from rencai.core.scope import user_can
from rencai.core.views.generic import display_value
from rencai.imports.dedupe import merge as merging
from rencai.imports.dedupe import scoring
from rencai.imports.jobs_dedupe import may_run_dedupe
from rencai.imports.models import DuplicatePair, DuplicateStatus, Merge
from rencai.talents.models import Talent

PAGE_SIZE = 50
LEFT, RIGHT = "left", "right"


def visible_pairs(user, action: str = "view"):
    """Pairs whose two records ``user`` may ``action``."""
    pairs = DuplicatePair.objects.restrict(user, action)
    if not user_can(user, Talent, action):
        return pairs.none()
    if user.sees_all_regions:
        return pairs
    return pairs.filter(right__in=Talent.objects.restrict(user, action).values("pk"))


def may_merge(user) -> bool:
    return user_can(user, Talent, "change") and user_can(user, Talent, "delete")


@login_required
def duplicate_list(request):
    if not user_can(request.user, DuplicatePair, "view"):
        raise PermissionDenied
    status = request.GET.get("status") or DuplicateStatus.PENDING
    if status not in DuplicateStatus.values:
        status = DuplicateStatus.PENDING
    queryset = visible_pairs(request.user).filter(status=status).select_related(
        "left", "right", "left__region", "right__region"
    ).order_by("-score", "pk")
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "imports/dedupe_list.html", {
        "page_title": _("疑似重复"),
        "page": page,
        "status": status,
        "statuses": DuplicateStatus.choices,
        "may_run": may_run_dedupe(request.user),
        "may_merge": may_merge(request.user),
        "default_threshold": scoring.DEFAULT_THRESHOLD,
    })


def _reveal_url(talent: Talent, name: str) -> str | None:
    try:
        return reverse("talent_reveal", kwargs={"pk": talent.pk, "field": name})
    except NoReverseMatch:
        return None


def comparison_rows(pair: DuplicatePair, user) -> list[dict]:
    """One row per mergeable field: both values as the office reads them (personal data masked,
    with 显示完整 for roles that may see it, which is audited), the evidence where the scorer
    compared the field, and which side the merge keeps by default."""
    left, right = pair.left, pair.right
    defaults = merging.default_choices(left, right)
    evidence_of = {
        "name": "name", "gender": "gender", "birth_date": "birth_date", "id_card": "id_card", "mobile": "mobile",
        "email": "email", "native_place": "native_place", "work_unit": "work_unit",
    }
    evidence = pair.evidence or {}
    rows = []
    for field in merging.merge_fields():
        left_raw, right_raw = getattr(left, field.attname), getattr(right, field.attname)
        found = evidence.get(evidence_of.get(field.name, ""), {})
        row = {
            "name": field.name,
            "label": field.verbose_name,
            "left": display_value(left, field, getattr(left, field.name), html=False),
            "right": display_value(right, field, getattr(right, field.name), html=False),
            "same": left_raw == right_raw,
            "empty": left_raw in (None, "") and right_raw in (None, ""),
            "choice": RIGHT if defaults.get(field.name) == merging.MERGED else LEFT,
            "evidence": found.get("label", ""),
            "weight": found.get("weight"),
            "protected": isinstance(field, ProtectedField),
        }
        if row["protected"] and user.can_view_personal:
            row["left_reveal"] = _reveal_url(left, field.name) if left_raw else None
            row["right_reveal"] = _reveal_url(right, field.name) if right_raw else None
        rows.append(row)
    return rows


def _related_counts(talent: Talent) -> list[tuple[str, int]]:
    counts = []
    for _label, model, fk, _other, name in merging.relations():
        count = model._base_manager.filter(**{fk: talent.pk}).count()
        if count:
            counts.append((name, count))
    return counts


def _detail_context(request, pair: DuplicatePair, **extra) -> dict:
    rows = comparison_rows(pair, request.user)
    return {
        "page_title": _("疑似重复：%(left)s / %(right)s") % {"left": pair.left.name, "right": pair.right.name},
        "breadcrumbs": [(_("疑似重复"), reverse("duplicate_list")), (pair.left.name, "")],
        "pair": pair,
        "rows": [row for row in rows if not row["empty"]],
        "left_related": _related_counts(pair.left),
        "right_related": _related_counts(pair.right),
        "may_merge": may_merge(request.user) and pair.status == DuplicateStatus.PENDING,
        "left_version": extra.pop("left_version", pair.left.version),
        "right_version": extra.pop("right_version", pair.right.version),
        **extra,
    }


@login_required
def duplicate_detail(request, pk):
    pair = get_object_or_404(visible_pairs(request.user).select_related("left", "right", "left__region",
                                                                         "right__region"), pk=pk)
    return render(request, "imports/dedupe_detail.html", _detail_context(request, pair))


def _version(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_POST
def duplicate_merge(request, pk):
    if not may_merge(request.user):
        raise PermissionDenied
    pair = get_object_or_404(visible_pairs(request.user, "change").select_related("left", "right"), pk=pk)
    survivor_side = RIGHT if request.POST.get("survivor") == RIGHT else LEFT
    left_version, right_version = _version(request.POST.get("left_version")), _version(request.POST.get("right_version"))
    if left_version is None or right_version is None:
        return HttpResponse(_("请求缺少记录版本，请刷新页面后重试。"), status=400)
    survivor, merged = (pair.left, pair.right) if survivor_side == LEFT else (pair.right, pair.left)
    survivor_version, merged_version = (left_version, right_version) if survivor_side == LEFT \
        else (right_version, left_version)
    choices = {}
    for field in merging.merge_fields():
        side = request.POST.get(f"field_{field.name}")
        if side in (LEFT, RIGHT):
            choices[field.name] = merging.SURVIVOR if side == survivor_side else merging.MERGED
    try:
        result = merging.merge_talents(survivor, merged, user=request.user, choices=choices,
                                       survivor_version=survivor_version, merged_version=merged_version)
    except ValidationError as exc:
        pair.left.refresh_from_db()
        pair.right.refresh_from_db()
        context = _detail_context(request, pair, error="；".join(exc.messages),
                                  left_version=left_version, right_version=right_version)
        return render(request, "imports/dedupe_detail.html", context, status=409)
    messages.success(request, _("已将“%(merged)s”合并到“%(survivor)s”。如有误，可在合并记录中撤销。") % {
        "merged": result.merged_name, "survivor": result.survivor.name})
    return redirect("talent_detail", pk=survivor.pk)


@login_required
@require_POST
def duplicate_distinct(request, pk):
    if not may_merge(request.user):
        raise PermissionDenied
    pair = get_object_or_404(visible_pairs(request.user, "change").select_related("left", "right"), pk=pk)
    merging.decide_distinct(pair, user=request.user)
    if request.htmx:
        return HttpResponse(format_html('<tr class="text-secondary" data-decided="distinct"><td colspan="6">{}</td></tr>',
                                        _("已判定不是同一人，以后不再提示。")))
    messages.success(request, _("已判定“%(left)s”与“%(right)s”不是同一人，以后不再提示。") % {
        "left": pair.left.name, "right": pair.right.name})
    return redirect("duplicate_list")


@login_required
@require_POST
def duplicate_run(request):
    if not may_run_dedupe(request.user):
        raise PermissionDenied
    try:
        threshold = float(request.POST.get("threshold") or scoring.DEFAULT_THRESHOLD)
    except ValueError:
        threshold = -1
    if not 0 < threshold < 1:
        messages.error(request, _("阈值应为 0 与 1 之间的小数，如 0.5。"))
        return redirect("duplicate_list")
    job = jobs.enqueue("imports.dedupe", {"threshold": threshold}, request.user)
    messages.success(request, _("已提交后台任务「%(title)s」。") % {"title": job.title})
    return redirect("job_detail", pk=job.pk)


@login_required
def merge_list(request):
    if not user_can(request.user, Merge, "view"):
        raise PermissionDenied
    queryset = Merge.objects.restrict(request.user).select_related("survivor", "survivor__region", "created_by")
    page = Paginator(queryset.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "imports/dedupe_merges.html", {
        "page_title": _("合并记录"),
        "breadcrumbs": [(_("疑似重复"), reverse("duplicate_list")), (_("合并记录"), "")],
        "page": page,
        "may_undo": may_merge(request.user),
    })


@login_required
@require_POST
def merge_undo(request, pk):
    if not may_merge(request.user):
        raise PermissionDenied
    result = get_object_or_404(Merge.objects.restrict(request.user, "change"), pk=pk)
    try:
        restored = merging.undo_merge(result, user=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("merge_list")
    messages.success(request, _("已撤销合并，恢复了“%(name)s”。") % {"name": restored.name})
    return redirect("merge_list")
