"""Background jobs: enqueueing, atomic claims, progress, cancel, failure, restart recovery, Redis,
and the job pages (the detail page polls its status fragment with htmx while the job runs)."""

import io
import threading
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.core.management import call_command
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from rencai.core import jobs
from rencai.core.jobs import JobError, Worker, register_job
from rencai.core.models import AuditEntry, Job, OrgUnit, Region
from rencai.core.models.audit import AuditAction
from rencai.core.models.jobs import JobStatus

pytestmark = pytest.mark.django_db

SEEN: dict = {}


@register_job("tests.steps", resumable=True, title="测试：分步任务")
def steps_job(ctx):
    for step in range(1, 5):
        ctx.progress(step * 20, f"第 {step} 步")
        SEEN.setdefault(str(ctx.job.pk), []).append(Job.objects.values_list("progress", "message").get(pk=ctx.job.pk))
    return {"summary": "全部完成", "steps": 4, "attempt": ctx.attempt}


@register_job("tests.once", title="测试：不可续跑")
def once_job(ctx):
    return {"summary": "ran"}


@register_job("tests.crash")
def crashing_job(ctx):
    raise ValueError(f"row with mobile {ctx.params['mobile']} broke")


@register_job("tests.refuse")
def refusing_job(ctx):
    raise JobError("第 3 行：身份证号码校验位不符")


@register_job("tests.refuse_with_report")
def refusing_with_report_job(ctx):
    raise JobError("2 行有错误，未导入任何一行", {"errors": 2, "url": "/imports/batches/1/", "url_label": "查看错误报告"})


@register_job("tests.in_one_transaction")
def in_one_transaction_job(ctx):
    from django.db import transaction

    with transaction.atomic():
        ctx.progress(37, "第 370 行")
        SEEN["side"] = jobs.read_side_file(ctx.job.pk)
        SEEN["row"] = Job.objects.values_list("progress", flat=True).get(pk=ctx.job.pk)
        if ctx.params.get("cancel_through_file"):
            jobs.cancel_file(ctx.job.pk).write_text(str(ctx.params["cancel_through_file"]), encoding="utf-8")
            assert ctx.cancelled()
            return {"summary": "stopped"}
    return {"summary": "done"}


@register_job("tests.linked")
def linked_job(ctx):
    return {"summary": "done", "url": "https://elsewhere.example/", "made": 3}


@register_job("tests.cancelled_midway")
def cancelled_midway_job(ctx):
    ctx.progress(10, "开始")
    jobs.request_cancel(Job.objects.get(pk=ctx.job.pk), ctx.user)  # the user presses 取消 meanwhile
    for _ in range(100):
        if ctx.cancelled():
            return {"summary": "stopped early"}
    raise AssertionError("the cancel request was never seen")


@register_job("tests.check_cancelled")
def check_cancelled_job(ctx):
    Job.objects.filter(pk=ctx.job.pk).update(cancel_requested=True)
    ctx.check_cancelled()
    raise AssertionError("check_cancelled did not stop the job")


@register_job("tests.create_unit")
def create_unit_job(ctx):
    OrgUnit.objects.create(name=ctx.params["name"], region=Region.objects.get(code="140802"))


@register_job("tests.slow")
def slow_job(ctx):
    started = Job.objects.values_list("heartbeat_at", flat=True).get(pk=ctx.job.pk)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.2)
        beat = Job.objects.values_list("heartbeat_at", flat=True).get(pk=ctx.job.pk)
        if beat > started:
            return {"beat_after": (beat - started).total_seconds()}
    raise JobError("no heartbeat")


def _run_once(name="test-worker"):
    return Worker(name).run_once()


def _status(job) -> str:
    job.refresh_from_db()
    return job.status


