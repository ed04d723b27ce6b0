"""The import wizard (导入人才): upload, sheet and columns, preview, import as a background job,
and the batches with their error reports and undo.

Steps, each a page:

1. ``import_start``: upload a file (it is stored, checked and given an id), or download the
   blank template; recent batches below.
2. ``import_configure``: choose the sheet and header row (the first rows are shown, the header
   highlighted), map each column to a field (suggested from the header's synonyms, or from a
   saved mapping template), give values for the whole file, choose the match mode.
3. The same URL, posted: the preview, a status per row (new, update, possible duplicate,
   error) with counts, the error report, and 开始导入.
4. ``import_commit``: queues the import job and shows its progress (the job page: progress bar
   and cancel); when done the job links to the batch.

The options travel from step to step in the form (a JSON field checked again on every post),
so nothing is half-kept on the server; an upload belongs to its uploader alone.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rencai.core import jobs
from rencai.imports import mapping, pipeline, readers
from rencai.imports.forms import MODES, ImportSettingsForm, UploadForm, options_initial
from rencai.imports.jobs_import import preview_report_path, preview_state
from rencai.imports.models import ImportBatch, ImportMapping, ImportUpload
from rencai.imports.pipeline import ImportOptions

IMPORT_PERMISSION = "talents.add_talent"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SAMPLE_ROWS = 8
PREVIEW_ROWS = 200
# A sheet with more data rows than this is checked in a background job (with a progress bar)
# rather than while the browser waits.
PREVIEW_IN_REQUEST_ROWS = 20_000
JOB_KIND = "imports.import"


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def visible_batches(user):
    """Import batches ``user`` may see: their own; everyone's for a city-wide role."""
    batches = ImportBatch.objects.select_related("upload", "user", "job").order_by("-created_at", "-pk")
    return batches if user.sees_all_regions else batches.filter(user=user)


def _upload(request, pk) -> ImportUpload:
    return get_object_or_404(ImportUpload.objects.filter(uploaded_by=request.user), pk=pk)


