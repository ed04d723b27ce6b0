"""The import API at /api/imports/: upload a file with its options and import it, read a batch,
download its error report, undo it.

``POST /api/imports/`` takes the file (multipart) and the same options as ``rencai import``: the
columns are taken from a saved mapping (``mapping``), given as ``columns`` (JSON ``{"0": "name",
…}``, column numbers from 0) or suggested from the headers when that is unambiguous. When the
background job ``imports.import`` is registered (the wizard's), the batch is queued and answered
with 202; otherwise it runs at once and is answered with 201 (or 422 when nothing was imported,
the row errors in the body). A batch is visible to the user who ran it and to all-region roles;
others get 404.

(No ``from __future__ import annotations``: ninja reads the annotations at import time.)
"""

import json
from typing import Any

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from rencai.api.auth import require_permission
from rencai.api.errors import ApiValidationError
from rencai.core.jobs import enqueue, get_kind
from rencai.imports import mapping as mapping_module
from rencai.imports import pipeline
from rencai.imports.models import ImportBatch, ImportMapping
from rencai.imports.readers import ImportFileError, header_texts, store_upload
from rencai.talents.models import Talent

router = Router(tags=["导入"])

IMPORT_JOB = "imports.import"
SHOWN_ERRORS = 200


class BatchOut(Schema):
    id: int
    status: str
    file_name: str
    sha256: str
    counts: dict[str, int]
    message: str
    errors: list[Any]
    created_at: Any
    finished_at: Any = None
    undone_at: Any = None
    job: str | None = None


def _out(batch: ImportBatch) -> dict:
    return {
        "id": batch.pk, "status": batch.status, "file_name": batch.upload.file_name, "sha256": batch.upload.sha256,
        "counts": batch.counts, "message": batch.message, "errors": batch.errors[:SHOWN_ERRORS],
        "created_at": batch.created_at, "finished_at": batch.finished_at, "undone_at": batch.undone_at,
        "job": str(batch.job_id) if batch.job_id else None,
    }


def _batch(request, batch_id: int) -> ImportBatch:
    user = request.auth_user
    batch = ImportBatch.objects.select_related("upload").filter(pk=batch_id).first()
    if batch is None or not (user.sees_all_regions or batch.user_id == user.pk):
        raise Http404
    return batch


def _json(text: str, name: str) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiValidationError({name: [_("不是有效的 JSON。")]}) from exc
    if not isinstance(value, dict):
        raise ApiValidationError({name: [_("应为 JSON 对象。")]})
    return value


@router.post("/", response={201: BatchOut, 202: BatchOut, 422: BatchOut})
def create_import(
    request,
    file: File[UploadedFile],
    mode: Form[str] = "skip",
    valid_only: Form[bool] = False,
    sheet: Form[str] = "0",
    header_row: Form[int | None] = None,
    mapping: Form[str] = "",
    columns: Form[str] = "",
    fixed: Form[str] = "",
):
    """Upload a file and import it. ``header_row`` counts from 1 (guessed when left out)."""
    user = request.auth_user
    require_permission(request, Talent, "add")
    if mode not in pipeline.MODES:
        raise ApiValidationError({"mode": [_("应为 skip、update 或 fill。")]})
    fixed_values = _json(fixed, "fixed")
    try:
        upload = store_upload(file, user, file.name)
        workbook = upload.open()
        sheet_key = int(sheet) if sheet.isdigit() else sheet
        saved = None
        if mapping:
            saved = ImportMapping.objects.filter(name=mapping).first()
            if saved is None:
                raise ApiValidationError({"mapping": [_("没有名为“%(name)s”的导入模板。") % {"name": mapping}]})
        if header_row is not None:
            row_index = header_row - 1
        elif saved is not None:
            row_index = saved.header_row
        else:
            row_index = workbook.guess_header_row(sheet_key)
        head = workbook.rows(sheet_key, limit=row_index + 1)
        if len(head) <= row_index:
            raise ApiValidationError({"file": [_("工作表是空的。")]})
        headers = header_texts(head[row_index])
        if columns:
            chosen = {int(k): v for k, v in _json(columns, "columns").items() if v}
        elif saved is not None:
            chosen = mapping_module.columns_from_mapping(saved, headers)
            fixed_values = {**(saved.fixed or {}), **fixed_values}
        else:
            if mapping_module.ambiguous(headers):
                raise ApiValidationError({"columns": [_("多列对应同一字段，请用 columns 或 mapping 指定列对应。")]})
            chosen = {i: f for i, f in enumerate(mapping_module.suggest(headers)) if f}
        try:
            options = pipeline.ImportOptions(sheet=sheet_key, header_row=row_index, columns=chosen, mode=mode,
                                             valid_only=valid_only, fixed=fixed_values)
        except ValueError as exc:
            raise ApiValidationError({"columns": [_("含有不能导入的字段：%(error)s") % {"error": exc}]}) from exc
        batch = pipeline.queue_batch(upload, options, user)
        if get_kind(IMPORT_JOB) is not None:
            job = enqueue(IMPORT_JOB, {"batch": batch.pk}, user, _("导入 %(file)s") % {"file": upload.file_name})
            batch.job = job
            batch.save(update_fields=["job", "updated_at"])
            return Status(202, _out(batch))
        try:
            batch = pipeline.run_batch(batch)
        except pipeline.ImportRefused as exc:
            return Status(422, _out(exc.batch))
        return Status(201, _out(batch))
    except ImportFileError as exc:
        raise ApiValidationError({"file": [exc.message]}) from exc


@router.get("/{batch_id}/", response=BatchOut)
def get_import(request, batch_id: int):
    return _out(_batch(request, batch_id))


@router.get("/{batch_id}/report")
def error_report(request, batch_id: int):
    """The rows with errors as .xlsx (original cells, 错误原因, bad cells highlighted)."""
    batch = _batch(request, batch_id)
    response = HttpResponse(
        pipeline.error_report(batch),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.xlsx"'
    return response


@router.post("/{batch_id}/undo", response={200: BatchOut, 409: dict})
def undo_import(request, batch_id: int):
    batch = _batch(request, batch_id)
    require_permission(request, Talent, "delete")
    try:
        pipeline.undo(batch, request.auth_user)
    except pipeline.UndoRefused as exc:
        return Status(409, {"detail": exc.message})
    batch.refresh_from_db()
    return Status(200, _out(batch))