# --- enqueue and claim ---------------------------------------------------------------------------------
def test_enqueue_queues_and_audits(city_staff):
    job = jobs.enqueue("tests.steps", {"upload": 7}, city_staff)
    assert job.status == JobStatus.QUEUED and job.title == "测试：分步任务" and job.params == {"upload": 7}
    entry = AuditEntry.objects.filter(action=AuditAction.JOB).latest("id")
    assert entry.actor_id == city_staff.pk and entry.object_id == str(job.pk) and entry.changes["kind"] == "tests.steps"
    with pytest.raises(ValueError):
        jobs.enqueue("tests.no_such_kind", {}, city_staff)


def test_two_workers_never_claim_the_same_job(city_staff):
    job = jobs.enqueue("tests.steps", {}, city_staff)
    first = jobs.claim_next("worker-a")
    second = jobs.claim_next("worker-b")
    assert first.pk == job.pk and second is None
    assert jobs.try_claim(job.pk, "worker-b") is None  # the losing side of a race on the same id
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.worker == "worker-a" and job.attempts == 1


def test_claims_take_the_oldest_job_first(city_staff):
    older = jobs.enqueue("tests.once", {}, city_staff, "先")
    newer = jobs.enqueue("tests.once", {}, city_staff, "后")
    Job.objects.filter(pk=newer.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert jobs.claim_next("w").pk == newer.pk
    assert jobs.claim_next("w").pk == older.pk


def test_a_job_of_a_kind_this_worker_does_not_know_stays_queued(city_staff):
    unknown = Job.objects.create(kind="later.version_only", title="新版本的任务")
    assert jobs.claim_next("w") is None
    assert _status(unknown) == JobStatus.QUEUED


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_from_two_threads(refdata):
    job = Job.objects.create(kind="tests.once", title="抢")
    barrier = threading.Barrier(2)
    winners = []

    def claim(name):
        try:
            barrier.wait()
            claimed = jobs.try_claim(job.pk, name)
            if claimed is not None:
                winners.append(name)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    job.refresh_from_db()
    assert job.worker == winners[0] and job.attempts == 1


# --- running -------------------------------------------------------------------------------------------
def test_a_job_reports_progress_and_its_result(city_staff):
    job = jobs.enqueue("tests.steps", {}, city_staff)
    assert _run_once() == JobStatus.SUCCEEDED
    assert SEEN[str(job.pk)] == [(20, "第 1 步"), (40, "第 2 步"), (60, "第 3 步"), (80, "第 4 步")]
    job.refresh_from_db()
    assert job.progress == 100 and job.result == {"summary": "全部完成", "steps": 4, "attempt": 1}
    assert job.started_at and job.finished_at and job.error == ""


def test_nothing_to_do(db):
    assert _run_once() is None


def test_a_failure_records_a_message_without_personal_data_and_logs_the_traceback(city_staff, caplog):
    job = jobs.enqueue("tests.crash", {"mobile": "13812345678"}, city_staff)
    assert _run_once() == JobStatus.FAILED
    job.refresh_from_db()
    assert job.error == "任务执行出错（ValueError），详细信息已记入系统日志。"
    assert "13812345678" not in job.error and "Traceback" not in job.error
    logged = [record for record in caplog.records if record.name == "rencai.jobs" and record.exc_info]
    assert logged and str(job.pk) in logged[0].getMessage()


def test_a_job_error_is_shown_as_written(city_staff):
    job = jobs.enqueue("tests.refuse", {}, city_staff)
    _run_once()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error == "第 3 行：身份证号码校验位不符"


def test_a_job_runs_as_its_submitter(city_staff):
    jobs.enqueue("tests.create_unit", {"name": "盐湖区任务机构"}, city_staff)
    _run_once()
    unit = OrgUnit.objects.get(name="盐湖区任务机构")
    assert unit.created_by_id == city_staff.pk
    entry = AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="core.orgunit").latest("id")
    assert entry.actor_id == city_staff.pk


def test_the_worker_command_runs_one_job(city_staff):
    job = jobs.enqueue("tests.once", {}, city_staff)
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    assert out.getvalue().strip() == "succeeded" and _status(job) == JobStatus.SUCCEEDED