# --- step 1 --------------------------------------------------------------------------------------------
@login_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def import_start(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            upload = readers.store_upload(form.cleaned_data["file"], request.user)
        except readers.ImportFileError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("import_configure", pk=upload.pk)
    return render(request, "imports/import_start.html", {
        "page_title": _("导入人才"),
        "form": form,
        "batches": visible_batches(request.user)[:10],
        "mappings": ImportMapping.objects.order_by("name")[:20],
    })


@login_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def import_template(request):
    return _xlsx(pipeline.template_workbook(), "人才信息导入模板.xlsx")


# --- steps 2 and 3 ----------------------------------------------------------------------------------------
def _sheet_state(request, upload: ImportUpload, data) -> dict:
    """The sheet, header row, headers and sample rows the settings form is built on."""
    names = upload.sample(0)["sheet_names"]
    try:
        sheet = min(max(int(data.get("sheet", 0)), 0), len(names) - 1)
    except (TypeError, ValueError):
        sheet = 0
    found = upload.sample(sheet)
    sample = found["rows"]
    if data.get("header_row"):
        try:
            header_row = max(int(data["header_row"]) - 1, 0)
        except (TypeError, ValueError):
            header_row = readers.guess_header_row(sample)
    else:
        header_row = readers.guess_header_row(sample)
    headers = [_text(cell) for cell in sample[header_row]] if header_row < len(sample) else []
    return {
        "sheet_names": names, "sheet": sheet, "header_row": header_row, "headers": headers,
        "row_count": found["row_count"],
        "sample": [(number + 1, [_text(cell) for cell in row]) for number, row in
                   enumerate(sample[: header_row + 1 + SAMPLE_ROWS])],
    }


def _text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _suggested(headers: list[str], saved: ImportMapping | None) -> list[str | None]:
    if saved is None:
        return mapping.suggest(headers)
    return [saved.columns.get(header) if saved.columns.get(header) in mapping.FIELDS else None for header in headers]


@login_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def import_configure(request, pk):
    upload = _upload(request, pk)
    data = request.POST if request.method == "POST" else request.GET
    try:
        state = _sheet_state(request, upload, data)
    except readers.ImportFileError as exc:
        messages.error(request, exc.message)
        return redirect("import_start")
    saved = ImportMapping.objects.filter(pk=data.get("mapping")).first() if data.get("mapping", "").isdigit() else None
    suggested = _suggested(state["headers"], saved)
    initial = {"sheet": str(state["sheet"]), "header_row": state["header_row"] + 1, "mode": "skip"}
    if saved is not None:
        initial.update({f"fixed_{field}": value for field, value in (saved.fixed or {}).items()})
        initial["source"] = saved.source
    if data.get("options"):
        options = _options_from(data.get("options"))
        if options is not None:
            initial.update(options_initial(options))
    bound = request.method == "POST" and "preview" in request.POST
    form = ImportSettingsForm(
        request.POST if bound else None, initial=initial, user=request.user, sheet_names=state["sheet_names"],
        headers=state["headers"], suggested=suggested,
    )
    context = {
        "page_title": _("导入人才：设置"),
        "breadcrumbs": [(_("导入人才"), reverse("import_start")), (upload.file_name, "")],
        "upload": upload, "form": form, **state,
        "mappings": ImportMapping.objects.order_by("name"), "saved": saved,
        "fields": mapping.FIELDS,
    }
    if bound and form.is_valid():
        options = form.options()
        name = (form.cleaned_data.get("save_as") or "").strip()
        if name:
            _save_mapping(name, form.cleaned_data.get("source") or "", state["headers"], options, request.user)
            messages.success(request, _("已保存映射模板“%(name)s”。") % {"name": name})
        if state["row_count"] - options.header_row - 1 > PREVIEW_IN_REQUEST_ROWS:
            job = jobs.enqueue("imports.preview", {"upload": upload.pk, "options": options.to_json()}, request.user,
                               _("检查 %(file)s") % {"file": upload.file_name})
            return redirect("job_detail", pk=job.pk)
        return _preview(request, upload, options)
    template = "imports/_import_settings.html" if request.htmx else "imports/import_configure.html"
    return render(request, template, context)


def _save_mapping(name: str, source: str, headers: list[str], options: ImportOptions, user) -> None:
    columns = {headers[index]: field for index, field in options.columns.items() if index < len(headers) and headers[index]}
    ImportMapping.objects.update_or_create(
        name=name,
        defaults={"source": source, "columns": columns, "fixed": options.fixed, "header_row": options.header_row},
    )


def _options_from(raw) -> ImportOptions | None:
    try:
        return ImportOptions.from_json(json.loads(raw))
    except (TypeError, ValueError, KeyError, ValidationError):
        return None


def _preview(request, upload: ImportUpload, options: ImportOptions):
    try:
        found = pipeline.preview(upload, options, request.user, limit=PREVIEW_ROWS)
    except readers.ImportFileError as exc:
        messages.error(request, exc.message)
        return redirect("import_configure", pk=upload.pk)
    return _render_preview(request, upload, options, preview_state(found), report_url="")


def _render_preview(request, upload: ImportUpload, options: ImportOptions, state: dict, *, report_url: str):
    """The preview page; ``report_url`` is the ready error report of a background check (a
    preview made while the browser waited posts its options to build the report instead)."""
    return render(request, "imports/import_preview.html", {
        "page_title": _("导入人才：预览"),
        "breadcrumbs": [(_("导入人才"), reverse("import_start")), (upload.file_name, "")],
        "upload": upload, "preview": state, "options": options,
        "options_json": json.dumps(options.to_json(), ensure_ascii=False),
        "mode_label": dict(MODES).get(options.mode, options.mode),
        "statuses": _status_rows(state["counts"]),
        "shown": len(state["rows"]),
        "report_url": report_url,
    })


@login_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def import_preview_result(request, pk, job):
    """The preview a background check made of a large sheet (see ``jobs_import.preview_talents``)."""
    upload = _upload(request, pk)
    found = get_object_or_404(jobs.visible_jobs(request.user).filter(kind="imports.preview", created_by=request.user),
                              pk=job)
    if found.params.get("upload") != upload.pk or "_preview" not in (found.result or {}):
        raise Http404
    options = ImportOptions.from_json(found.params["options"])
    if request.GET.get("report"):
        path = preview_report_path(found.pk)
        if not path.exists():
            raise Http404
        return _xlsx(path.read_bytes(), f"错误报告-{upload.file_name.rsplit('.', 1)[0]}.xlsx")
    return _render_preview(request, upload, options, found.result["_preview"],
                           report_url=f"{request.path}?report=1" if preview_report_path(found.pk).exists() else "")


STATUS_LABELS = {
    "new": (_("新增"), "bg-green-lt"), "update": (_("更新已有"), "bg-blue-lt"),
    "duplicate": (_("可能重复"), "bg-yellow-lt"), "skip": (_("跳过"), "bg-secondary-lt"),
    "error": (_("有错误"), "bg-red-lt"),
}


def _status_rows(counts: dict) -> list[tuple[str, str, str, int]]:
    return [(key, str(label), badge, counts.get(key, 0)) for key, (label, badge) in STATUS_LABELS.items()]


@login_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
@require_POST
def import_preview_report(request, pk):
    """The error report of a preview: every row with an error, before anything is imported."""
    upload = _upload(request, pk)
    options = _options_from(request.POST.get("options"))
    if options is None:
        return redirect("import_configure", pk=upload.pk)
    preview = pipeline.preview(upload, options, request.user, limit=0)
    return _xlsx(pipeline.error_report(preview), f"错误报告-{upload.file_name.rsplit('.', 1)[0]}.xlsx")


# --- step 4 --------------------------------------------------------------------------------------------
@login_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
@require_POST
def import_commit(request, pk):
    upload = _upload(request, pk)
    options = _options_from(request.POST.get("options"))
    if options is None:
        messages.error(request, _("导入设置无效，请重新设置。"))
        return redirect("import_configure", pk=upload.pk)
    batch = pipeline.queue_batch(upload, options, request.user)
    job = jobs.enqueue(JOB_KIND, {"batch": batch.pk}, request.user, _("导入 %(file)s") % {"file": upload.file_name})
    ImportBatch.objects.filter(pk=batch.pk).update(job=job)
    return redirect("job_detail", pk=job.pk)


# --- batches ---------------------------------------------------------------------------------------------
@login_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def batch_list(request):
    return render(request, "imports/batch_list.html", {
        "page_title": _("导入批次"),
        "breadcrumbs": [(_("导入人才"), reverse("import_start")), (_("导入批次"), "")],
        "batches": visible_batches(request.user)[:200],
    })


@login_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def batch_detail(request, pk):
    batch = get_object_or_404(visible_batches(request.user), pk=pk)
    return render(request, "imports/batch_detail.html", {
        "page_title": _("导入批次：%(file)s") % {"file": batch.upload.file_name},
        "breadcrumbs": [(_("导入人才"), reverse("import_start")), (_("导入批次"), reverse("import_batch_list")),
                        (batch.upload.file_name, "")],
        "batch": batch, "counts": batch.counts or {},
        "can_undo": batch.user_id == request.user.pk or request.user.sees_all_regions,
    })


@login_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def batch_report(request, pk):
    batch = get_object_or_404(visible_batches(request.user), pk=pk)
    return _xlsx(pipeline.error_report(batch), f"错误报告-{batch.upload.file_name.rsplit('.', 1)[0]}.xlsx")


@login_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
@require_POST
def batch_undo(request, pk):
    batch = get_object_or_404(visible_batches(request.user), pk=pk)
    if not (batch.user_id == request.user.pk or request.user.sees_all_regions):
        raise PermissionDenied
    try:
        pipeline.undo(batch, request.user)
    except pipeline.UndoRefused as exc:
        messages.error(request, exc.message if hasattr(exc, "message") else str(exc))
    else:
        messages.success(request, _("已撤销该批次的导入。"))
    return redirect("import_batch_detail", pk=batch.pk)
