"""Background jobs of the export part: a large export (导出) written to a file under var/exports.

The job runs as the user who asked for it: scope, masking and the audit entry are worked out
afresh when it runs, from the parameters the export page checked (a role changed since then is
honoured). It is resumable: after a restart it simply writes the file again from the start.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rencai.core.jobs import JobCancelled, JobContext, JobError, register_job
from rencai.imports import exporting

EXPORT_JOB = "imports.export"


@register_job(EXPORT_JOB, title=gettext_lazy("导出数据"), resumable=True)
def export_rows(ctx: JobContext) -> dict:
    exporting.sweep_exports()
    spec = exporting.ExportSpec.from_params(ctx.params)
    try:
        prepared = exporting.prepare_export(spec, ctx.user)
    except exporting.ExportError as exc:
        raise JobError("；".join(exc.messages)) from exc
    except exporting.PermissionDenied as exc:
        raise JobError(str(exc) or _("您没有导出这些数据的权限。")) from exc
    if ctx.user is None:
        raise JobError(_("提交导出的账号已不存在。"))
    ctx.progress(1, _("正在统计行数"))
    total = prepared.count()
    path = exporting.export_path(ctx.job.pk, spec.extension)
    partial = path.with_suffix(path.suffix + ".part")

    def progress(done: int) -> None:
        ctx.progress(min(99, 2 + done * 97 // max(total, 1)),
                     _("已写出 %(done)d / %(total)d 行") % {"done": done, "total": total})

    try:
        rows = exporting.run_export(prepared, partial, actor=ctx.user, via="job", progress=progress,
                                    cancelled=ctx.cancelled)
    except exporting.ExportCancelled as exc:
        exporting.remove_file(partial)
        raise JobCancelled from exc
    except BaseException:
        exporting.remove_file(partial)
        raise
    partial.replace(path)
    summary = _("已导出 %(rows)d 行，可在 %(hours)d 小时内下载。") % {"rows": rows, "hours": exporting.KEEP_HOURS}
    if prepared.reveals_personal:
        summary += _("文件含完整个人信息，请妥善保管。")
    return {
        "summary": summary, _("导出行数"): rows, _("格式"): spec.format,
        _("列"): "、".join(c.label for c in prepared.columns),
        "_file": path.name, "_download_name": exporting.download_name(prepared.source, spec.extension),
        "url": reverse("export_download", args=[ctx.job.pk]), "url_label": _("下载文件"),
    }
