"""A large sheet is read and cleaned in a second process: the import comes out the same, row for
row, as when one process does everything; errors raised while reading reach the user; a cancel
stops the reading process."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.db.models import F

from rencai.core.parallel import can_fork
from rencai.imports import pipeline
from rencai.imports.pipeline import ImportOptions, ImportRefused
from rencai.imports.readers import ImportFileError
from rencai.imports.tests.files import HEADERS, upload, xlsx
from rencai.talents.models import Talent, TalentSearchTerm
from rencai.talents.tests.helpers import id_number, make_talent

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(not can_fork(), reason="needs fork")]


def people(n: int) -> list[list]:
    rows = [HEADERS]
    for i in range(n):
        number = id_number(f"19{60 + i % 30}0{1 + i % 9}1{i % 9}", male=i % 2 == 0, seq=10 + i)
        rows.append([f"测试{i:03d}", None, number, None, f"139{i:08d}", "本科", "盐湖区" if i % 3 else "河津市",
                     f"运城第{i % 7}中学"])
    rows.append(["缺区县", "男", None, "1985.03", None, None, None, None])  # a new record would lack its region
    rows.append(rows[1][:])  # the same person twice
    return rows


def options(**kwargs) -> ImportOptions:
    return ImportOptions(columns={i: f for i, f in enumerate(["name", "gender", "id_card", "birth_date", "mobile",
                                                              "education", "region", "work_unit"])}, **kwargs)


def snapshot():
    talents = sorted(Talent.objects.values_list("name", "id_card_hash", "mobile_hash", "birth_date", "gender",
                                                "region__code", "education__code", "work_unit", "source"))
    terms = sorted(TalentSearchTerm.objects.values_list("talent__name", "term", "kind"))
    return talents, terms


@pytest.fixture
def in_one_process(monkeypatch):
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 10**9)


def run_both(tmp_path, user, monkeypatch, idle=None, **kwargs):
    """The same import twice, once in one process and once with a reading process; ``idle``
    (True, False) fixes what the reading process is told of the first one's waiting, so that
    it hands over every chunk unprepared, or none."""
    make_talent(user, name="已登记", id_card=id_number("19800101", seq=90), region_code="140802")
    up = upload(xlsx(tmp_path / "a.xlsx", people(40)), user)
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 10**9)
    alone = pipeline.run_import(up, options(**kwargs), user)
    alone_data = snapshot()
    pipeline.undo(alone, user)
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 0)
    forking = os.fork

    forks = []

    def counting_fork():
        forks.append(1)
        return forking()

    monkeypatch.setattr(os, "fork", counting_fork)
    prepared_here = []
    if idle is not None:
        from rencai.core.parallel import forked

        monkeypatch.setattr(pipeline, "CHUNK_ROWS", 7)
        monkeypatch.setattr(pipeline, "forked", lambda produce, **_kw: forked(lambda: produce(lambda: idle)))
        preparing = pipeline._Pass.prepare
        parent = os.getpid()

        def prepare(self, rows):
            if os.getpid() == parent:
                prepared_here.append(len(rows))
            return preparing(self, rows)

        monkeypatch.setattr(pipeline._Pass, "prepare", prepare)
    parallel = pipeline.run_import(upload(xlsx(tmp_path / "a.xlsx", people(40)), user), options(**kwargs), user)
    assert forks, "the rows were not read in a second process"
    if idle is not None:
        assert sum(prepared_here) == (42 if idle else 0)  # every row (40 people, 2 bad rows) or none
    return alone, alone_data, parallel, snapshot()


@pytest.mark.parametrize("idle", [None, True, False], ids=["as-it-goes", "all-handed-over", "none-handed-over"])
def test_a_large_import_comes_out_the_same_as_in_one_process(tmp_path, city_admin, monkeypatch, idle):
    alone, alone_data, parallel, parallel_data = run_both(tmp_path, city_admin, monkeypatch, idle, valid_only=True)
    assert parallel.counts == alone.counts
    assert parallel.counts["created"] == 40 and parallel.counts["errors"] == 2
    assert parallel.errors == alone.errors
    assert parallel_data == alone_data
    assert any(term == "ceshi000" for _name, term, _kind in parallel_data[1])  # pinyin of 测试000
    # Each term carries its talent's region (a county's search counts its own stretch of them).
    assert TalentSearchTerm.objects.count() > 40
    assert not TalentSearchTerm.objects.exclude(region_id=F("talent__region_id")).exists()


def test_a_large_preview_comes_out_the_same_as_in_one_process(tmp_path, city_admin, monkeypatch):
    up = upload(xlsx(tmp_path / "a.xlsx", people(30)), city_admin)
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 10**9)
    alone = pipeline.preview(up, options(), city_admin)
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 0)
    parallel = pipeline.preview(up, options(), city_admin)
    assert parallel.counts == alone.counts and parallel.errors == alone.errors
    assert [(r.number, r.status, r.display) for r in parallel.rows] == [(r.number, r.status, r.display) for r in alone.rows]
    assert parallel.rows[0].display["所属地区"] == "河津市" and parallel.rows[0].display["出生日期"].startswith("196")
    assert not Talent.objects.exists()


def test_an_error_found_while_reading_reaches_the_user_and_nothing_is_written(tmp_path, city_admin, monkeypatch):
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 0)
    up = upload(xlsx(tmp_path / "a.xlsx", people(30)), city_admin)

    reading = type(up.open()).iter_rows

    def broken(self, sheet=0):
        for number, cells in enumerate(reading(self, sheet)):
            if number == 5:
                raise ImportFileError("工作表“人才”已损坏")
            yield cells

    monkeypatch.setattr(type(up.open()), "iter_rows", broken)
    with pytest.raises(ImportFileError, match="已损坏"):
        pipeline.run_import(up, options(), city_admin)
    assert not Talent.objects.exists()


def test_a_cancel_stops_the_import_and_the_reading_process(tmp_path, city_admin, monkeypatch):
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 0)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 5)
    up = upload(xlsx(tmp_path / "a.xlsx", people(30)), city_admin)
    with pytest.raises(ImportRefused, match="取消"):
        pipeline.run_import(up, options(), city_admin, cancelled=lambda: True)
    assert not Talent.objects.exists()
    import multiprocessing

    assert not [p for p in multiprocessing.active_children() if p.name == "rencai-forked"]


def test_birth_dates_and_regions_come_through_the_second_process(tmp_path, city_admin, monkeypatch):
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 0)
    rows = people(3)[:4]
    up = upload(xlsx(tmp_path / "a.xlsx", rows), city_admin)
    pipeline.run_import(up, options(), city_admin)
    first = Talent.objects.get(name="测试000")
    assert first.birth_date == dt.date(1960, 1, 10) and first.region.code == "140882"
    assert first.mobile == "13900000000" and first.id_card == rows[1][2]


_RELEASE_SCRIPT = """
import json, os, sys
import django
django.setup()
from rencai.imports.readers import open_workbook

