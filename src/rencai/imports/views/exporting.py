"""Export pages (导出): choose columns and format for the list the user was looking at, then get
the file at once (small exports) or follow a background job to its download link (large ones).

The page receives the list's query string (filters, search, sort) from the list's 「导出」 button
and exports exactly those rows within the user's scope. Full personal values are offered only to
roles that may see them, and need a ticked confirmation; the export is audited either way. A
finished job's file is downloaded by the user who asked for it and nobody else.
"""

from __future__ import annotations

import tempfile

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from rencai.core import jobs as job_service
from rencai.core.models import Job
from rencai.core.models.audit import AuditAction
from rencai.core.models.jobs import JobStatus
from rencai.core.scope import user_can
from rencai.core.views import jobs as job_views
from rencai.imports import exporting
from rencai.imports.jobs_export import EXPORT_JOB

# Parameters of a list URL that say which page it was on, not which rows it shows.
PAGE_PARAMETERS = ("after", "before", "view", "page")


class ExportForm(forms.Form):
    columns = forms.MultipleChoiceField(label=gettext_lazy("导出的列"), widget=forms.CheckboxSelectMultiple)
    format = forms.ChoiceField(label=gettext_lazy("格式"), choices=list(exporting.FORMATS.items()), initial="xlsx",
                               widget=forms.RadioSelect)
    encoding = forms.ChoiceField(
        label=gettext_lazy("CSV 编码"), initial="utf-8", widget=forms.RadioSelect,
        choices=[("utf-8", gettext_lazy("UTF-8（推荐，Excel 可直接打开）")), ("gbk", gettext_lazy("GBK（旧版软件）"))],
    )
    full_personal = forms.BooleanField(label=gettext_lazy("导出完整的身份证号、手机号（不脱敏）"), required=False)
    confirm = forms.BooleanField(
        label=gettext_lazy("我确认因工作需要导出完整个人信息，将妥善保管文件；此次导出记入审计日志。"), required=False,
    )
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=4000)

    def __init__(self, *args, source, user, **kwargs):
        super().__init__(*args, **kwargs)
        visible = source.default_columns(user)
        available = source.columns()
        ordered = [*visible, *[name for name in available if name not in visible]]
        self.fields["columns"].choices = [(name, available[name].label) for name in ordered]
        self.fields["columns"].initial = visible
        self.personal_labels = [c.label for c in available.values() if c.protected]
        if not user.can_view_personal:
            del self.fields["full_personal"]
            del self.fields["confirm"]

    def clean(self):
        data = super().clean()
        if data.get("full_personal") and not data.get("confirm"):
            self.add_error("confirm", _("导出完整个人信息须勾选此项确认。"))
        return data

    def spec(self, source_key: str) -> exporting.ExportSpec:
        data = self.cleaned_data
        return exporting.ExportSpec(
            source=source_key, query=data.get("query") or "", columns=data["columns"], format=data["format"],
            encoding=data.get("encoding") or "utf-8", full_personal=bool(data.get("full_personal")),
            confirmed=bool(data.get("confirm")),
        )


def list_query(query: QueryDict) -> str:
    """The filters, search and sort of a list URL: without its page and without empty fields."""
    kept = QueryDict(mutable=True)
    for name, values in query.lists():
        values = [value for value in values if value.strip()]
        if name not in PAGE_PARAMETERS and values:
            kept.setlist(name, values)
    return kept.urlencode()


def _list_url(source_key: str) -> str:
    return reverse("talent_list") if source_key == "talents" else reverse("home")


