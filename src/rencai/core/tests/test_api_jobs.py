"""Jobs through the API: one's own jobs' status and progress, and cancelling them."""

import pytest

from rencai.core import jobs
from rencai.core.models import Job
from rencai.core.models.jobs import JobStatus
from rencai.core.services.tokens import create_token

pytestmark = pytest.mark.django_db


def bearer(user) -> dict:
    _, raw = create_token(user)
    return {"Authorization": f"Bearer {raw}"}


def test_it_reports_the_status_and_progress_of_ones_own_job(client, yanhu_officer):
    job = jobs.enqueue("core.audit_verify", {}, yanhu_officer, "校验")
    jobs.claim_next("w")
    Job.objects.filter(pk=job.pk).update(progress=35, message="正在校验")
    body = client.get(f"/api/jobs/{job.pk}", headers=bearer(yanhu_officer)).json()
    assert body["id"] == str(job.pk) and body["kind"] == "core.audit_verify" and body["title"] == "校验"
    assert body["status"] == "running" and body["status_label"] == "运行中"
    assert body["progress"] == 35 and body["message"] == "正在校验" and body["created_by"] == "yanhu"
    assert body["finished_at"] is None and body["result"] == {} and body["error"] == ""


def test_it_reports_the_result_once_finished(client, audit_admin):
    job = jobs.enqueue("core.audit_verify", {}, audit_admin)
    jobs.Worker("w").run_once()
    body = client.get(f"/api/jobs/{job.pk}", headers=bearer(audit_admin)).json()
    assert body["status"] == "succeeded" and body["progress"] == 100 and body["result"]["ok"] is True


def test_another_users_job_is_not_found(client, yanhu_officer, hejin_officer):
    theirs = jobs.enqueue("core.audit_verify", {}, hejin_officer)
    headers = bearer(yanhu_officer)
    response = client.get(f"/api/jobs/{theirs.pk}", headers=headers)
    assert response.status_code == 404 and response.json()["detail"]
    assert client.post(f"/api/jobs/{theirs.pk}/cancel", headers=headers).status_code == 404
    assert client.get("/api/jobs/", headers=headers).json()["items"] == []
    assert client.get("/api/jobs/not-a-uuid", headers=headers).status_code == 404


def test_all_region_roles_with_the_permission_see_every_job(client, city_admin, yanhu_officer):
    theirs = jobs.enqueue("core.audit_verify", {}, yanhu_officer)
    headers = bearer(city_admin)
    assert client.get(f"/api/jobs/{theirs.pk}", headers=headers).status_code == 200
    assert [item["id"] for item in client.get("/api/jobs/", headers=headers).json()["items"]] == [str(theirs.pk)]
    # Seeing is not cancelling: only the submitter (or core.change_job) may.
    assert client.post(f"/api/jobs/{theirs.pk}/cancel", headers=headers).status_code == 403


def test_cancel_through_the_api(client, yanhu_officer):
    job = jobs.enqueue("core.audit_verify", {}, yanhu_officer)
    headers = bearer(yanhu_officer)
    body = client.post(f"/api/jobs/{job.pk}/cancel", headers=headers).json()
    assert body["status"] == "cancelled" and body["cancel_requested"] is True
    again = client.post(f"/api/jobs/{job.pk}/cancel", headers=headers)
    assert again.status_code == 422 and again.json()["errors"] == {"__all__": ["任务已经结束，不能取消。"]}
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


def test_the_list_is_newest_first_and_paged(client, yanhu_officer):
    made = [jobs.enqueue("core.audit_verify", {}, yanhu_officer, f"任务{n}") for n in range(3)]
    headers = bearer(yanhu_officer)
    first = client.get("/api/jobs/?limit=2", headers=headers).json()
    second = client.get(first["next"], headers=headers).json()
    titles = [item["title"] for item in first["items"] + second["items"]]
    assert titles == ["任务2", "任务1", "任务0"] and second["next"] is None and len(made) == 3
