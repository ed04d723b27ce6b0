"""Background jobs (后台任务): the registry of kinds, enqueueing, and the worker that runs them.

An area registers the work it can do in the background in its own ``jobs.py`` (found by
autodiscovery, like ``admin.py``)::

    from rencai.core.jobs import JobError, register_job

    @register_job("imports.talents", title=_("导入人才"), resumable=False)
    def import_talents(ctx):
        for number, row in enumerate(rows, 1):
            if ctx.cancelled():
                return {"summary": f"已导入 {number - 1} 行后取消"}
            ...
            ctx.progress(number * 100 // len(rows), f"第 {number} 行")
        return {"summary": "导入完成", "created": created, "url": "/imports/batches/7/", "url_label": "查看批次"}

and a service starts it with ``enqueue("imports.talents", {"upload": 7}, user, "导入 人才.xlsx")``.

The database is the queue: a worker claims a queued row with one conditional UPDATE, so two
workers never run the same job, and beats a heartbeat while the job runs. A job whose worker
vanished (a restart, a crash) shows a stale heartbeat; workers look for such jobs when they start
and every half minute, and put them back in the queue when their kind is ``resumable`` (safe to
run again from the start) or else mark them failed with the reason. With ``JOB_QUEUE_URL`` set to
a Redis server, enqueueing also pushes the job id to a Redis list that idle workers block on, so
they start at once instead of at their next poll; the database stays the truth (a lost push only
delays a job until the next sweep).

A job should not hold one transaction open across its progress reports: they would not be
visible until it commits, and on SQLite the heartbeat would wait for the write lock.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, OperationalError, close_old_connections, connections, router, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from rencai.core import audit
from rencai.core.models import Job
from rencai.core.models.accounts import AdminDuty
from rencai.core.models.audit import AuditAction, AuditEntry
from rencai.core.models.jobs import JobStatus

logger = logging.getLogger("rencai.jobs")

POLL_SECONDS = 1.0  # an idle worker looks for work this often (or blocks this long on Redis)
RECOVER_EVERY_SECONDS = 30.0
INTERRUPTED = gettext_noop("服务重启时任务被中断")
GENERIC_FAILURE = gettext_noop("任务执行出错（%(name)s），详细信息已记入系统日志。")


class JobError(Exception):
    """A failure whose message is meant for the user (and carries no personal data).

    ``result`` is kept with the failed job like a finished job's result (say, the link to an
    import's error report)."""

    def __init__(self, message: str, result: dict | None = None):
        super().__init__(message)
        self.result = result or {}


class JobCancelled(Exception):
    """Raised inside a job (or by ``ctx.check_cancelled()``) to stop at a user's request."""


# --- the registry ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class JobKind:
    kind: str
    func: Callable[[JobContext], Any]
    resumable: bool
    title: str
    # Who may start it from the job list, with no parameters; None: only code enqueues it.
    allowed: Callable[[Any], bool] | None = None

    def may_submit(self, user) -> bool:
        return bool(self.allowed and user.is_authenticated and self.allowed(user))


_registry: dict[str, JobKind] = {}
_discovered = False


def register_job(kind: str, *, resumable: bool = False, title: str = "", allowed: Callable | None = None):
    """Register ``func(ctx)`` as the job ``kind`` (``"<app>.<name>"``).

    ``resumable``: the job may simply run again after a restart cut it off (it is idempotent, or
    picks up from what it already wrote); otherwise such a job is marked failed. ``allowed(user)``
    offers the job on the job list to the users it accepts.
    """

    def decorator(func):
        existing = _registry.get(kind)
        if existing is not None and existing.func.__qualname__ != func.__qualname__:
            raise ImproperlyConfigured(f"job kind {kind!r} is registered twice")
        _registry[kind] = JobKind(kind, func, resumable, title or kind, allowed)
        return func

    return decorator


def job_kinds() -> dict[str, JobKind]:
    """Every registered kind, after importing each installed app's ``jobs`` module once."""
    global _discovered
    if not _discovered:
        autodiscover_modules("jobs")
        _discovered = True
    return dict(_registry)


def get_kind(kind: str) -> JobKind | None:
    return job_kinds().get(kind)