# --- cancel ----------------------------------------------------------------------------------------------
def test_a_queued_job_is_cancelled_at_once_and_never_runs(city_staff):
    job = jobs.enqueue("tests.create_unit", {"name": "不该出现"}, city_staff)
    assert jobs.request_cancel(job, city_staff) is True
    assert _status(job) == JobStatus.CANCELLED and job.finished_at is not None
    assert _run_once() is None
    assert not OrgUnit.objects.filter(name="不该出现").exists()
    assert AuditEntry.objects.filter(action=AuditAction.JOB, object_id=str(job.pk)).count() == 2
    assert jobs.request_cancel(job, city_staff) is False  # already over


def test_a_running_job_stops_when_asked(city_staff):
    job = jobs.enqueue("tests.cancelled_midway", {}, city_staff)
    assert _run_once() == JobStatus.CANCELLED
    job.refresh_from_db()
    assert job.cancel_requested and job.result == {"summary": "stopped early"} and job.progress == 10


def test_check_cancelled_raises_out_of_the_job(city_staff):
    job = jobs.enqueue("tests.check_cancelled", {}, city_staff)
    assert _run_once() == JobStatus.CANCELLED and _status(job) == JobStatus.CANCELLED


def test_only_the_submitter_may_cancel(city_staff, yanhu_officer):
    job = jobs.enqueue("tests.once", {}, city_staff)
    assert jobs.can_cancel(city_staff, job) and not jobs.can_cancel(yanhu_officer, job)


# --- restarts --------------------------------------------------------------------------------------------
def _cut_off(kind, *, beat_ago=timedelta(hours=1), **fields):
    now = timezone.now()
    return Job.objects.create(
        kind=kind, title=kind, status=JobStatus.RUNNING, worker="old-host:4242", attempts=1,
        started_at=now - beat_ago, heartbeat_at=now - beat_ago, progress=40, **fields,
    )


def test_restart_requeues_resumable_jobs_and_fails_the_others_with_the_reason(db):
    resumable = _cut_off("tests.steps")
    other = _cut_off("tests.once")
    gone = _cut_off("removed.kind")
    alive = _cut_off("tests.once", beat_ago=timedelta(seconds=1))
    cancelling = _cut_off("tests.once", cancel_requested=True)
    assert jobs.recover_interrupted_jobs() == (1, 2)
    resumable.refresh_from_db()
    assert resumable.status == JobStatus.QUEUED and resumable.worker == "" and resumable.heartbeat_at is None
    for job in (other, gone):
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED and job.error == "服务重启时任务被中断" and job.finished_at
    assert _status(alive) == JobStatus.RUNNING
    assert _status(cancelling) == JobStatus.CANCELLED


def test_the_worker_recovers_at_start_up_and_resumes(db):
    resumable = _cut_off("tests.steps")
    other = _cut_off("tests.once")
    assert _run_once() == JobStatus.SUCCEEDED
    resumable.refresh_from_db()
    assert resumable.status == JobStatus.SUCCEEDED and resumable.attempts == 2 and resumable.result["attempt"] == 2
    assert _status(other) == JobStatus.FAILED and other.error == "服务重启时任务被中断"


def test_a_job_inside_its_own_transaction_reports_through_its_side_file(client, city_staff):
    job = jobs.enqueue("tests.in_one_transaction", {}, city_staff)
    claimed = jobs.claim_next("w")
    # The page while the job runs reads the side file.
    jobs.write_side_file(job.pk, {"progress": 37, "message": "第 370 行"})
    client.force_login(city_staff)
    fragment = client.get(reverse("job_detail", args=[job.pk]), headers={"HX-Request": "true"}).content.decode()
    assert 'aria-valuenow="37"' in fragment and "第 370 行" in fragment
    assert jobs.run_job(claimed, "w") == JobStatus.SUCCEEDED
    assert SEEN["side"] == {"progress": 37, "message": "第 370 行"} and SEEN["row"] == 0
    assert not jobs.side_file(job.pk).exists()


