"""The cockpit's in-memory columns against fresh GROUP BY queries: the same figures on the demo,
and still the same after every kind of write — creates, edits, bulk edits, raw updates, merges
and their undo, deletes, an import and its undo, contacts and their requests — read as changes
(not by loading everything again), and after another connection's commits, in any order."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from rencai.core.testing import PASSWORD
from rencai.dashboards import replica, services
from rencai.dashboards.cockpit import CockpitQuery
from rencai.demo import run_demo
from rencai.imports import pipeline
from rencai.imports.dedupe import merge
from rencai.imports.mapping import suggest
from rencai.imports.pipeline import ImportOptions
from rencai.imports.tests.files import HEADERS, upload, xlsx
from rencai.liaison import demo as liaison_demo
from rencai.liaison import services as liaison_services
from rencai.liaison.choices import Channel, RequestStatus
from rencai.liaison.models import ContactRecord
from rencai.talents import services as talent_services
from rencai.talents.choices import TalentKind
from rencai.talents.models import Talent, TalentDatabase
from rencai.talents.tests.helpers import id_number, item, make_talent, region

pytestmark = pytest.mark.django_db


def cockpit(user, filters=None, *, fresh: bool) -> str:
    return json.dumps(services.cockpit_data(CockpitQuery(user, dict(filters or {}), fresh=fresh)),
                      sort_keys=True, default=str, ensure_ascii=False)


def figures(user, filters=None) -> dict[str, int]:
    data = services.cockpit_data(CockpitQuery(user, dict(filters or {})))
    return {f["key"]: f["value"] for s in data for f in s["figures"]}


def assert_same(user, filters=None) -> None:
    """The columns' cockpit is the queries' cockpit, figure for figure and bar for bar."""
    columns = cockpit(user, filters, fresh=False)
    assert columns == cockpit(user, filters, fresh=True)


def test_the_columns_give_the_queries_cockpit_on_the_demo(refdata, monkeypatch, city_staff, hejin_officer, leader):
    day = timezone.localdate()
    monkeypatch.setattr(liaison_demo, "run_day", lambda: day)
    run_demo(password=PASSWORD)
    tier = item("talent_tier", "C")
    database = TalentDatabase.objects.order_by("pk").first()
    hejin = region("140882")
    cases = [
        {},
        {"kind": TalentKind.NATIVE, "registered_from": day - dt.timedelta(days=3 * 365)},
        {"tier": tier, "database": database},
        {"region": hejin, "region_ids": [hejin.pk], "registered_to": day - dt.timedelta(days=400)},
        {"kind": TalentKind.LOCAL, "registered_from": day - dt.timedelta(days=700), "registered_to": day - dt.timedelta(days=30)},
    ]
    for user in (city_staff, hejin_officer, leader):
        for filters in cases:
            assert_same(user, filters)
    assert figures(city_staff)["total"] == Talent.objects.count() > 0
    assert figures(hejin_officer)["total"] == Talent.objects.filter(region__path__startswith=hejin.path).count()
    assert replica.replica().loads == 1  # one copy, read once, answered every case


def options() -> ImportOptions:
    return ImportOptions(columns={i: f for i, f in enumerate(suggest(HEADERS)) if f}, mode="update")


def test_every_write_keeps_the_figures_exact_without_reading_everything_again(tmp_path, city_admin, yanhu_officer):
    views = [(city_admin, {}), (city_admin, {"kind": TalentKind.NATIVE}), (yanhu_officer, {})]

    def check():
        for user, filters in views:
            assert_same(user, filters)

    zhang = make_talent(city_admin, name="张伟", tier=item("talent_tier", "C"), research_fields="人工智能；材料")
    li = make_talent(city_admin, name="李娜", region_code="140882", kind=TalentKind.LOCAL)
    check()
    loads = replica.replica().loads
    assert loads == 1

    # Created (a new id) and edited through the service, with its 库 and research fields.
    wang = make_talent(city_admin, name="王强", research_fields="人工智能；新能源", birth_date=dt.date(1980, 5, 1))
    assert figures(city_admin)["total"] == 3
    check()
    zhang.tier = item("talent_tier", "A")
    zhang.research_fields = "量子计算"
    zhang.kind = TalentKind.LOCAL
    zhang.category = None
    local_databases = list(TalentDatabase.objects.exclude(kind=TalentKind.NATIVE).order_by("pk")[:2])
    talent_services.save_talent(zhang, user=city_admin, databases=local_databases[:1])
    check()
    # A bulk edit, and a raw update no model method sees.
    talent_services.bulk_update_talents(Talent.objects.filter(pk__in=[li.pk, zhang.pk]), user=city_admin,
                                        changes={"tier": item("talent_tier", "B")}, add_databases=local_databases)
    check()
    Talent.objects.filter(pk=wang.pk).update(region=region("140802"), birth_date=None, work_country="日本")
    check()
    # A merge, and its undo (which puts the merged talent back under its old id).
    result = merge.merge_talents(Talent.objects.get(pk=zhang.pk), Talent.objects.get(pk=wang.pk), user=city_admin)
    assert figures(city_admin)["total"] == 2
    check()
    merge.undo_merge(result, user=city_admin)
    assert figures(city_admin)["total"] == 3
    check()
    # Deleted.
    talent_services.delete_talent(Talent.objects.get(pk=li.pk), user=city_admin)
    assert figures(city_admin)["total"] == 2
    check()
    # An import of new and matched rows, then its undo.
    rows = [HEADERS,
            ["赵敏", "女", id_number("19900101", male=False, seq=41), "1990.01", None, "本科", "盐湖区", None],
            ["钱进", "男", id_number("19780520", seq=43, county="140882"), "1978.05", None, "大专", "河津市", "河津市人民医院"]]
    batch = pipeline.run_import(upload(xlsx(tmp_path / "a.xlsx", rows), city_admin), options(), city_admin)
    assert batch.counts["created"] == 2
    assert figures(city_admin)["total"] == 4
    check()
    pipeline.undo(batch, city_admin)
    assert figures(city_admin)["total"] == 2
    check()
    # Contacts, a request and its closing, then the contact's deletion.
    contact = ContactRecord(channel=Channel.PHONE, contacted_at=timezone.now(), staff=city_admin)
    contact = liaison_services.save_contact(contact, user=city_admin, talents=[zhang],
                                            requests=[{"content": "子女入学", "talent": zhang}])
    assert figures(city_admin)["contacts_month"] == 1 and figures(city_admin)["open_requests"] == 1
    check()
    request = contact.requests.get()
    request.status = RequestStatus.DONE
    liaison_services.save_request(request, user=city_admin)
    assert figures(city_admin)["open_requests"] == 0
    check()
    liaison_services.delete_contact(contact, user=city_admin)
    assert figures(city_admin)["contacts_month"] == 0
    check()
    assert replica.replica().loads == loads  # every step was read from the change log


def test_many_changes_at_once_read_the_table_again(city_admin, monkeypatch):
    monkeypatch.setattr(replica, "RELOAD_MIN", 2)
    for i in range(3):
        make_talent(city_admin, name=f"张伟{i}")
    assert_same(city_admin)
    before = replica.replica().table_loads
    Talent.objects.update(kind=TalentKind.LOCAL, category=None)  # every row: read the table whole
    assert_same(city_admin)
    assert replica.replica().table_loads > before


def test_the_change_log_is_pruned_and_an_idle_copy_is_read_again(city_admin):
    from rencai.dashboards.models import Change

    talent = make_talent(city_admin)
    assert_same(city_admin)
    Talent.objects.filter(pk=talent.pk).update(kind=TalentKind.LOCAL, category=None)
    assert Change.objects.filter(table_name="talents_talent", row_id=talent.pk).exists()
    Change.objects.update(created_at=timezone.now() - dt.timedelta(seconds=replica.LOG_KEPT + 60))
    copy = replica.replica()
    copy._prune()
    if connection.vendor == "postgresql":
        assert Change.objects.exists()  # this test's transaction is still open: its rows stay
    else:
        assert not Change.objects.exists()
    loads = copy.loads
    copy.refreshed_at -= replica.MAX_IDLE + 1
    assert_same(city_admin)
    assert copy.loads == loads + 1


def _in_thread(fn):
    """Run ``fn`` on its own connection, as another request would."""
    errors = []

    def target():
        try:
            fn()
        except Exception as exc:  # noqa: BLE001  (re-raised in the test)
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, errors


@pytest.mark.django_db(transaction=True)
def test_another_connections_commits_are_seen(refdata, city_admin):
    talent = make_talent(city_admin)
    assert_same(city_admin)
    thread, errors = _in_thread(lambda: Talent.objects.filter(pk=talent.pk).update(kind=TalentKind.LOCAL, category=None))
    thread.join()
    assert not errors
    assert figures(city_admin)["local"] == 1
    assert_same(city_admin)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite writers take turns: commits come in order")
def test_a_transaction_that_commits_after_a_later_one_is_not_missed(refdata, city_admin):
    first = make_talent(city_admin, name="张伟")
    second = make_talent(city_admin, name="李娜")
    assert_same(city_admin)
    started, release = threading.Event(), threading.Event()

    def slow():
        with transaction.atomic():  # takes its transaction id first, commits last
            Talent.objects.filter(pk=first.pk).update(kind=TalentKind.LOCAL, category=None)
            started.set()
            release.wait(30)

    thread, errors = _in_thread(slow)
    assert started.wait(30)
    quick, quick_errors = _in_thread(lambda: Talent.objects.filter(pk=second.pk).update(kind=TalentKind.LOCAL, category=None))
    quick.join()
    assert figures(city_admin)["local"] == 1  # the later transaction's change, seen while the first runs
    release.set()
    thread.join()
    assert not errors and not quick_errors
    assert figures(city_admin)["local"] == 2
    assert_same(city_admin)


def test_a_bulk_load_leaves_almost_nothing_in_the_log(city_admin):
    from rencai.dashboards.models import Change

    assert_same(city_admin)
    Change.objects.all().delete()
    Talent.objects.bulk_create([Talent(name=f"张伟{i}", region=region("140802"), kind=TalentKind.LOCAL) for i in range(50)])
    logged = list(Change.objects.filter(table_name="talents_talent").values_list("row_id", "row_end"))
    ids = sorted(Talent.objects.values_list("pk", flat=True))
    if connection.vendor == "postgresql":
        assert logged == [(ids[0], ids[-1])]  # the statement's ids as one range
    else:
        assert logged == []  # new ids above every earlier one: found by their id
    assert figures(city_admin)["total"] == 50
    assert_same(city_admin)


def test_random_writes_keep_every_count_exact(city_admin, yanhu_officer):
    """Rounds of random creates, edits and deletes (rows touched more than once, new values
    never seen before): after each, the columns' cockpit — its counts carried over from the last
    version, corrected by the touched rows — is the queries' cockpit."""
    import random

    rng = random.Random(7)
    tiers = [None, *(item("talent_tier", code) for code in "ABCDE")]
    places = ["140802", "140882", "140821"]
    words = ["人工智能", "材料", "新能源", "量子计算", "中医药", f"方向{rng.random():.3f}"]
    talents = [make_talent(city_admin, name=f"张伟{i}", research_fields=words[i % 3]) for i in range(6)]
    assert_same(city_admin)
    loads = replica.replica().loads
    for round_ in range(8):
        for talent in rng.sample(talents, 3):
            Talent.objects.filter(pk=talent.pk).update(
                tier=rng.choice(tiers), region=region(rng.choice(places)), work_country=rng.choice(["中国", "", f"国{round_}"]),
                research_fields="；".join(rng.sample(words, rng.randint(0, 3))),
                birth_date=rng.choice([None, dt.date(1960 + round_, 1, 1)]))
        if rng.random() < 0.5:
            talents.append(make_talent(city_admin, name=f"李娜{round_}", kind=TalentKind.LOCAL, research_fields=words[-1]))
        if rng.random() < 0.4 and len(talents) > 3:
            talent_services.delete_talent(talents.pop(rng.randrange(len(talents))), user=city_admin)
        assert_same(city_admin)
        assert_same(yanhu_officer)
    assert replica.replica().loads == loads


def test_a_moment_just_before_midnight_stays_on_its_day(city_admin):
    from rencai.dashboards.cockpit import start_of

    first = timezone.localdate().replace(day=1)
    talent = make_talent(city_admin)
    assert_same(city_admin)
    # 0.4 ms before this month began: the month before (SQLite's date functions round it up).
    Talent.objects.filter(pk=talent.pk).update(created_at=start_of(first) - dt.timedelta(microseconds=400))
    assert_same(city_admin)
    monthly = {c["key"]: c for s in services.cockpit_data(CockpitQuery(city_admin, {})) for c in s["charts"]}["monthly_new"]
    assert [i["value"] for i in monthly["items"]][-2:] == [1, 0]