@login_required
def export_list(request, source_key: str = "talents"):
    """The export page of a list: GET shows the choices, POST exports (or starts the job)."""
    try:
        source = exporting.get_source(source_key)
    except exporting.ExportError as exc:
        raise Http404 from exc
    if not user_can(request.user, source.model, "view"):
        raise PermissionDenied
    if request.method == "POST":
        form = ExportForm(request.POST, source=source, user=request.user)
        query = request.POST.get("query", "")
    else:
        query = list_query(request.GET)
        form = ExportForm(initial={"query": query}, source=source, user=request.user)
    error = None
    prepared = None
    try:
        prepared = exporting.prepare_export(
            exporting.ExportSpec(source=source_key, query=query, columns=source.default_columns(request.user) or
                                 list(source.columns())[:1]), request.user)
        total = prepared.count()
    except exporting.ExportError as exc:
        error, total = "；".join(exc.messages), None
    if request.method == "POST" and error is None and form.is_valid():
        try:
            prepared = exporting.prepare_export(form.spec(source_key), request.user)
        except exporting.ExportError as exc:
            form.add_error(None, exc)
        else:
            if total <= exporting.DIRECT_EXPORT_ROWS:
                return _direct_response(request, prepared)
            job = job_service.enqueue(EXPORT_JOB, prepared.spec.as_params(), request.user,
                                      _("导出%(what)s（%(rows)d 行）") % {"what": source.title, "rows": total})
            messages.success(request, _("导出数据较多，已转为后台任务；完成后可在本页下载。"))
            return redirect("export_job", pk=job.pk)
    list_url = _list_url(source_key)
    return render(request, "imports/export_form.html", {
        "page_title": _("导出%(what)s") % {"what": source.title},
        "breadcrumbs": [(_("首页"), reverse("home")), (str(source.title), list_url), (_("导出"), None)],
        "form": form, "total": total, "error": error, "source": source,
        "filters": prepared.filters() if prepared is not None and error is None else [],
        "back_url": f"{list_url}?{query}" if query else list_url,
        "direct_limit": exporting.DIRECT_EXPORT_ROWS,
        "can_view_personal": request.user.can_view_personal,
    })


def _direct_response(request, prepared):
    """A small export, written to a temporary file and sent while the user waits."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115  (closed by FileResponse)
    try:
        exporting.run_export(prepared, handle, actor=request.user, via="web")
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    name = exporting.download_name(prepared.source, prepared.spec.extension)
    content_type = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if prepared.spec.format == "xlsx"
        else f"text/csv; charset={'gbk' if prepared.spec.encoding == 'gbk' else 'utf-8'}"
    )
    return FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)


def _own_export_job(request, pk) -> Job:
    """An export job of this user's; anyone else's (or another kind of job) is 404."""
    return get_object_or_404(Job, pk=pk, kind=EXPORT_JOB, created_by=request.user)


def _status_context(request, job: Job) -> dict:
    """Core's job status, pointed at this page's own views (an export job is its owner's alone);
    the download button is the job's result link while the file is kept."""
    result = job.result or {}
    path = exporting.export_dir() / result["_file"] if result.get("_file") else None
    context = job_views.status_context(request, job)
    context.update(status_url=reverse("export_job", kwargs={"pk": job.pk}),
                   cancel_url=reverse("export_cancel", kwargs={"pk": job.pk}))
    if job.status == JobStatus.SUCCEEDED and (path is None or not path.exists()):
        context.update(result_url="", notice=_("导出文件已过期删除，请重新导出。"))
    return context


@login_required
def export_job(request, pk):
    """A large export's progress (polled by htmx), cancel button and, when done, the download."""
    job = _own_export_job(request, pk)
    context = _status_context(request, job)
    if request.htmx:
        return render(request, "core/jobs/_job_status.html", context)
    context.update({
        "page_title": job.title,
        "breadcrumbs": [(_("首页"), reverse("home")), (_("后台任务"), reverse("job_list")), (job.title, None)],
    })
    return render(request, "imports/export_job.html", context)


@login_required
@require_POST
def export_cancel(request, pk):
    job = _own_export_job(request, pk)
    if not job.is_finished:
        job_service.request_cancel(job, request.user)
    if request.htmx:
        return render(request, "core/jobs/_job_status.html", _status_context(request, job))
    return redirect("export_job", pk=job.pk)


@login_required
def export_download(request, pk):
    """The file of a finished export job, for the user who asked for it (the download is
    audited: the export entry says what was written, this one that it left the server)."""
    job = _own_export_job(request, pk)
    exporting.sweep_exports()
    result = job.result or {}
    if job.status != JobStatus.SUCCEEDED or not result.get("_file"):
        raise Http404
    path = exporting.export_dir() / result["_file"]
    if not path.exists():
        messages.error(request, _("导出文件已过期删除（保留 %(hours)d 小时），请重新导出。") % {"hours": exporting.KEEP_HOURS})
        return redirect("export_job", pk=job.pk)
    from rencai.core import audit

    audit.record(AuditAction.EXPORT, obj=job, message=_("下载导出文件：%(title)s") % {"title": job.title},
                 changes={"file": result.get("_download_name", path.name), "download": True})
    return FileResponse(path.open("rb"), as_attachment=True, filename=result.get("_download_name", path.name))