def test_a_cancel_that_reached_only_the_file_stops_the_job_and_is_recorded_after(city_staff):
    job = jobs.enqueue("tests.in_one_transaction", {"cancel_through_file": city_staff.pk}, city_staff)
    assert _run_once() == JobStatus.CANCELLED
    job.refresh_from_db()
    assert job.cancel_requested and not jobs.cancel_file(job.pk).exists()
    entry = AuditEntry.objects.filter(action=AuditAction.JOB, object_id=str(job.pk)).order_by("-pk").first()
    assert entry.actor == city_staff and entry.message == "请求取消运行中的后台任务"


def test_a_stale_row_with_a_fresh_side_file_is_alive(db):
    job = _cut_off("tests.once")
    jobs.write_side_file(job.pk, {})
    assert jobs.recover_interrupted_jobs() == (0, 0)
    assert _status(job) == JobStatus.RUNNING
    jobs.remove_side_files(job.pk)
    assert jobs.recover_interrupted_jobs() == (0, 1)


def test_a_job_that_never_beat_is_recovered_too(db):
    job = Job.objects.create(kind="tests.once", title="x", status=JobStatus.RUNNING, worker="gone:1")
    assert jobs.recover_interrupted_jobs() == (0, 1)
    assert _status(job) == JobStatus.FAILED


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_beats_while_a_job_runs(settings, refdata):
    settings.JOB_HEARTBEAT_SECONDS = 1
    job = Job.objects.create(kind="tests.slow", title="慢")
    assert _run_once() == JobStatus.SUCCEEDED, Job.objects.get(pk=job.pk).error
    job.refresh_from_db()
    assert 0.5 < job.result["beat_after"] < 5


# --- Redis ----------------------------------------------------------------------------------------------
@pytest.fixture
def redis_queue(settings):
    settings.JOB_QUEUE_URL = "redis://127.0.0.1:6379/0"
    settings.JOB_QUEUE_PREFIX = f"rencai-test-{uuid.uuid4().hex}"
    queue = jobs.get_queue()
    yield queue
    queue.client.delete(queue.key)


