"""The import job (导入人才): runs ``pipeline.run_import`` with the job's progress and cancel.

An import that imports nothing (all or nothing, and some rows are wrong) ends as a failed job
whose message says why and links to the batch, where the error report is.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rencai.core.jobs import JobCancelled, JobError, register_job
from rencai.imports import pipeline
from rencai.imports.models import ImportBatch, ImportBatchStatus, ImportUpload
from rencai.imports.pipeline import ImportOptions, ImportRefused
from rencai.imports.readers import ImportFileError

PREVIEW_ROWS = 200


@register_job("imports.preview", title=gettext_lazy("检查导入名单"))
def preview_talents(ctx):
    """The preview of a sheet too large to check while the browser waits: counts and the first
    rows are kept in the job's result, which the wizard's preview page shows."""
    upload = ImportUpload.objects.get(pk=ctx.params["upload"])
    options = ImportOptions.from_json(ctx.params["options"])
    found = pipeline.preview(upload, options, ctx.user, limit=PREVIEW_ROWS, progress=ctx.progress,
                             cancelled=ctx.cancelled)
    if found.errors:
        ctx.progress(99, _("正在生成错误报告"))
        preview_report_path(ctx.job.pk).write_bytes(pipeline.error_report(found))
    return {
        "summary": _("检查完成：共 %(total)d 行，其中有错误 %(errors)d 行。") % {
            "total": found.counts.get("total", 0), "errors": found.counts.get("error", 0)},
        "url": reverse("import_preview_result", args=[upload.pk, ctx.job.pk]),
        "url_label": _("查看检查结果"),
        "_preview": preview_state(found),
    }


def preview_report_path(job_id) -> Path:
    """Where a background check keeps its error report (beside the uploads, never in MEDIA)."""
    settings.UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    return settings.UPLOAD_DIR / f"preview-report-{job_id}.xlsx"


def preview_state(found) -> dict:
    """A preview as JSON: what the preview page shows."""
    return {
        "counts": found.counts,
        "rows": [{
            "number": row.number, "status": row.status, "values": {"name": str(row.values.get("name") or "")},
            "errors": {str(column): str(message) for column, message in row.errors.items()},
            "display": {str(label): str(text) for label, text in (row.display or {}).items() if text},
            "match": {"pk": row.match.pk, "name": row.match.name, "region": str(row.match.region)} if row.match else None,
        } for row in found.rows[:PREVIEW_ROWS]],
    }


@register_job("imports.import", title=gettext_lazy("导入人才"))
def import_talents(ctx):
    """Run a queued import batch (``pipeline.queue_batch``, from the wizard or the API)."""
    batch = ImportBatch.objects.select_related("upload", "user").get(pk=ctx.params["batch"])
    try:
        batch = pipeline.run_batch(batch, ctx.progress, ctx.cancelled)
    except ImportRefused as exc:
        if exc.batch.status == ImportBatchStatus.CANCELLED:
            raise JobCancelled from exc
        raise JobError(exc.message, {
            "url": reverse("import_batch_detail", args=[exc.batch.pk]), "url_label": _("查看错误报告"),
        }) from exc
    except ImportFileError as exc:
        raise JobError(exc.message) from exc
    counts = batch.counts or {}
    return {
        "summary": _("导入完成：新增 %(created)d 人，更新 %(updated)d 人，跳过 %(skipped)d 行，出错 %(errors)d 行。") % {
            "created": counts.get("created", 0), "updated": counts.get("updated", 0),
            "skipped": counts.get("skipped", 0), "errors": counts.get("errors", 0),
        },
        "url": reverse("import_batch_detail", args=[batch.pk]),
        "url_label": _("查看导入批次"),
    }
