"""How fast a county's sheet goes into the registry: an import end to end, at scale.

Builds a scratch database (an SQLite file, or a PostgreSQL database named
``rencai_bench_imports``) with the reference data, writes a generated .xlsx of N talents and 15
columns (姓名, 性别, 身份证号, 出生日期, 手机号码, 民族, 政治面貌, 最高学历, 最高学位, 所属地区, 籍贯,
工作单位, 职务, 专业技术职称, 电子邮箱; valid ID numbers, a few per cent without one), and times
what a user waits for: storing the upload (hash, type check), reading it with python-calamine,
cleaning and matching every row, writing talents and their search terms in one transaction,
and the commit, in a process started as ``rencai worker`` starts (the segmenter and pinyin
tables loaded). A sheet this large is read and cleaned in a second process of the import's own
(``core.parallel``); CPU time counts both processes, and peak memory is their proportional set
size (PSS) together, sampled every 0.1 s (``MemorySampler``).

The .xlsx is written here, in a process of its own, by a small streaming writer laid out as
Excel saves a workbook (shared strings, cell references): openpyxl would need about ten minutes
for a million rows.

``--compare``: the same first 10,000 rows into the same model with django-import-export 4 (a
``ModelResource`` with widgets mapping 男/女, dictionary labels and region codes; its defaults
otherwise), the tool a Django shop would pick, in the same run.

Usage (from the checkout):

    .venv/bin/python bench/imports.py --rows 1000000 --db sqlite --repeat 3 --write
    .venv/bin/python bench/imports.py --rows 10000 --compare --db sqlite --write
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from common import ROOT, drop_postgres, scratch_env

PG_DATABASE = "rencai_bench_imports"
HEADERS = ["姓名", "性别", "身份证号", "出生日期", "手机号码", "民族", "政治面貌", "最高学历", "最高学位", "所属地区",
           "籍贯", "工作单位", "职务", "专业技术职称", "电子邮箱"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文海波宁斌鹏飞燕晨辉梅琳宇浩凯鑫婷雪慧佳欣然思雨晓东亮"
COUNTIES = ["140802", "140821", "140822", "140823", "140824", "140825", "140826", "140827", "140828", "140829",
            "140830", "140881", "140882"]
UNITS = ["北京大学", "清华大学", "中国科学院", "山西大学", "太原理工大学", "运城学院", "国家电网山西省电力公司",
         "中国建设银行北京分行", "华为技术有限公司", "西安交通大学", "复旦大学附属中山医院", "山西焦煤集团",
         "运城市中心医院", "深圳市腾讯计算机系统有限公司", "中国农业科学院"]
POSITIONS = ["教授", "副教授", "研究员", "高级工程师", "主任医师", "总经理", "处长", "副主任", "工程师", "讲师", ""]
TITLES = ["教授", "副教授", "研究员", "副研究员", "高级工程师", "工程师", "主任医师", "副主任医师", ""]
ETHNICITIES = ["汉族"] * 20 + ["回族", "满族", "蒙古族"]
POLITICAL = ["中共党员", "群众", "中共党员", "九三学社社员", "无党派人士", "共青团员"]
EDUCATION = ["研究生", "硕士研究生", "博士研究生", "大学本科", "本科", "大专"]
DEGREES = ["博士", "硕士", "学士", ""]
CHECK = "10X98765432"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(county: str, birth: str, sequence: int) -> str:
    first = f"{county}{birth}{sequence:03d}"
    return first + CHECK[sum(int(d) * w for d, w in zip(first, WEIGHTS, strict=True)) % 11]


def generated_rows(n: int, seed: int = 7):
    """N talents as the cells of a county's sheet: distinct valid ID numbers, 3% without one."""
    import datetime as dt

    rng = random.Random(seed)
    for i in range(n):
        # (county, birth date, sequence) follows from i, so every ID number is distinct.
        county = COUNTIES[i % len(COUNTIES)]
        k = i // len(COUNTIES)
        sequence = 100 + k % 100
        born = dt.date(1950, 1, 1) + dt.timedelta(days=(k // 100) * 23 % 17500)
        male = sequence % 2 == 1
        year, month, day = born.year, born.month, born.day
        number = id_number(county, born.strftime("%Y%m%d"), sequence) if rng.random() > 0.03 else ""
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.5 else "")
        yield [
            name, "男" if male else "女", number, f"{year}-{month:02d}-{day:02d}", f"1{rng.randrange(30, 99)}{i:08d}",
            rng.choice(ETHNICITIES), rng.choice(POLITICAL), rng.choice(EDUCATION), rng.choice(DEGREES), county,
            rng.choice(COUNTIES), rng.choice(UNITS), rng.choice(POSITIONS), rng.choice(TITLES),
            f"user{i}@example.com" if rng.random() < 0.3 else "",
        ]


_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="人才" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"""


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def write_xlsx(path: Path, rows) -> None:
    """An .xlsx as Excel saves one: every text in the shared-strings table, cells by reference
    (``<c r="B7" t="s"><v>12</v></c>``), empty cells left out, deflate at zlib's default level.
    Streamed into the zip row by row; only the table of distinct strings is held."""
    strings: dict[str, int] = {}
    letters = [_column(i) for i in range(len(HEADERS))]

    def row_xml(index: int, cells) -> str:
        inner = []
        for column, value in enumerate(cells):
            if value:
                number = strings.setdefault(value, len(strings))
                inner.append(f'<c r="{letters[column]}{index}" t="s"><v>{number}</v></c>')
        return f'<row r="{index}">{"".join(inner)}</row>'

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.'
                        b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            buffer = [row_xml(1, HEADERS)]
            for index, cells in enumerate(rows, 2):
                buffer.append(row_xml(index, cells))
                if len(buffer) >= 5000:
                    sheet.write("".join(buffer).encode("utf-8"))
                    buffer = []
            sheet.write("".join(buffer).encode("utf-8"))
            sheet.write(b"</sheetData></worksheet>")
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as table:
            table.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.'
                        f'openxmlformats.org/spreadsheetml/2006/main" uniqueCount="{len(strings)}">'.encode())
            buffer = []
            for text in strings:
                buffer.append(f"<si><t>{escape(text)}</t></si>")
                if len(buffer) >= 20_000:
                    table.write("".join(buffer).encode("utf-8"))
                    buffer = []
            table.write("".join(buffer).encode("utf-8"))
            table.write(b"</sst>")


class MemorySampler:
    """The import's peak memory: this process and its children (the import's reading process),
    by proportional set size (PSS), sampled every 0.1 s. PSS counts a page two processes share
    (the sheet a forked child reads from its parent) once, split between them, so the sum is
    what the machine actually gives; the sum of their maximum resident sizes would count the
    shared sheet twice."""

    def __init__(self):
        import threading

        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _pss_kb(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return 0

    @staticmethod
    def _children(pid: int) -> list[int]:
        found = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                found += [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                continue
        return found

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.1):
            total = self._pss_kb(me) + sum(self._pss_kb(child) for child in self._children(me))
            self.peak_mb = max(self.peak_mb, total / 1024)


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from rencai.core.refdata import load_reference_data

    load_reference_data()


def bench_user():
    from rencai.core.models import Region, Role, User

    user, _created = User.objects.get_or_create(username="bench_admin", defaults={"full_name": "导入测试"})
    user.roles.set(Role.objects.filter(code="city_admin"))
    user.regions.set(Region.objects.filter(code="140800"))
    return User.objects.get(pk=user.pk)


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (the import's reading process)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def rencai_import(path: Path, user) -> tuple[float, object]:
    from rencai.core import audit
    from rencai.imports.mapping import suggest
    from rencai.imports.pipeline import ImportOptions, run_import
    from rencai.imports.readers import store_upload

    started = time.perf_counter()
    with audit.acting(user):
        upload = store_upload(path, user)
        columns = {i: f for i, f in enumerate(suggest(HEADERS)) if f}
        batch = run_import(upload, ImportOptions(columns=columns), user)
    return time.perf_counter() - started, batch


def import_export_run(path: Path, user) -> float:
    """django-import-export 4 on the same rows and model: a ModelResource with the widgets a
    user would write for these columns, dry_run off, its defaults otherwise."""
    import tablib
    from import_export import fields, resources, widgets

    from rencai.core import audit
    from rencai.core.models import DictionaryItem, Region
    from rencai.talents.models import Talent

    class DictionaryWidget(widgets.ForeignKeyWidget):
        def __init__(self, code):
            super().__init__(DictionaryItem, field="label")
            self.code = code

        def get_queryset(self, value, row, *args, **kwargs):
            return DictionaryItem.objects.filter(dictionary__code=self.code)

        def clean(self, value, row=None, **kwargs):
            if not value:
                return None
            found = DictionaryItem.objects.filter(dictionary__code=self.code).filter(
                label=value).first() or DictionaryItem.objects.filter(
                dictionary__code=self.code, synonyms__icontains=value).first()
            return found

    class GenderWidget(widgets.Widget):
        def clean(self, value, row=None, **kwargs):
            return {"男": "male", "女": "female"}.get(value, "")

    text = widgets.CharWidget(allow_blank=True)  # an empty cell is "", as the columns are NOT NULL

    class TalentResource(resources.ModelResource):
        name = fields.Field(attribute="name", column_name="姓名", widget=text)
        gender = fields.Field(attribute="gender", column_name="性别", widget=GenderWidget())
        id_card = fields.Field(attribute="id_card", column_name="身份证号", widget=text)
        birth_date = fields.Field(attribute="birth_date", column_name="出生日期", widget=widgets.DateWidget("%Y-%m-%d"))
        mobile = fields.Field(attribute="mobile", column_name="手机号码", widget=text)
        ethnicity = fields.Field(attribute="ethnicity", column_name="民族", widget=DictionaryWidget("ethnicity"))
        political_status = fields.Field(attribute="political_status", column_name="政治面貌",
                                        widget=DictionaryWidget("political_status"))
        education = fields.Field(attribute="education", column_name="最高学历", widget=DictionaryWidget("education"))
        degree = fields.Field(attribute="degree", column_name="最高学位", widget=DictionaryWidget("degree"))
        region = fields.Field(attribute="region", column_name="所属地区", widget=widgets.ForeignKeyWidget(Region, "code"))
        native_place = fields.Field(attribute="native_place", column_name="籍贯",
                                    widget=widgets.ForeignKeyWidget(Region, "code"))
        work_unit = fields.Field(attribute="work_unit", column_name="工作单位", widget=text)
        position = fields.Field(attribute="position", column_name="职务", widget=text)
        title = fields.Field(attribute="title", column_name="专业技术职称", widget=text)
        email = fields.Field(attribute="email", column_name="电子邮箱", widget=text)

        class Meta:
            model = Talent
            fields = ("name", "gender", "id_card", "birth_date", "mobile", "ethnicity", "political_status", "education",
                      "degree", "region", "native_place", "work_unit", "position", "title", "email")
            import_id_fields = ()
            use_transactions = True

        def before_save_instance(self, instance, row, **kwargs):
            instance.kind = "native"

    started = time.perf_counter()
    with audit.acting(user):
        dataset = tablib.Dataset().load(path.read_bytes(), format="xlsx")
        result = TalentResource().import_data(dataset, dry_run=False, raise_errors=False)
    seconds = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        first = (result.row_errors() or [(0, [None])])[0]
        print("django-import-export reported errors:", first, result.invalid_rows[:1], file=sys.stderr)
    return seconds


def clear_talents() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("talents_talentsearchterm", "talents_talent_databases", "talents_talent_tags",
                      "talents_talent"):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed table names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--compare", action="store_true", help="also django-import-export on the same rows")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (medians reported)")
    parser.add_argument("--again", action="store_true", help="also import the same file again (every row matched)")
    parser.add_argument("--keep", default="", help="keep the scratch folder here (for profiling)")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    scratch_dir = tempfile.TemporaryDirectory(prefix="rencai-bench-")
    scratch = Path(args.keep or scratch_dir.name)
    scratch.mkdir(parents=True, exist_ok=True)
    env = scratch_env(args.db, scratch, PG_DATABASE)
    path = scratch / f"talents-{args.rows}.xlsx"
    started = time.perf_counter()
    if not path.exists():
        # In a process of its own: the table of distinct strings is not the import's memory.
        import multiprocessing

        writer = multiprocessing.get_context("fork").Process(target=write_xlsx, args=(path, generated_rows(args.rows)))
        writer.start()
        writer.join()
    print(f"wrote {path.name}: {path.stat().st_size / 2**20:.0f} MB in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    env["RENCAI_IMPORT_MAX_ROWS"] = str(max(args.rows, 1_000_000))
    setup_django(env)
    user = bench_user()
    # An import runs as a job of ``rencai worker``, which loads the word segmenter and the pinyin
    # tables when it starts (``serving.prepare_worker``): so does this process, before the clock.
    from rencai import serving

    serving.prepare_worker()
    ours, theirs, our_cpu, their_cpu, peaks, again = [], [], [], [], [], []
    loads = [os.getloadavg()[0]]
    for _ in range(args.repeat):
        clear_talents()
        cpu = cpu_seconds()
        with MemorySampler() as memory:
            seconds, batch = rencai_import(path, user)
        ours.append(seconds)
        our_cpu.append(cpu_seconds() - cpu)
        peaks.append(memory.peak_mb)
        loads.append(os.getloadavg()[0])
        print(f"rencai: {seconds:.1f} s ({our_cpu[-1]:.1f} s CPU), {args.rows / seconds:,.0f} rows/s, "
              f"peak {memory.peak_mb:,.0f} MB; {batch.counts}", file=sys.stderr)
        if args.again:
            # The same file again, into the registry it just filled: every row is matched (by its
            # ID number, or by name and birth date) and skipped.
            with MemorySampler() as memory:
                seconds, batch = rencai_import(path, user)
            again.append(seconds)
            print(f"rencai again: {seconds:.1f} s, {args.rows / seconds:,.0f} rows/s, peak {memory.peak_mb:,.0f} MB; "
                  f"{batch.counts}", file=sys.stderr)
        if args.compare:
            clear_talents()
            cpu = cpu_seconds()
            seconds = import_export_run(path, user)
            theirs.append(seconds)
            their_cpu.append(cpu_seconds() - cpu)
            print(f"django-import-export: {seconds:.1f} s ({their_cpu[-1]:.1f} s CPU), {args.rows / seconds:,.0f} rows/s",
                  file=sys.stderr)
    peak_mb = max(peaks)
    from django.db import connections

    connections.close_all()
    if args.db == "postgres":
        drop_postgres(PG_DATABASE)
    if args.write:
        import statistics

        from bench_report import write_section

        median = statistics.median(ours)
        rows = [(f"rencai import, {args.rows:,} rows x 15 columns (.xlsx, end to end)", median * 1000, max(ours) * 1000)]
        cpu = statistics.median(our_cpu)
        notes = [f"rencai: {args.rows / median:,.0f} rows/s wall clock (median of {args.repeat}), "
                 f"{cpu:.0f} s of CPU time over its two processes; peak memory {peak_mb:,.0f} MB (PSS of the "
                 f"import's processes together, sampled every 0.1 s). The file is written as Excel saves one "
                 f"(shared strings, {path.stat().st_size / 2**20:.0f} MB). Load average on the machine "
                 f"{min(loads):.1f}–{max(loads):.1f} during the runs (2 cores)."]
        if args.rows >= 10_000 * 100:
            rate = args.rows / median
            notes.append(f"{'Meets' if rate >= 10_000 else 'Misses'} the target of 10,000 rows/s; "
                         f"{'meets' if peak_mb <= 2048 else 'misses'} the 2 GB one.")
        if again:
            again_median = statistics.median(again)
            rows.append(("the same file again into the registry it filled (every row matched, skipped)",
                         again_median * 1000, max(again) * 1000))
            notes.append(f"Imported again, every row is matched against the registry it filled (by ID number "
                         f"through the keyed hash, or by name and birth date) and skipped: "
                         f"{args.rows / again_median:,.0f} rows/s.")
        if theirs:
            their_median = statistics.median(theirs)
            rows.append(("django-import-export 4, same rows and model", their_median * 1000, max(theirs) * 1000))
            their = statistics.median(their_cpu)
            notes.append(f"django-import-export: {args.rows / their_median:,.0f} rows/s wall clock ({their:.0f} s CPU); "
                         f"rencai is {their_median / median:.1f}x faster by wall clock, {their / cpu:.1f}x by CPU time. "
                         "django-import-export saves row by row through Talent.save(), so each row also writes "
                         "its hash-chained change-log entry, and its foreign-key widgets query per cell; rencai "
                         "writes in bulk and audits the batch once.")
        key = f"imports-{args.db}" + ("-compare" if args.compare else "")
        command = f".venv/bin/python bench/imports.py --rows {args.rows} --db {args.db} --repeat {args.repeat}" + (
            " --compare" if args.compare else "") + (" --again" if args.again else "") + " --write"
        write_section(key, f"Import of talents from .xlsx ({args.db}{', against django-import-export' if args.compare else ''})",
                      command, rows, " ".join(notes))


if __name__ == "__main__":
    main()
