"""Exports from the talent list: the file holds exactly the list's filtered, scoped rows and the
chosen columns under Chinese headers; personal values masked per role and only revealed with a
confirmation; every export audited; another county's talents out of reach by any parameter; the
background-job path with its progress page, cancel and download."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import python_calamine
from django.urls import reverse

from rencai.core.jobs import Worker
from rencai.core.models import AuditEntry, Job
from rencai.core.models.audit import AuditAction
from rencai.core.models.jobs import JobStatus
from rencai.imports import exporting
from rencai.talents.choices import TalentKind
from rencai.talents.tests.helpers import id_number, item, make_talent, region

pytestmark = pytest.mark.django_db

YANHU_ID = id_number("19850312", male=True, seq=31)
YANHU_MOBILE = "13912345678"
HEJIN_MOBILE = "13698765432"
URL = "/imports/exports/talents/"


@pytest.fixture
def talents(city_admin):
    return {
        "zhang": make_talent(city_admin, name="张伟", region_code="140802", id_card=YANHU_ID, mobile=YANHU_MOBILE,
                             work_unit="北京理工大学", gender="male", tier=item("talent_tier", "C"),
                             birth_date=__import__("datetime").date(1985, 3, 12)),
        "wang": make_talent(city_admin, name="王芳", region_code="140802", kind=TalentKind.LOCAL, work_unit="运城学院"),
        "li": make_talent(city_admin, name="李刚", region_code="140882", native_place=region("140882"),
                          mobile=HEJIN_MOBILE, work_unit="太原钢铁集团"),
    }


def read_xlsx(content: bytes) -> list[list]:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    return book.get_sheet_by_index(0).to_python()


def read_csv(content: bytes, encoding: str = "utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode(encoding))))


def post_export(client, query: str = "", **data):
    data.setdefault("columns", ["name", "region", "mobile"])
    data.setdefault("format", "xlsx")
    data.setdefault("encoding", "utf-8")
    return client.post(URL, {"query": query, **data})


def content_of(response) -> bytes:
    return b"".join(response.streaming_content)


def exports() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditAction.EXPORT).order_by("id"))


# --- rows, columns, headers ------------------------------------------------------------------------
def test_it_exports_the_filtered_rows_with_chosen_columns_and_chinese_headers(client, city_admin, talents):
    client.force_login(city_admin)
    response = post_export(client, f"kind={TalentKind.NATIVE}", columns=["name", "region", "work_unit", "tier", "age"])
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    rows = read_xlsx(content_of(response))
    assert rows[0] == ["姓名", "所属地区", "工作单位", "人才层次", "年龄"]
    body = sorted(rows[1:])
    assert [r[0] for r in body] == ["张伟", "李刚"]  # 王芳 is 本土: filtered out
    zhang = next(r for r in body if r[0] == "张伟")
    assert zhang[1] == "盐湖区" and zhang[2] == "北京理工大学" and zhang[3] == str(item("talent_tier", "C"))
    assert isinstance(zhang[4], float) and zhang[4] >= 40


def test_it_exports_search_results_as_the_list_finds_them(client, city_admin, talents):
    client.force_login(city_admin)
    rows = read_xlsx(content_of(post_export(client, "q=太原", columns=["name"])))
    assert rows == [["姓名"], ["李刚"]]


def test_it_writes_csv_with_a_bom_and_in_gbk(client, city_admin, talents):
    client.force_login(city_admin)
    response = post_export(client, "sort=name", format="csv", columns=["name", "region", "birth_date"])
    content = content_of(response)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = read_csv(content)
    assert rows[0] == ["姓名", "所属地区", "出生日期"]
    assert sorted(r[0] for r in rows[1:]) == ["张伟", "李刚", "王芳"]
    assert ["张伟", "盐湖区", "1985-03-12"] in rows
    gbk = content_of(post_export(client, "", format="csv", encoding="gbk", columns=["name"]))
    assert sorted(r[0] for r in read_csv(gbk, "gbk")[1:]) == ["张伟", "李刚", "王芳"]


def test_it_offers_the_users_list_columns_by_default(client, yanhu_officer, talents):
    client.force_login(yanhu_officer)
    page = client.get(URL + "?kind=native&after=xyz").content.decode()
    assert 'name="query" value="kind=native"' in page  # the page's cursor is not a filter
    assert "将导出 1 条记录" in page
    import re

    checked = re.findall(r'<input type="checkbox" name="columns" value="(\w+)"[^>]*checked', page)
    assert checked[:3] == ["name", "gender", "age"]  # TalentTable's default columns, in order
    assert "id_card" not in checked and 'value="id_card"' in page  # offered, not ticked


# --- scope --------------------------------------------------------------------------------------------
def test_a_county_officer_exports_only_their_county(client, yanhu_officer, talents):
    client.force_login(yanhu_officer)
    rows = read_xlsx(content_of(post_export(client, "", columns=["name", "region"])))
    assert sorted(r[0] for r in rows[1:]) == ["张伟", "王芳"]


@pytest.mark.parametrize("query", [
    "region={hejin}", "native_place={hejin}&region={hejin}", "q=李刚", "q=" + HEJIN_MOBILE, "liaison_officer=1",
])
def test_no_parameter_reaches_another_county(client, yanhu_officer, talents, query):
    client.force_login(yanhu_officer)
    query = query.format(hejin=region("140882").pk)
    response = post_export(client, query, columns=["name", "region"])
    if response.status_code == 200 and response.get("Content-Disposition"):
        names = [r[0] for r in read_xlsx(content_of(response))[1:]]
        assert "李刚" not in names
    else:
        assert response.status_code == 200
        assert "筛选条件无效" in response.content.decode()


def test_it_refuses_without_view_permission(client, system_admin, talents):
    client.force_login(system_admin)
    assert client.get(URL).status_code == 403
    assert post_export(client).status_code == 403
    assert exports() == []


def test_it_refuses_an_unknown_column(client, city_admin, talents):
    client.force_login(city_admin)
    response = post_export(client, columns=["name", "id_card_hash"])
    assert response.status_code == 200 and "Content-Disposition" not in response
    assert exports() == []


# --- personal data ----------------------------------------------------------------------------------
def test_it_masks_personal_values_by_default(client, city_admin, talents):
    client.force_login(city_admin)
    rows = read_xlsx(content_of(post_export(client, "q=张伟", columns=["name", "id_card", "mobile"])))
    assert rows[0] == ["姓名", "身份证号", "手机号码"]
    assert rows[1] == ["张伟", YANHU_ID[:6] + "********" + YANHU_ID[-4:], "139****5678"]
    entry = exports()[-1]
    assert entry.changes["full_personal"] is False and entry.changes["rows"] == 1
    assert "脱敏" in entry.message


def test_full_values_need_the_confirmation(client, city_admin, talents):
    client.force_login(city_admin)
    response = post_export(client, "q=张伟", columns=["name", "id_card", "mobile"], full_personal="on")
    assert "Content-Disposition" not in response
    assert "须勾选此项确认" in response.content.decode()
    assert exports() == []
    response = post_export(client, "q=张伟", columns=["name", "id_card", "mobile"], full_personal="on", confirm="on")
    assert read_xlsx(content_of(response))[1] == ["张伟", YANHU_ID, YANHU_MOBILE]
    entry = exports()[-1]
    assert entry.actor == city_admin
    assert entry.changes["full_personal"] is True
    assert entry.changes["personal_columns"] == ["id_card", "mobile"]
    assert "含完整个人信息" in entry.message
    assert YANHU_ID not in str(entry.changes) and YANHU_MOBILE not in str(entry.changes)


def test_a_leader_gets_masked_values_whatever_is_posted(client, leader, talents):
    client.force_login(leader)
    page = client.get(URL).content.decode()
    assert 'name="full_personal"' not in page
    response = post_export(client, "q=张伟", columns=["name", "mobile"], full_personal="on", confirm="on")
    assert read_xlsx(content_of(response))[1] == ["张伟", "139****5678"]
    assert exports()[-1].changes["full_personal"] is False


def test_the_engine_refuses_full_values_to_a_role_without_them(leader, talents):
    spec = exporting.ExportSpec(columns=["name", "mobile"], full_personal=True, confirmed=True)
    with pytest.raises(exporting.PermissionDenied):
        exporting.prepare_export(spec, leader)


# --- the background job -------------------------------------------------------------------------------
def test_a_large_export_runs_as_a_job_with_a_download(client, yanhu_officer, talents, monkeypatch, settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    monkeypatch.setattr(exporting, "DIRECT_EXPORT_ROWS", 1)
    client.force_login(yanhu_officer)
    response = post_export(client, "", columns=["name", "mobile"], format="csv")
    job = Job.objects.get(kind="imports.export")
    assert response.status_code == 302 and response["Location"] == reverse("export_job", kwargs={"pk": job.pk})
    assert job.params["columns"] == ["name", "mobile"] and "user" not in job.params
    page = client.get(response["Location"]).content.decode()
    assert "取消任务" in page and 'hx-trigger="every 1s"' in page
    assert Worker().run_once() == JobStatus.SUCCEEDED
    job.refresh_from_db()
    page = client.get(reverse("export_job", kwargs={"pk": job.pk})).content.decode()
    assert "下载文件" in page and "every 1s" not in page
    download = client.get(reverse("export_download", kwargs={"pk": job.pk}))
    rows = read_csv(content_of(download))
    assert rows[0] == ["姓名", "手机号码"]
    assert sorted(rows[1:]) == [["张伟", "139****5678"], ["王芳", ""]]
    actions = [(e.changes.get("via"), e.changes.get("download")) for e in exports()]
    assert actions == [("job", None), (None, True)]


def test_another_user_cannot_see_or_download_an_export_job(client, yanhu_officer, city_admin, talents, monkeypatch,
                                                          settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    monkeypatch.setattr(exporting, "DIRECT_EXPORT_ROWS", 0)
    client.force_login(yanhu_officer)
    post_export(client, "")
    job = Job.objects.get(kind="imports.export")
    Worker().run_once()
    client.force_login(city_admin)
    for name in ("export_job", "export_download"):
        assert client.get(reverse(name, kwargs={"pk": job.pk})).status_code == 404


def test_a_cancelled_export_job_leaves_no_file(client, city_admin, talents, monkeypatch, settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    monkeypatch.setattr(exporting, "DIRECT_EXPORT_ROWS", 0)
    client.force_login(city_admin)
    post_export(client, "")
    job = Job.objects.get(kind="imports.export")
    assert client.post(reverse("export_cancel", kwargs={"pk": job.pk})).status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert Worker().run_once() is None
    assert not any((tmp_path / "exports").glob("*")) if (tmp_path / "exports").exists() else True
    assert exports() == []


def test_a_running_export_job_stops_when_cancelled(city_admin, talents, monkeypatch, settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    monkeypatch.setattr(exporting, "CHUNK_ROWS", 1)
    from rencai.core import jobs

    job = jobs.enqueue("imports.export", exporting.ExportSpec(columns=["name"]).as_params(), city_admin)
    calls = {"n": 0}
    real = jobs.JobContext.cancelled

    def cancel_after_first(ctx):
        calls["n"] += 1
        if calls["n"] == 2:
            jobs.request_cancel(Job.objects.get(pk=ctx.job.pk), city_admin)
        return real(ctx)

    monkeypatch.setattr(jobs.JobContext, "cancelled", cancel_after_first)
    assert Worker().run_once() == JobStatus.CANCELLED
    assert list((tmp_path / "exports").glob("*")) == []
    assert exports() == []
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


def test_old_export_files_are_swept(settings, tmp_path):
    import os
    import time

    settings.EXPORT_DIR = tmp_path
    old, new = tmp_path / "old.xlsx", tmp_path / "new.xlsx"
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    past = time.time() - (exporting.KEEP_HOURS + 1) * 3600
    os.utime(old, (past, past))
    assert exporting.sweep_exports() == 1
    assert not old.exists() and new.exists()


# --- the list page's button ---------------------------------------------------------------------------
def test_the_list_page_links_to_the_export_of_its_filters(client, city_admin, talents):
    client.force_login(city_admin)
    page = client.get("/talents/?kind=native&sort=name").content.decode()
    assert 'id="talent-export-link"' in page
    assert f'href="{URL}?kind=native&amp;sort=name"' in page
    fragment = client.get("/talents/?kind=local", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="object-list-results")
    assert f'href="{URL}?kind=local"' in fragment.content.decode()


def test_xlsx_also_opens_in_openpyxl(client, city_admin, talents):
    client.force_login(city_admin)
    content = content_of(post_export(client, "sort=name", columns=["name", "birth_date", "updated_at"]))
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "出生日期", "更新时间")
    assert rows[1][0] == "张伟" and rows[1][1].date() == __import__("datetime").date(1985, 3, 12)
    assert rows[1][2] is not None


def test_it_exports_to_many_columns_and_keeps_the_lists_sort(client, city_admin, talents):
    from rencai.talents.models import Tag, TalentDatabase
    from rencai.talents.services import save_talent

    database = TalentDatabase.objects.order_by("sort_order").first()
    tags = [Tag.objects.create(name="乡贤"), Tag.objects.create(name="博士")]
    zhang = talents["zhang"]
    zhang.refresh_from_db()
    save_talent(zhang, user=city_admin, databases=[database], tags=tags, expected_version=zhang.version)
    client.force_login(city_admin)
    rows = read_xlsx(content_of(post_export(client, "sort=-name", columns=["name", "databases", "tags"])))
    assert rows[0] == ["姓名", "所属人才库", "标签"]
    assert [r[0] for r in rows[1:]] == sorted(["张伟", "王芳", "李刚"], reverse=True)
    zhang_row = next(r for r in rows if r[0] == "张伟")
    assert zhang_row[1] == database.name and sorted(zhang_row[2].split("、")) == ["乡贤", "博士"]
    assert next(r for r in rows if r[0] == "王芳")[1:] == ["", ""]
