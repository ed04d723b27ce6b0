"""The import API: upload and import, batch status, error report, undo; permission and scope."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from rencai.core.models import Job
from rencai.core.services.tokens import create_token
from rencai.imports import api as import_api
from rencai.imports.models import ImportBatch
from rencai.imports.tests.files import HEADERS, xlsx
from rencai.talents.models import Talent
from rencai.talents.tests.helpers import id_number

pytestmark = pytest.mark.django_db
ZHANG = id_number("19850312", seq=31)


def bearer(user) -> dict:
    _, raw = create_token(user)
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def synchronous(monkeypatch):
    monkeypatch.setattr(import_api, "get_kind", lambda kind: None)


def post(client, user, path, **data):
    with open(path, "rb") as handle:
        return client.post("/api/imports/", {"file": handle, **data}, headers=bearer(user))


def test_it_imports_an_uploaded_file_and_reports_the_batch(client, city_admin, tmp_path, synchronous):
    path = xlsx(tmp_path / "名单.xlsx", [HEADERS, ["张伟", "男", ZHANG, "1985.03", None, "本科", "盐湖区", "运城学院"]])
    response = post(client, city_admin, path, mode="update")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "done" and body["counts"]["created"] == 1 and body["file_name"] == "名单.xlsx"
    assert Talent.objects.get().work_unit == "运城学院"
    again = client.get(f"/api/imports/{body['id']}/", headers=bearer(city_admin))
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    undone = client.post(f"/api/imports/{body['id']}/undo", headers=bearer(city_admin))
    assert undone.status_code == 200 and undone.json()["status"] == "undone"
    assert not Talent.objects.exists()
    assert client.post(f"/api/imports/{body['id']}/undo", headers=bearer(city_admin)).status_code == 409


def test_rows_with_errors_answer_422_with_the_rows_and_a_report(client, city_admin, tmp_path, synchronous):
    path = xlsx(tmp_path / "a.xlsx", [HEADERS, ["张伟", "男", "1.40802E+17", None, None, None, "盐湖区", None]])
    response = post(client, city_admin, path, fixed=json.dumps({"kind": "本土人才"}))
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "failed" and body["errors"][0][0] == 2 and "已丢失" in body["errors"][0][1]["身份证号"]
    report = client.get(f"/api/imports/{body['id']}/report", headers=bearer(city_admin))
    assert report.status_code == 200
    sheet = load_workbook(io.BytesIO(report.content)).active
    assert sheet.cell(row=2, column=2).value == "张伟"
    assert not Talent.objects.exists()


def test_bad_files_and_options_are_422_with_a_message(client, city_admin, tmp_path, synchronous):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"%PDF-1.4")
    response = post(client, city_admin, bad)
    assert response.status_code == 422 and "PDF" in response.json()["errors"]["file"][0]
    good = xlsx(tmp_path / "a.xlsx", [HEADERS, ["张伟"]])
    assert post(client, city_admin, good, mode="merge").status_code == 422
    assert post(client, city_admin, good, columns='{"0": "password"}').status_code == 422


def test_a_registered_import_job_queues_the_batch(client, city_admin, tmp_path, monkeypatch):
    from rencai.core import jobs

    monkeypatch.setattr(import_api, "get_kind", lambda kind: jobs.JobKind(kind, lambda ctx: None, False, "导入", None)
                        if kind == import_api.IMPORT_JOB else None)
    monkeypatch.setattr(import_api, "enqueue", lambda kind, params, user, title: Job.objects.create(
        kind=kind, params=params, created_by=user, title=title))
    path = xlsx(tmp_path / "a.xlsx", [HEADERS, ["张伟", None, None, None, None, None, "盐湖区", None]])
    response = post(client, city_admin, path)
    assert response.status_code == 202
    batch = ImportBatch.objects.get(pk=response.json()["id"])
    assert batch.status == "queued" and batch.job.params == {"batch": batch.pk}
    assert not Talent.objects.exists()
    from rencai.imports.pipeline import run_batch

    run_batch(batch)
    assert Talent.objects.get().name == "张伟"


def test_others_batches_are_not_found_and_leaders_may_not_import(client, city_admin, yanhu_officer, leader, tmp_path,
                                                                 synchronous):
    path = xlsx(tmp_path / "a.xlsx", [HEADERS, ["张伟", None, None, None, None, None, "盐湖区", None]])
    batch_id = post(client, city_admin, path).json()["id"]
    assert client.get(f"/api/imports/{batch_id}/", headers=bearer(yanhu_officer)).status_code == 404
    assert client.post(f"/api/imports/{batch_id}/undo", headers=bearer(yanhu_officer)).status_code == 404
    assert post(client, leader, path).status_code == 403
