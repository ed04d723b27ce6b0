"""The import wizard through the web: upload, sheet and header, mapping (suggested, saved as a
template and applied again), preview statuses, the import job and its batch, the error report,
undo, and who may do what."""

from __future__ import annotations

import io
import json
import re
from html import unescape

import openpyxl
import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from rencai.core.jobs import Worker
from rencai.core.models import Job
from rencai.core.models.jobs import JobStatus
from rencai.imports.models import ImportBatch, ImportMapping, ImportUpload
from rencai.talents.models import Talent
from rencai.talents.tests.helpers import id_number

pytestmark = pytest.mark.django_db

GOOD_ID = id_number("19850312", male=True, seq=31)


def sheet_bytes(rows: list[list], title: str = "2026年盐湖区在外人才名单") -> bytes:
    """An .xlsx as counties send it: a title row above the header."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "名单"
    sheet.append([title])
    sheet.append(["序号", "姓名", "性别", "身份证号", "联系电话", "工作单位"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


ROWS = [
    [1, "王建国", "男", GOOD_ID, "13912345678", "北京理工大学"],
    [2, "李秀英", "女", "", "", "西安交通大学"],
    [3, "赵强", "男", "140802198501011234", "", "太原钢铁集团"],  # wrong check digit
]


def upload(client, content: bytes, name: str = "名单.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("import_start"), {"file": SimpleUploadedFile(name, content)})


def settings_data(page: str, **extra) -> dict:
    """The settings form as the browser would post it, with the suggested mapping kept."""
    data = {"sheet": "0", "mode": "skip", "preview": "1"}
    data["header_row"] = re.search(r'name="header_row"[^>]*value="(\d+)"', page).group(1)
    for name, body in re.findall(r'<select name="(col_\d+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        data[name] = chosen.group(1) if chosen else ""
    data.update(extra)
    return data


def run_jobs() -> None:
    while Worker("test-worker").run_once():
        pass


@pytest.fixture
def uploaded(client, yanhu_officer):
    client.force_login(yanhu_officer)
    response = upload(client, sheet_bytes(ROWS))
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportUpload.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def test_the_settings_page_finds_the_header_under_the_title_and_suggests_fields(client, uploaded):
    page = client.get(reverse("import_configure", args=[uploaded.pk])).content.decode()
    assert 'value="2"' in re.search(r'<input[^>]*name="header_row"[^>]*>', page).group(0)
    data = settings_data(page)
    assert [data[f"col_{i}"] for i in range(6)] == ["", "name", "gender", "id_card", "mobile", "work_unit"]
    assert "2026年盐湖区在外人才名单" in page  # the sample rows are shown, the title row among them


def test_the_settings_pages_read_the_first_rows_kept_at_upload_not_the_sheet(client, uploaded, monkeypatch):
    # Reading a sheet reads all of it (tens of seconds at a million rows): the wizard's pages,
    # and their htmx refreshes, use the rows kept beside the upload when it was stored.
    assert uploaded.sample_path.exists() and oct(uploaded.sample_path.stat().st_mode & 0o777) == "0o600"

    def no_reading(self):
        raise AssertionError("the sheet was read again")

    monkeypatch.setattr(ImportUpload, "open", no_reading)
    page = client.get(reverse("import_configure", args=[uploaded.pk]), {"header_row": "1"})
    assert page.status_code == 200
    assert 'value="1"' in re.search(r'<input[^>]*name="header_row"[^>]*>', page.content.decode()).group(0)
    assert "2026年盐湖区在外人才名单" in client.get(reverse("import_configure", args=[uploaded.pk])).content.decode()


def test_the_preview_gives_a_status_per_row_and_holds_back_an_all_or_nothing_import(client, uploaded):
    page = client.get(reverse("import_configure", args=[uploaded.pk])).content.decode()
    response = client.post(reverse("import_configure", args=[uploaded.pk]),
                           settings_data(page, fixed_region="140802", fixed_kind="native"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-status-count="new"' in html and 'data-status-count="error"' in html
    assert re.search(r'data-row="5" data-status="error"', html)  # 赵强, sheet row 5
    assert re.search(r'data-row="3" data-status="new"', html)
    assert re.search(r'data-testid="commit"[^>]*disabled', html)
    assert not Talent.objects.exists()


def test_a_valid_only_import_runs_as_a_job_and_lands_in_a_batch(client, uploaded, yanhu_officer):
    page = client.get(reverse("import_configure", args=[uploaded.pk])).content.decode()
    preview = client.post(reverse("import_configure", args=[uploaded.pk]),
                          settings_data(page, fixed_region="140802", fixed_kind="native", valid_only="on"))
    options = re.search(r'name="options" value="([^"]+)"', preview.content.decode()).group(1)
    response = client.post(reverse("import_commit", args=[uploaded.pk]), {"options": unescape(options)})
    job = Job.objects.get(kind="imports.import")
    assert response["Location"] == reverse("job_detail", args=[job.pk])
    run_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert set(Talent.objects.values_list("name", flat=True)) == {"王建国", "李秀英"}
    assert set(Talent.objects.values_list("region__code", flat=True)) == {"140802"}
    batch = ImportBatch.objects.get()
    assert batch.counts["created"] == 2 and batch.counts["errors"] == 1
    fragment = client.get(reverse("job_detail", args=[job.pk]), headers={"HX-Request": "true"}).content.decode()
    assert reverse("import_batch_detail", args=[batch.pk]) in fragment

    report = client.get(reverse("import_batch_report", args=[batch.pk]))
    assert report.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(report.content))
    rows = book.get_sheet_by_index(0).to_python()
    assert any("赵强" in [str(cell) for cell in row] for row in rows)

    client.post(reverse("import_batch_undo", args=[batch.pk]))
    assert not Talent.objects.exists()
    batch.refresh_from_db()
    assert batch.undone_at is not None


def test_a_refused_import_fails_its_job_with_a_link_to_the_report(client, uploaded):
    from rencai.imports.pipeline import ImportOptions

    options = ImportOptions(sheet=0, header_row=1, columns={1: "name", 3: "id_card"},
                            fixed={"region": "140802", "kind": "native"})
    client.post(reverse("import_commit", args=[uploaded.pk]), {"options": json.dumps(options.to_json())})
    run_jobs()
    job = Job.objects.get(kind="imports.import")
    assert job.status == JobStatus.FAILED and job.result.get("url", "").startswith("/imports/batches/")
    assert not Talent.objects.exists()


def test_a_saved_mapping_is_applied_to_the_next_sheet(client, uploaded):
    page = client.get(reverse("import_configure", args=[uploaded.pk])).content.decode()
    data = settings_data(page, fixed_region="140802", fixed_kind="native", save_as="盐湖区报送", source="盐湖区人社局")
    data["col_5"] = ""  # this source's 工作单位 column is not wanted
    client.post(reverse("import_configure", args=[uploaded.pk]), data)
    saved = ImportMapping.objects.get(name="盐湖区报送")
    assert saved.columns["姓名"] == "name" and "工作单位" not in saved.columns and saved.source == "盐湖区人社局"
    page = client.get(reverse("import_configure", args=[uploaded.pk]), {"mapping": saved.pk}).content.decode()
    assert settings_data(page)["col_5"] == "" and settings_data(page)["col_1"] == "name"


def test_the_mapping_must_name_the_name_column_and_each_field_once(client, uploaded):
    page = client.get(reverse("import_configure", args=[uploaded.pk])).content.decode()
    data = settings_data(page, fixed_region="140802", fixed_kind="native")
    data["col_1"], data["col_5"] = "", "name"
    data["col_4"] = "id_card"
    html = client.post(reverse("import_configure", args=[uploaded.pk]), data).content.decode()
    assert "每个字段只能对应一列" in html and 'data-testid="preview-counts"' not in html


def test_a_file_that_is_not_a_sheet_is_refused_with_a_message(client, yanhu_officer):
    client.force_login(yanhu_officer)
    response = upload(client, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n\x00\x01\x02", "名单.xlsx")
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    assert not ImportUpload.objects.exists()


def test_an_upload_belongs_to_its_uploader(client, uploaded, hejin_officer, leader):
    client.force_login(hejin_officer)
    assert client.get(reverse("import_configure", args=[uploaded.pk])).status_code == 404
    client.force_login(leader)  # reads the registry, cannot add to it
    assert client.get(reverse("import_start")).status_code == 403
    assert client.get(reverse("import_configure", args=[uploaded.pk])).status_code == 403


def test_the_template_is_a_workbook_with_the_fields_and_instructions(client, yanhu_officer):
    client.force_login(yanhu_officer)
    response = client.get(reverse("import_template"))
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert len(book.sheet_names) >= 2
    headers = [str(cell) for cell in book.get_sheet_by_index(0).to_python()[0]]
    assert any("姓名" in header for header in headers)


def test_a_large_sheet_is_checked_in_a_job_with_its_report(client, uploaded, hejin_officer, monkeypatch):
    from rencai.imports.views import importing

    monkeypatch.setattr(importing, "PREVIEW_IN_REQUEST_ROWS", 2)  # this sheet's three rows count as large
    page = client.get(reverse("import_configure", args=[uploaded.pk])).content.decode()
    response = client.post(reverse("import_configure", args=[uploaded.pk]),
                           settings_data(page, fixed_region="140802", fixed_kind="native"))
    job = Job.objects.get(kind="imports.preview")
    assert response["Location"] == reverse("job_detail", args=[job.pk])
    run_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    result_url = job.result["url"]
    html = client.get(result_url).content.decode()
    assert 'data-status-count="new"' in html and re.search(r'data-row="5" data-status="error"', html)
    report = client.get(result_url, {"report": 1})
    rows = CalamineWorkbook.from_filelike(io.BytesIO(report.content)).get_sheet_by_index(0).to_python()
    assert any("赵强" in [str(cell) for cell in row] for row in rows)
    assert not Talent.objects.exists()
    client.force_login(hejin_officer)
    assert client.get(result_url).status_code == 404
