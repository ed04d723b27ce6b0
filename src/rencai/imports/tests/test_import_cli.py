"""``rencai import``: the suggested mapping, --set, --mapping, modes, and the exit status."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from rencai.imports.mapping import save_mapping
from rencai.imports.tests.files import HEADERS, csv_file, xlsx
from rencai.talents.models import Talent
from rencai.talents.tests.helpers import id_number

pytestmark = pytest.mark.django_db

ZHANG = id_number("19850312", seq=31)


def run(*args):
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_it_imports_with_the_suggested_mapping_and_a_guessed_header(tmp_path, city_admin):
    rows = [HEADERS, ["张伟", "男", ZHANG, "1985.03", None, "本科", "盐湖区", "运城学院"]]
    path = xlsx(tmp_path / "a.xlsx", rows, title="名单")
    code, out, err = run(str(path), "--user", "city_admin")
    assert code == 0, err
    assert "新增 1" in out
    assert "表头在第 2 行" in err
    assert Talent.objects.get().work_unit == "运城学院"


def test_it_exits_non_zero_and_lists_rows_and_reasons_when_nothing_is_imported(tmp_path, city_admin):
    rows = [["姓名", "身份证号", "所属地区"], ["张伟", "1.40802E+17", "盐湖区"], ["", None, "盐湖区"],
            ["李娜", None, "火星"]]
    path = csv_file(tmp_path / "a.csv", rows)
    code, out, err = run(str(path), "--user", "city_admin")
    assert code == 1
    assert "第 2 行：身份证号：" in err and "已丢失" in err
    assert "第 3 行：姓名：姓名不能为空" in err
    assert "第 4 行：所属地区：" in err
    assert not Talent.objects.exists()
    code, out, err = run(str(path), "--user", "city_admin", "--valid-only")
    assert code == 1  # valid rows only, and none is valid


def test_set_gives_one_value_for_the_whole_file_and_modes_apply(tmp_path, city_admin):
    path = csv_file(tmp_path / "a.csv", [["名字", "手机号码"], ["张伟", "13912345678"]], encoding="gbk")
    code, out, err = run(str(path), "--user", "city_admin", "--set", "region=河津市", "--set", "kind=本土人才")
    assert code == 0, err
    talent = Talent.objects.get()
    assert (talent.region.code, talent.kind) == ("140882", "local")
    path2 = csv_file(tmp_path / "b.csv", [["名字", "手机号码", "工作单位"], ["张伟", "13912345678", "新单位"]])
    code, out, err = run(str(path2), "--user", "city_admin", "--mode", "fill")
    assert code == 0, err
    talent.refresh_from_db()
    assert talent.work_unit == "新单位"


def test_bad_arguments_and_bad_files_are_command_errors(tmp_path, city_admin):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"PK\x03\x04broken")
    with pytest.raises(CommandError, match="损坏"):
        call_command("import", str(path), "--user", "city_admin")
    good = csv_file(tmp_path / "a.csv", [["姓名"], ["张伟"]])
    with pytest.raises(CommandError, match="no such user"):
        call_command("import", str(good), "--user", "nobody")
    with pytest.raises(CommandError, match="--set"):
        call_command("import", str(good), "--user", "city_admin", "--set", "password=1")
    both = csv_file(tmp_path / "b.csv", [["姓名", "名字"], ["张伟", "张伟"]])
    with pytest.raises(CommandError, match="不明确"):
        call_command("import", str(both), "--user", "city_admin")


def test_a_saved_mapping_is_used_by_name(tmp_path, city_admin):
    save_mapping(name="河津人社", source="河津市人社局", headers=["人员", "县区"], columns={0: "name", 1: "region"},
                 fixed={"kind": "本土人才"}, header_row=0, user=city_admin)
    path = csv_file(tmp_path / "a.csv", [["人员", "县区"], ["张伟", "河津市"]])
    code, out, err = run(str(path), "--user", "city_admin", "--mapping", "河津人社")
    assert code == 0, err
    assert Talent.objects.get().kind == "local"