def submittable_kinds(user) -> list[JobKind]:
    return [spec for spec in job_kinds().values() if spec.may_submit(user)]


# --- the context a job runs with ----------------------------------------------------------------------
class JobContext:
    """What a job function receives: its parameters and user, progress reports, cancellation."""

    def __init__(self, job: Job):
        self.job = job
        self.params: dict = job.params or {}
        self.user = job.created_by
        self.cancel_seen = False
        self._last_written: tuple[int, str] | None = None
        self._last_write_at = 0.0
        # Transactions open when the job started are not the job's own (a test's, say).
        self._atomic_depth = len(connections[router.db_for_write(Job)].atomic_blocks)

    @property
    def attempt(self) -> int:
        """1 on the first run; more when a resumable job runs again after a restart."""
        return self.job.attempts

    def progress(self, percent: float, message: str = "") -> None:
        """Report progress (0–100) and what is being done; shown to the user within a second.

        Inside a transaction of the job's own (an import commits as one), the report goes to the
        job's side file instead of its row: an update of the row would stay invisible until the
        commit, hold the row's lock against a cancel request on PostgreSQL, and on SQLite wait for
        the write lock the job itself holds."""
        state = (max(0, min(100, int(percent))), str(message)[:500])
        now = time.monotonic()
        if state == self._last_written:
            return
        # A new percentage is always written; a new message alone at most once a second.
        if self._last_written and state[0] == self._last_written[0] and now - self._last_write_at < 1.0:
            return
        if len(connections[router.db_for_write(Job)].atomic_blocks) > self._atomic_depth:
            write_side_file(self.job.pk, {"progress": state[0], "message": state[1]})
        else:
            Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING).update(
                progress=state[0], message=state[1], heartbeat_at=timezone.now()
            )
        self._last_written, self._last_write_at = state, now

    def cancelled(self) -> bool:
        """Whether the user asked to cancel; a job checks this between steps and stops."""
        if not self.cancel_seen:
            self.cancel_seen = cancel_file(self.job.pk).exists() or Job.objects.filter(
                pk=self.job.pk, cancel_requested=True).exists()
        return self.cancel_seen

    def check_cancelled(self) -> None:
        if self.cancelled():
            raise JobCancelled


# --- the side files of a running job ------------------------------------------------------------------
# A job that works inside one long transaction cannot report through its row until it commits (see
# JobContext.progress). Its progress, its worker's heartbeat and a cancel request then travel
# through two small files under var/jobs/, which the status page, the stale-job sweep and
# ``cancelled()`` read beside the row. They are removed when the job ends.
def side_file(job_id) -> Path:
    return Path(settings.VAR_DIR) / "jobs" / f"{job_id}.json"


def cancel_file(job_id) -> Path:
    return Path(settings.VAR_DIR) / "jobs" / f"{job_id}.cancel"


def write_side_file(job_id, state: dict) -> None:
    path = side_file(job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)


