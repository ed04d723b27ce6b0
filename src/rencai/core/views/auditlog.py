"""The audit log pages (审计管理员 only): list with filters, one entry, CSV export, chain check.

Paging is by key (``before``/``after`` an entry id), newest first: the log only grows, and the
thousandth page costs what the first does.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.core import audit
from rencai.core.auth.filters import AuditEntryFilterSet, object_type_names
from rencai.core.models import AuditEntry
from rencai.core.services import auditlog as service
from rencai.core.views.accounts import permission_required

PAGE_SIZE = 50


def _cursor(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _filtered(request) -> AuditEntryFilterSet:
    params = request.GET.copy()
    for key in ("before", "after"):
        params.pop(key, None)
    return AuditEntryFilterSet(params or None, queryset=AuditEntry.objects.all())


def _page(queryset, before: int | None, after: int | None) -> tuple[list[AuditEntry], bool, bool]:
    """One page newest first, and whether there are newer and older entries beyond it."""
    if after is not None:
        rows = list(queryset.filter(id__gt=after).order_by("id")[: PAGE_SIZE + 1])
        has_newer = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE][::-1]
        has_older = bool(rows) and queryset.filter(id__lt=rows[-1].id).exists()
        return rows, has_newer, has_older
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    rows = list(queryset.order_by("-id")[: PAGE_SIZE + 1])
    has_older = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    has_newer = before is not None and bool(rows)
    return rows, has_newer, has_older


@permission_required("core.view_auditentry")
def auditentry_list(request):
    filterset = _filtered(request)
    queryset = filterset.qs if filterset.is_bound else filterset.queryset
    rows, has_newer, has_older = _page(queryset, _cursor(request.GET.get("before")), _cursor(request.GET.get("after")))
    query = filterset.data.urlencode() if filterset.is_bound else ""
    names = object_type_names()
    for entry in rows:
        entry.type_name = names.get(entry.object_type, entry.object_type)
    oldest = AuditEntry.objects.order_by("id").values_list("created_at", flat=True).first()
    return render(request, "core/audit/auditentry_list.html", {
        "page_title": _("审计日志"), "filterset": filterset, "entries": rows, "query": query,
        "newer": rows[0].id if has_newer and rows else None, "older": rows[-1].id if has_older and rows else None,
        "can_export": request.user.has_perm("core.export_auditentry"),
        "retention_days": settings.AUDIT_RETENTION_DAYS, "oldest": oldest,
    })


@permission_required("core.view_auditentry")
def auditentry_detail(request, pk: int):
    entry = get_object_or_404(AuditEntry, pk=pk)
    entry.type_name = object_type_names().get(entry.object_type, entry.object_type)
    return render(request, "core/audit/auditentry_detail.html", {
        "page_title": _("审计日志 #%(id)s") % {"id": entry.pk}, "entry": entry, "changes": service.change_rows(entry),
        "previous": AuditEntry.objects.filter(id__lt=entry.id).order_by("-id").values_list("id", flat=True).first(),
        "next": AuditEntry.objects.filter(id__gt=entry.id).order_by("id").values_list("id", flat=True).first(),
    })


@permission_required("core.export_auditentry")
def auditentry_export(request):
    filterset = _filtered(request)
    if filterset.is_bound and not filterset.is_valid():
        messages.error(request, _("筛选条件有误，请修改后再导出。"))
        return redirect(f"{reverse('auditentry_list')}?{request.GET.urlencode()}")
    queryset = filterset.qs if filterset.is_bound else filterset.queryset
    queryset, count = service.freeze(queryset)
    service.record_export(count, filterset.describe(), destination="网页下载")
    filename = f"audit-{timezone.localtime():%Y%m%d-%H%M%S}.csv"
    response = StreamingHttpResponse(service.stream_csv(service.export_rows(queryset)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@permission_required("core.view_auditentry")
def auditentry_verify(request):
    result = audit.verify()
    return render(request, "core/audit/auditentry_verify.html", {
        "page_title": _("审计日志完整性校验"), "result": result, "checked_at": timezone.now(),
    })


urlpatterns = [
    path("audit/", auditentry_list, name="auditentry_list"),
    path("audit/export/", auditentry_export, name="auditentry_export"),
    path("audit/verify/", auditentry_verify, name="auditentry_verify"),
    path("audit/<int:pk>/", auditentry_detail, name="auditentry_detail"),
]
