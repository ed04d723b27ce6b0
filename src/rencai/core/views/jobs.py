"""Background job pages: the list, one job with live progress, submit and cancel.

Everyone sees the jobs they submitted; roles with 「查看后台任务」 over all regions see everyone's.
The detail page polls its status fragment once a second through htmx while the job is queued or
running; the finished fragment carries no trigger, so polling stops by itself.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rencai.core import jobs as service
from rencai.core.models.jobs import JobStatus

PAGE_SIZE = 50
STATUS_BADGES = {
    JobStatus.QUEUED: "bg-secondary-lt",
    JobStatus.RUNNING: "bg-blue-lt",
    JobStatus.SUCCEEDED: "bg-green-lt",
    JobStatus.FAILED: "bg-red-lt",
    JobStatus.CANCELLED: "bg-yellow-lt",
}


def _sees_everyone(user) -> bool:
    return user.has_perm("core.view_job") and user.sees_all_regions


def _local_url(url) -> str:
    """``url`` when it is a path on this site, else "" (a job's result never links elsewhere)."""
    url = str(url or "")
    return url if url.startswith("/") and not url.startswith(("//", "/\\")) else ""


def status_context(request, job) -> dict:
    """What ``core/jobs/_job_status.html`` shows of ``job``; a page of an area's own (an export's)
    replaces ``status_url`` / ``cancel_url`` with its own views and may add a ``notice``."""
    result = job.result or {}
    if job.status == JobStatus.RUNNING:
        # A job inside one long transaction reports through its side file (see core.jobs).
        reported = service.read_side_file(job.pk)
        if reported.get("progress", -1) >= job.progress:
            job.progress, job.message = reported["progress"], reported.get("message", job.message)
    return {
        "job": job,
        "badge": STATUS_BADGES.get(job.status, "bg-secondary-lt"),
        "can_cancel": service.can_cancel(request.user, job),
        "summary": result.get("summary", ""),
        # A job may point to what it made (an import batch, an export file): "url" and "url_label".
        "result_url": _local_url(result.get("url")),
        "result_url_label": result.get("url_label") or _("查看结果"),
        # Keys starting with "_" are the job's own bookkeeping (a file name, a preview), not for people.
        "result_rows": [(key, value) for key, value in result.items()
                        if key not in ("summary", "url", "url_label") and not key.startswith("_")],
        "status_url": reverse("job_detail", args=[job.pk]),
        "cancel_url": reverse("job_cancel", args=[job.pk]),
    }


@login_required
def job_list(request):
    queryset = service.visible_jobs(request.user)
    status = request.GET.get("status", "")
    if status in JobStatus.values:
        queryset = queryset.filter(status=status)
    page = Paginator(queryset.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/jobs/job_list.html", {
        "page_title": _("后台任务"),
        "page": page,
        "rows": [(job, STATUS_BADGES.get(job.status, "")) for job in page],
        "status": status,
        "statuses": JobStatus.choices,
        "sees_everyone": _sees_everyone(request.user),
        "submittable": service.submittable_kinds(request.user),
    })


@login_required
def job_detail(request, pk):
    job = get_object_or_404(service.visible_jobs(request.user), pk=pk)
    context = status_context(request, job)
    if request.htmx:
        return render(request, "core/jobs/_job_status.html", context)
    context.update({
        "page_title": job.title,
        "breadcrumbs": [(_("后台任务"), reverse("job_list")), (job.title, "")],
        "sees_everyone": _sees_everyone(request.user),
    })
    return render(request, "core/jobs/job_detail.html", context)


@login_required
@require_POST
def job_submit(request):
    spec = service.get_kind(request.POST.get("kind", ""))
    if spec is None or not spec.may_submit(request.user):
        raise PermissionDenied
    job = service.enqueue(spec.kind, {}, request.user)
    messages.success(request, _("已提交后台任务「%(title)s」。") % {"title": job.title})
    return redirect("job_detail", pk=job.pk)


@login_required
@require_POST
def job_cancel(request, pk):
    job = get_object_or_404(service.visible_jobs(request.user), pk=pk)
    if not job.is_finished:
        if not service.can_cancel(request.user, job):
            raise PermissionDenied
        service.request_cancel(job, request.user)
    if request.htmx:
        return render(request, "core/jobs/_job_status.html", status_context(request, job))
    return redirect("job_detail", pk=job.pk)


urlpatterns = [
    path("jobs/", job_list, name="job_list"),
    path("jobs/submit/", job_submit, name="job_submit"),
    path("jobs/<uuid:pk>/", job_detail, name="job_detail"),
    path("jobs/<uuid:pk>/cancel/", job_cancel, name="job_cancel"),
]