def read_side_file(job_id) -> dict:
    try:
        return json.loads(side_file(job_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def side_file_fresh(job_id, now: float | None = None) -> bool:
    """Whether the job's heartbeat touched its side file within the stale interval."""
    try:
        age = (now or time.time()) - side_file(job_id).stat().st_mtime
    except OSError:
        return False
    return age < stale_after().total_seconds()


def remove_side_files(job_id) -> None:
    for path in (side_file(job_id), cancel_file(job_id)):
        path.unlink(missing_ok=True)


# --- the queue ---------------------------------------------------------------------------------------
class RedisQueue:
    """A Redis list of job ids that idle workers block on; the database stays the truth."""

    def __init__(self, url: str, prefix: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=POLL_SECONDS + 5)
        self.key = f"{prefix}:jobs"

    def push(self, job_id) -> None:
        self.client.rpush(self.key, str(job_id))

    def pop(self, timeout: float = POLL_SECONDS) -> str | None:
        item = self.client.blpop([self.key], timeout=timeout)
        return item[1].decode("ascii") if item else None


def get_queue() -> RedisQueue | None:
    """The Redis queue when ``JOB_QUEUE_URL`` names one; None when the database is the queue."""
    url = settings.JOB_QUEUE_URL
    if not url:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("RENCAI_JOB_QUEUE_URL must be empty or a redis:// URL")
    return RedisQueue(url, settings.JOB_QUEUE_PREFIX)


def _announce(job_id) -> None:
    """Wake a worker through Redis; a failure only costs the job the wait until the next sweep."""
    try:
        queue = get_queue()
        if queue is not None:
            queue.push(job_id)
    except Exception:  # noqa: BLE001  (Redis down must not fail the request that enqueued)
        logger.warning("could not push job %s to the Redis queue; a worker will find it in the database", job_id)


# --- submitting, seeing and cancelling ----------------------------------------------------------------
def enqueue(kind: str, params: dict | None = None, user=None, title: str | None = None) -> Job:
    """Queue a job of a registered ``kind``; audited as submitted by ``user``."""
    spec = get_kind(kind)
    if spec is None:
        raise ValueError(f"unknown job kind {kind!r}")
    params = json.loads(json.dumps(params or {}, cls=DjangoJSONEncoder))
    if user is not None and not user.is_authenticated:
        user = None
    with transaction.atomic():
        job = Job.objects.create(kind=kind, title=str(title or spec.title)[:200], params=params, created_by=user)
        audit.record(
            AuditAction.JOB, obj=job, actor=user, changes={"kind": kind, "title": job.title},
            message=_("提交后台任务"),
        )
        transaction.on_commit(partial(_announce, job.pk))
    return job


def visible_jobs(user):
    """The jobs ``user`` may see: their own; everyone's with ``core.view_job`` and an all-region role."""
    queryset = Job.objects.select_related("created_by")
    if not (user and user.is_authenticated):
        return queryset.none()
    if user.has_perm("core.view_job") and user.sees_all_regions:
        return queryset
    return queryset.filter(created_by=user)


def can_cancel(user, job: Job) -> bool:
    if job.is_finished or not user.is_authenticated:
        return False
    return job.created_by_id == user.pk or user.has_perm("core.change_job")


def request_cancel(job: Job, user) -> bool:
    """Cancel a queued job now, or ask a running one to stop; False if it already finished.

    A running job is also told through its cancel file, which it reads even while its own
    transaction holds SQLite's write lock (the row then cannot be written until it ends; the
    request is recorded on the row and in the audit log when the job finishes)."""
    now = timezone.now()
    if job.status == JobStatus.RUNNING:
        path = cancel_file(job.pk)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(getattr(user, "pk", "") or ""), encoding="utf-8")
    try:
        with transaction.atomic():
            if Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
                status=JobStatus.CANCELLED, cancel_requested=True, finished_at=now, message=_("已取消")
            ):
                message = _("取消排队中的后台任务")
            elif Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(cancel_requested=True):
                message = _("请求取消运行中的后台任务")
            else:
                cancel_file(job.pk).unlink(missing_ok=True)
                return False
            audit.record(AuditAction.JOB, obj=job, actor=user, message=message)
    except OperationalError:
        if not cancel_file(job.pk).exists():
            raise
        logger.info("job %s: cancel requested through its file (the database is busy with the job)", job.pk)
        job.cancel_requested = True
        return True
    job.refresh_from_db()
    return True


# --- claiming and running -------------------------------------------------------------------------------
def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def try_claim(job_id, worker: str) -> Job | None:
    """Take one queued job for ``worker``: a conditional UPDATE that only one worker can win."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED, kind__in=list(job_kinds())).update(
        status=JobStatus.RUNNING, worker=worker, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    return Job.objects.select_related("created_by").get(pk=job_id)


def claim_next(worker: str) -> Job | None:
    """The oldest queued job of a kind this process knows, claimed for ``worker``."""
    candidates = list(
        Job.objects.filter(status=JobStatus.QUEUED, kind__in=list(job_kinds()))
        .order_by("created_at").values_list("pk", flat=True)[:10]
    )
    for job_id in candidates:
        job = try_claim(job_id, worker)
        if job is not None:
            return job
    return None


class _Heartbeat(threading.Thread):
    """Stamps ``heartbeat_at`` every ``JOB_HEARTBEAT_SECONDS`` while a job runs, on its own
    connection, so a job busy in one long step still shows that its worker is alive."""

    def __init__(self, job_id, worker: str, interval: float):
        super().__init__(name=f"rencai-heartbeat-{job_id}", daemon=True)
        self.job_id, self.worker, self.interval = job_id, worker, interval
        self._halt = threading.Event()
        write_side_file(job_id, {})

    def run(self) -> None:
        try:
            while not self._halt.wait(self.interval):
                path = side_file(self.job_id)
                if path.exists():
                    path.touch()
                try:
                    Job.objects.filter(pk=self.job_id, status=JobStatus.RUNNING, worker=self.worker).update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError:
                    logger.warning("could not record the heartbeat of job %s", self.job_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only

    def finish(self) -> None:
        self._halt.set()
        self.join()


def failure_message(exc: BaseException) -> str:
    """What the user reads about a failure: our own messages as written, anything else by kind
    only (a library's message may quote personal data; the log has the traceback, redacted)."""
    if isinstance(exc, JobError):
        return str(exc)[:2000]
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)[:2000]
    return _(GENERIC_FAILURE) % {"name": type(exc).__name__}