def pss(pid):
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        return next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))

start = pss(os.getpid())
workbook = open_workbook(sys.argv[1], "xlsx")
workbook.row_count(0)  # read whole, as an import does before forking its reading process
loaded = pss(os.getpid()) - start
reading, writing = os.pipe()
child = os.fork()
if child == 0:  # the reading process: holds the sheet (shared) until told to end
    os.close(writing)
    os.read(reading, 1)
    os._exit(0)
os.close(reading)
before = pss(os.getpid()) + pss(child)
workbook.release()
after = pss(os.getpid()) + pss(child)
os.close(writing)
os.waitpid(child, 0)
print(json.dumps({"loaded": loaded, "grown": after - before}))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"), reason="reads Linux's memory accounting")
def test_a_sheet_released_beside_the_process_reading_it_is_not_held_twice(tmp_path):
    """Freeing the sheet in the first process copies the pages it shares with the reading one,
    unless the copies are given back: measured in a fresh interpreter, as an import's would be."""
    import json
    import subprocess
    import sys

    rows = [HEADERS] + [[f"测试{i}", "男", f"1101011980010{i:05d}", "1980-01-01", f"139{i:08d}", "本科",
                         "盐湖区", f"运城第{i}中学"] for i in range(30_000)]
    path = xlsx(tmp_path / "a.xlsx", rows)
    done = subprocess.run([sys.executable, "-c", _RELEASE_SCRIPT, str(path)], capture_output=True, text=True,
                          check=True, timeout=120)
    memory = json.loads(done.stdout)
    assert memory["loaded"] > 5_000  # KiB: the sheet is big enough to tell
    # Without giving the copies back about half the sheet again (here); with it, a fifth at most.
    assert memory["grown"] < memory["loaded"] // 3, memory


def test_a_large_import_lets_go_of_its_row_keys_and_gives_the_memory_back(tmp_path, city_admin, monkeypatch):
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 0)
    passes, given_back = [], []
    monkeypatch.setattr(pipeline, "give_back_freed_memory", lambda: given_back.append(1))
    real_init = pipeline._Pass.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        passes.append(self)

    monkeypatch.setattr(pipeline._Pass, "__init__", init)
    up = upload(xlsx(tmp_path / "a.xlsx", people(20)), city_admin)
    assert up._workbook is not None  # kept from the upload's check, for the import that follows
    batch = pipeline.run_import(up, options(valid_only=True), city_admin)
    assert batch.counts["created"] == 20
    assert up._workbook is None and up.open().row_count(0) == 23  # let go, and read again if asked
    (run,) = passes
    assert run.seen_ids == {} and run.seen_with_id == {} and run.known_names is None
    assert given_back  # a worker's next job starts from what this one gave back
