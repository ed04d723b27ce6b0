"""``rencai export``: the same export from the command line, scoped by ``--user``, masked unless
``--full`` (and the role allows it), audited; bad columns and filters refused with the choices."""

from __future__ import annotations

import csv

import pytest
import python_calamine
from django.core.management import CommandError, call_command

from rencai.core.models import AuditEntry
from rencai.core.models.audit import AuditAction
from rencai.talents.choices import TalentKind
from rencai.talents.tests.helpers import make_talent, region

pytestmark = pytest.mark.django_db


@pytest.fixture
def talents(city_admin):
    make_talent(city_admin, name="张伟", region_code="140802", mobile="13912345678", work_unit="北京理工大学")
    make_talent(city_admin, name="王芳", region_code="140802", kind=TalentKind.LOCAL, work_unit="运城学院")
    make_talent(city_admin, name="李刚", region_code="140882", native_place=region("140882"), mobile="13698765432")


def sheet(path) -> list[list]:
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def last_export() -> AuditEntry:
    return AuditEntry.objects.filter(action=AuditAction.EXPORT).latest("id")


def test_it_exports_a_users_scope_with_filters(yanhu_officer, talents, tmp_path):
    out = tmp_path / "人才.xlsx"
    call_command("export", str(out), "--user", "yanhu", "--columns", "name,region,mobile", "--filter", "kind=native")
    assert sheet(out) == [["姓名", "所属地区", "手机号码"], ["张伟", "盐湖区", "139****5678"]]
    entry = last_export()
    assert entry.actor == yanhu_officer and entry.changes["via"] == "cli" and entry.changes["rows"] == 1
    assert entry.changes["filters"] == {"人才类别": "在外人才"}


def test_a_county_officer_cannot_reach_another_county(yanhu_officer, talents, tmp_path):
    out = tmp_path / "x.csv"
    with pytest.raises(CommandError, match="筛选条件无效"):
        call_command("export", str(out), "--user", "yanhu", "--filter", f"region={region('140882').pk}")
    call_command("export", str(out), "--user", "yanhu", "--columns", "name", "--q", "李刚")
    rows = list(csv.reader(out.read_text("utf-8-sig").splitlines()))
    assert rows == [["姓名"]]
    assert not (tmp_path / "x.csv.part").exists()


def test_full_values_need_a_role_that_allows_them(leader, city_admin, talents, tmp_path):
    out = tmp_path / "x.csv"
    with pytest.raises(CommandError, match="不能导出完整的个人信息"):
        call_command("export", str(out), "--user", "leader", "--columns", "name,mobile", "--full")
    assert not out.exists()
    call_command("export", str(out), "--user", "city_admin", "--columns", "name,mobile", "--full", "--q", "张伟")
    assert list(csv.reader(out.read_text("utf-8-sig").splitlines())) == [["姓名", "手机号码"], ["张伟", "13912345678"]]
    entry = last_export()
    assert entry.changes["full_personal"] is True and "含完整个人信息" in entry.message


def test_without_a_user_the_operator_exports_everything_masked(talents, tmp_path):
    out = tmp_path / "all.csv"
    call_command("export", str(out), "--columns", "name,mobile", "--sort", "name", "--encoding", "gbk")
    rows = list(csv.reader(out.read_text("gbk").splitlines()))
    assert rows[0] == ["姓名", "手机号码"] and len(rows) == 4
    assert ["李刚", "136****5432"] in rows
    entry = last_export()
    assert entry.actor is None and entry.actor_name.startswith("命令行")


@pytest.mark.parametrize("args,message", [
    (["--columns", "name,nonsense"], "没有这些列"),
    (["--filter", "colour=red"], "没有这些筛选条件"),
    (["--filter", "kind"], "KEY=VALUE"),
    (["--user", "nobody"], "没有启用的账号"),
    (["--filter", "age_min=abc"], "筛选条件无效"),
])
def test_it_refuses_bad_arguments_with_a_message(talents, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("export", str(tmp_path / "x.xlsx"), *args)
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


def test_it_lists_its_columns(capsys, refdata):
    call_command("export", "-", "--list-columns")
    out = capsys.readouterr().out
    assert "name\t姓名" in out and "id_card\t身份证号" in out


def test_csv_defuses_text_that_excel_would_run_as_a_formula(city_admin, talents, tmp_path):
    make_talent(city_admin, name="赵敏", work_unit="=HYPERLINK(\"http://x\")", position="-主任")
    out = tmp_path / "x.csv"
    call_command("export", str(out), "--columns", "name,work_unit,position,birth_date", "--q", "赵敏")
    rows = list(csv.reader(out.read_text("utf-8-sig").splitlines()))
    assert rows[1] == ["赵敏", "'=HYPERLINK(\"http://x\")", "'-主任", ""]