def test_enqueue_pushes_the_id_to_redis_after_commit(city_staff, redis_queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.enqueue("tests.once", {}, city_staff)
    assert redis_queue.client.lrange(redis_queue.key, 0, -1) == [str(job.pk).encode()]


def test_the_worker_takes_jobs_from_redis_and_still_claims_in_the_database(city_staff, redis_queue,
                                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = jobs.enqueue("tests.once", {}, city_staff, "一")
        second = jobs.enqueue("tests.once", {}, city_staff, "二")
    Job.objects.filter(pk=second.pk).update(created_at=timezone.now() - timedelta(hours=1))  # older in the DB
    worker = Worker("redis-worker")
    assert worker.queue is not None
    assert worker.run_once() == JobStatus.SUCCEEDED
    # Redis order decided: the first pushed ran although the database would pick the second.
    assert _status(first) == JobStatus.SUCCEEDED and _status(second) == JobStatus.QUEUED
    assert redis_queue.client.lrange(redis_queue.key, 0, -1) == [str(second.pk).encode()]
    # An id whose job another worker already took is skipped; the claim is the database's.
    Job.objects.filter(pk=second.pk).update(status=JobStatus.RUNNING, worker="other", heartbeat_at=timezone.now())
    assert worker.run_once() is None
    assert Job.objects.get(pk=second.pk).worker == "other"


def test_a_job_missing_from_redis_is_not_stranded(city_staff, redis_queue):
    job = jobs.enqueue("tests.once", {}, city_staff)  # no commit in this test: never pushed
    assert redis_queue.client.llen(redis_queue.key) == 0
    assert Worker("redis-worker").run_once() == JobStatus.SUCCEEDED
    assert _status(job) == JobStatus.SUCCEEDED


def test_a_dead_redis_loses_no_job(city_staff, settings, django_capture_on_commit_callbacks):
    settings.JOB_QUEUE_URL = "redis://127.0.0.1:1/0"
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.enqueue("tests.once", {}, city_staff)
    assert Worker("redis-worker").run_once() == JobStatus.SUCCEEDED
    assert _status(job) == JobStatus.SUCCEEDED


def test_redis_is_reachable_for_these_tests():
    assert redis.Redis.from_url("redis://127.0.0.1:6379/0").ping()


# --- the platform's own job -------------------------------------------------------------------------------
def test_the_audit_check_runs_in_the_background(audit_admin):
    spec = jobs.get_kind("core.audit_verify")
    assert spec.may_submit(audit_admin)
    job = jobs.enqueue("core.audit_verify", {}, audit_admin)
    assert _run_once() == JobStatus.SUCCEEDED
    job.refresh_from_db()
    assert job.result["ok"] is True and job.result["checked"] >= 1
    assert job.result["summary"].startswith("校验通过") and job.message == job.result["summary"]


def test_who_may_start_the_audit_check(audit_admin, system_admin, security_admin, city_admin, yanhu_officer):
    spec = jobs.get_kind("core.audit_verify")
    assert spec.may_submit(audit_admin) and spec.may_submit(system_admin)
    assert not spec.may_submit(security_admin) and not spec.may_submit(city_admin) and not spec.may_submit(yanhu_officer)


# --- pages ---------------------------------------------------------------------------------------------
def test_the_list_shows_ones_own_jobs(client, yanhu_officer, hejin_officer):
    mine = jobs.enqueue("tests.once", {}, yanhu_officer, "盐湖区的任务")
    jobs.enqueue("tests.once", {}, hejin_officer, "河津市的任务")
    client.force_login(yanhu_officer)
    html = client.get(reverse("job_list")).content.decode()
    assert "盐湖区的任务" in html and "河津市的任务" not in html
    assert reverse("job_detail", args=[mine.pk]) in html


def test_all_region_roles_with_the_permission_see_every_job(client, city_admin, yanhu_officer):
    theirs = jobs.enqueue("tests.once", {}, yanhu_officer, "盐湖区的任务")
    client.force_login(city_admin)
    assert "盐湖区的任务" in client.get(reverse("job_list")).content.decode()
    assert client.get(reverse("job_detail", args=[theirs.pk])).status_code == 200


def test_another_users_job_is_not_found(client, yanhu_officer, hejin_officer):
    theirs = jobs.enqueue("tests.once", {}, hejin_officer)
    client.force_login(yanhu_officer)
    assert client.get(reverse("job_detail", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("job_cancel", args=[theirs.pk])).status_code == 404
    assert _status(theirs) == JobStatus.QUEUED


def test_the_detail_page_polls_while_running_and_stops_when_finished(client, city_staff):
    job = jobs.enqueue("tests.steps", {}, city_staff, "分步任务")
    client.force_login(city_staff)
    page = client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert 'id="job-status"' in page and 'hx-trigger="every 1s"' in page and "<html" in page
    claimed = jobs.claim_next("w")
    Job.objects.filter(pk=claimed.pk).update(progress=45, message="第 450 行")
    fragment = client.get(reverse("job_detail", args=[job.pk]), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="job-status"')
    assert 'hx-trigger="every 1s"' in fragment and 'aria-valuenow="45"' in fragment and "第 450 行" in fragment
    jobs.run_job(claimed, "w")
    finished = client.get(reverse("job_detail", args=[job.pk]), headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in finished and "hx-get" not in finished
    assert "全部完成" in finished and 'aria-valuenow="100"' in finished and "取消任务" not in finished


def test_a_refusal_keeps_its_result_and_links_to_it(client, city_staff):
    job = jobs.enqueue("tests.refuse_with_report", {}, city_staff)
    assert _run_once() == JobStatus.FAILED
    job.refresh_from_db()
    assert job.error == "2 行有错误，未导入任何一行" and job.result["errors"] == 2
    client.force_login(city_staff)
    fragment = client.get(reverse("job_detail", args=[job.pk]), headers={"HX-Request": "true"}).content.decode()
    assert 'href="/imports/batches/1/"' in fragment and "查看错误报告" in fragment


def test_a_result_link_must_stay_on_the_site(client, city_staff):
    job = jobs.enqueue("tests.linked", {}, city_staff)
    assert _run_once() == JobStatus.SUCCEEDED
    client.force_login(city_staff)
    fragment = client.get(reverse("job_detail", args=[job.pk]), headers={"HX-Request": "true"}).content.decode()
    assert "elsewhere.example" not in fragment and "data-job-result-link" not in fragment and "made" in fragment


def test_the_failed_fragment_shows_the_error(client, city_staff):
    job = jobs.enqueue("tests.refuse", {}, city_staff)
    _run_once()
    client.force_login(city_staff)
    fragment = client.get(reverse("job_detail", args=[job.pk]), headers={"HX-Request": "true"}).content.decode()
    assert "任务失败" in fragment and "第 3 行：身份证号码校验位不符" in fragment and "hx-trigger" not in fragment


def test_cancel_from_the_page(client, city_staff):
    job = jobs.enqueue("tests.once", {}, city_staff)
    client.force_login(city_staff)
    assert "取消任务" in client.get(reverse("job_detail", args=[job.pk])).content.decode()
    fragment = client.post(reverse("job_cancel", args=[job.pk]), headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "已取消" in fragment.content.decode()
    assert "hx-trigger" not in fragment.content.decode()
    assert _status(job) == JobStatus.CANCELLED


def test_someone_who_only_sees_a_job_cannot_cancel_it(client, city_admin, yanhu_officer):
    theirs = jobs.enqueue("tests.once", {}, yanhu_officer)
    client.force_login(city_admin)
    assert "取消任务" not in client.get(reverse("job_detail", args=[theirs.pk])).content.decode()
    assert client.post(reverse("job_cancel", args=[theirs.pk])).status_code == 403
    assert _status(theirs) == JobStatus.QUEUED


def test_the_audit_administrator_starts_the_check_from_the_list(client, audit_admin):
    client.force_login(audit_admin)
    html = client.get(reverse("job_list")).content.decode()
    assert "运行审计日志完整性校验" in html
    response = client.post(reverse("job_submit"), {"kind": "core.audit_verify"})
    job = Job.objects.get(kind="core.audit_verify")
    assert response.status_code == 302 and response.headers["Location"] == reverse("job_detail", args=[job.pk])
    assert job.created_by_id == audit_admin.pk
    assert AuditEntry.objects.filter(action=AuditAction.JOB, actor=audit_admin, object_id=str(job.pk)).exists()


def test_others_cannot_start_it(client, yanhu_officer):
    client.force_login(yanhu_officer)
    assert "运行审计日志完整性校验" not in client.get(reverse("job_list")).content.decode()
    assert client.post(reverse("job_submit"), {"kind": "core.audit_verify"}).status_code == 403
    assert client.post(reverse("job_submit"), {"kind": "tests.once"}).status_code == 403
    assert not Job.objects.exists()


def test_the_pages_need_a_signed_in_user(client, city_staff):
    job = jobs.enqueue("tests.once", {}, city_staff)
    for url in (reverse("job_list"), reverse("job_detail", args=[job.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response.headers["Location"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_progress_bar_follows_the_job_in_the_browser(page, login, city_staff):
    job = jobs.enqueue("tests.steps", {}, city_staff, "浏览器里的任务")
    jobs.claim_next("w")
    Job.objects.filter(pk=job.pk).update(progress=30, message="第 300 行")
    login(city_staff)
    page.goto(reverse("job_detail", args=[job.pk]))
    page.wait_for_selector("text=第 300 行")
    Job.objects.filter(pk=job.pk).update(progress=70, message="第 700 行")
    page.wait_for_selector('[role=progressbar][aria-valuenow="70"]', timeout=5000)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, progress=100, finished_at=timezone.now(), result={"summary": "浏览器里完成了"}
    )
    page.wait_for_selector("text=浏览器里完成了", timeout=5000)
    polls = []
    page.on("request", lambda request: polls.append(request.url) if str(job.pk) in request.url else None)
    page.wait_for_timeout(2500)
    assert polls == []  # the finished fragment stopped the polling