def _storable(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        value = {"value": value}
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def run_job(job: Job, worker: str) -> str:
    """Run a claimed job to its end and record the outcome; returns the final status."""
    spec = get_kind(job.kind)
    ctx = JobContext(job)
    heartbeat = _Heartbeat(job.pk, worker, settings.JOB_HEARTBEAT_SECONDS)
    heartbeat.start()
    status, result, error = JobStatus.SUCCEEDED, {}, ""
    try:
        with audit.acting(job.created_by):
            result = _storable(spec.func(ctx))
        if ctx.cancel_seen:
            status = JobStatus.CANCELLED
    except JobCancelled:
        status = JobStatus.CANCELLED
    except JobError as exc:
        logger.info("job %s (%s) refused", job.pk, job.kind)
        status, error, result = JobStatus.FAILED, failure_message(exc), _storable(exc.result)
    except Exception as exc:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        status, error = JobStatus.FAILED, failure_message(exc)
    finally:
        heartbeat.finish()
    _record_filed_cancel(job)
    now = timezone.now()
    changes: dict[str, Any] = {"status": status, "finished_at": now, "heartbeat_at": now, "result": result, "error": error}
    if status == JobStatus.SUCCEEDED:
        changes["progress"] = 100
    elif status == JobStatus.CANCELLED:
        changes["message"] = _("已取消")
    # Conditional on still being ours: a job taken away meanwhile keeps what the taker wrote.
    Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, worker=worker).update(**changes)
    remove_side_files(job.pk)
    logger.info("job %s (%s) %s", job.pk, job.kind, status)
    return status


def _record_filed_cancel(job: Job) -> None:
    """A cancel request that only reached the job's cancel file (the database was busy with the
    job): put it on the row and in the audit log now."""
    path = cancel_file(job.pk)
    if not path.exists() or Job.objects.filter(pk=job.pk, cancel_requested=True).exists():
        return
    from rencai.core.models import User

    requester = User.objects.filter(pk=path.read_text(encoding="utf-8").strip() or None).first()
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        audit.record(AuditAction.JOB, obj=job, actor=requester, message=_("请求取消运行中的后台任务"))


def stale_after() -> timedelta:
    """How long without a heartbeat before a running job counts as cut off."""
    return timedelta(seconds=max(6 * settings.JOB_HEARTBEAT_SECONDS, 60))


def recover_interrupted_jobs(now=None) -> tuple[int, int]:
    """Requeue (resumable kinds) or fail, with the reason, running jobs whose heartbeat stopped.

    Each change is conditional on the row being as it was read, so a live job that beats just
    now, or another worker recovering at the same moment, is left alone. Returns (requeued,
    failed).
    """
    now = now or timezone.now()
    kinds = job_kinds()
    requeued = failed = 0
    stale = Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=now - stale_after())
    never_beat = Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__isnull=True)
    for job in (stale | never_beat).only("pk", "kind", "worker", "heartbeat_at", "cancel_requested"):
        if side_file_fresh(job.pk):
            continue  # alive, inside a long transaction of its own (see JobContext.progress)
        same = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, worker=job.worker, heartbeat_at=job.heartbeat_at)
        spec = kinds.get(job.kind)
        if job.cancel_requested:
            changed = same.update(status=JobStatus.CANCELLED, finished_at=now, message=_("已取消"))
            outcome = "cancelled"
        elif spec is not None and spec.resumable:
            changed = same.update(status=JobStatus.QUEUED, worker="", heartbeat_at=None, message=_("服务重启后重新排队"))
            requeued += changed
            outcome = "requeued"
        else:
            changed = same.update(status=JobStatus.FAILED, finished_at=now, error=_(INTERRUPTED))
            failed += changed
            outcome = "failed"
        if changed:
            logger.warning("job %s (%s) was cut off on worker %s: %s", job.pk, job.kind, job.worker, outcome)
            if outcome == "requeued":
                _announce(job.pk)
    return requeued, failed


