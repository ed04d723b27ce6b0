"""The import job (导入人才): runs ``pipeline.run_import`` with the job's progress and cancel.

An import that imports nothing (all or nothing, and some rows are wrong) ends as a failed job
whose message says why and links to the batch, where the error report is.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rencai.core.jobs import JobCancelled, JobError, register_job
from rencai.imports import pipeline
from rencai.imports.models import ImportBatchStatus, ImportUpload
from rencai.imports.pipeline import ImportOptions, ImportRefused


@register_job("imports.talents", title=gettext_lazy("导入人才"))
def import_talents(ctx):
    upload = ImportUpload.objects.get(pk=ctx.params["upload"])
    options = ImportOptions.from_json(ctx.params["options"])
    try:
        batch = pipeline.run_import(upload, options, ctx.user, progress=ctx.progress, cancelled=ctx.cancelled)
    except ImportRefused as exc:
        if exc.batch.status == ImportBatchStatus.CANCELLED:
            raise JobCancelled from exc
        raise JobError(exc.message, {
            "url": reverse("import_batch_detail", args=[exc.batch.pk]), "url_label": _("查看错误报告"),
        }) from exc
    counts = batch.counts or {}
    return {
        "summary": _("导入完成：新增 %(created)d 人，更新 %(updated)d 人，跳过 %(skipped)d 行，出错 %(errors)d 行。") % {
            "created": counts.get("created", 0), "updated": counts.get("updated", 0),
            "skipped": counts.get("skipped", 0), "errors": counts.get("errors", 0),
        },
        "url": reverse("import_batch_detail", args=[batch.pk]),
        "url_label": _("查看导入批次"),
    }