class Worker:
    """The loop of ``rencai worker``: recover, then claim and run jobs until told to stop."""

    def __init__(self, name: str | None = None):
        self.name = name or worker_name()
        self.queue = get_queue()
        self.stopping = threading.Event()
        self._last_recovery = 0.0

    def stop(self, *args) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        # The job in hand is finished first; a second signal or SIGKILL cuts it off, and the next
        # start-up recovers it.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.stop)

    def recover(self) -> None:
        self._last_recovery = time.monotonic()
        requeued, failed = recover_interrupted_jobs()
        if requeued or failed:
            logger.warning("recovered interrupted jobs: %d requeued, %d failed", requeued, failed)

    def next_job(self, *, wait: bool = True) -> Job | None:
        """A claimed job, or None after waiting up to a poll interval (no wait: look once)."""
        if self.queue is not None:
            try:
                job_id = self.queue.pop(timeout=POLL_SECONDS)
            except Exception:  # noqa: BLE001  (Redis down: the database sweep still finds the work)
                logger.warning("the Redis job queue is unreachable; polling the database", exc_info=True)
                job_id = None
                if wait:
                    self.stopping.wait(POLL_SECONDS)
            if job_id:
                job = try_claim(job_id, self.name)
                if job is not None:
                    return job
            return claim_next(self.name)
        job = claim_next(self.name)
        if job is None and wait:
            self.stopping.wait(POLL_SECONDS)
        return job

    def run_once(self) -> str | None:
        """Recover, then run at most one job; returns its final status (None: nothing to do)."""
        self.recover()
        job = self.next_job(wait=False)
        return run_job(job, self.name) if job is not None else None

    def run_forever(self) -> None:
        logger.info("job worker %s started (%s queue)", self.name, "Redis" if self.queue else "database")
        self.recover()
        while not self.stopping.is_set():
            try:
                close_old_connections()
                if time.monotonic() - self._last_recovery > RECOVER_EVERY_SECONDS:
                    self.recover()
                job = self.next_job()
                if job is not None:
                    run_job(job, self.name)
            except DatabaseError:
                logger.exception("job worker %s: database error; retrying", self.name)
                connections.close_all()
                self.stopping.wait(POLL_SECONDS * 5)
        logger.info("job worker %s stopped", self.name)


# --- the platform's own jobs ------------------------------------------------------------------------------
def _may_verify_audit(user) -> bool:
    return user.has_perm("core.view_auditentry") or AdminDuty.SYSTEM in user.duties


@register_job("core.audit_verify", title=gettext_lazy("审计日志完整性校验"), resumable=True, allowed=_may_verify_audit)
def verify_audit_chain(ctx: JobContext) -> dict:
    """Walk the audit chain (read-only, so running it again after a restart is harmless)."""
    ctx.progress(0, _("正在统计审计日志"))
    total = AuditEntry.objects.count()
    ctx.progress(5, _("正在校验 %(total)d 条审计日志") % {"total": total})
    result = audit.verify()
    if result.ok:
        summary = _("校验通过：%(checked)d 条审计日志的链接和内容均完好。") % {"checked": result.checked}
    else:
        where = _("第 %(id)s 条") % {"id": result.broken_at} if result.broken_at else _("链尾")
        summary = _("发现问题：%(where)s，%(reason)s。") % {"where": where, "reason": result.reason}
    ctx.progress(100, summary)
    return {
        "summary": summary, "ok": result.ok, "checked": result.checked,
        "broken_at": result.broken_at, "reason": result.reason,
    }
