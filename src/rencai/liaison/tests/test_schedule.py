"""Each talent's liaison schedule: the cadence and due-date arithmetic, overdue and lost contact,
and the schedule kept right by every write that changes its inputs — contacts created, edited and
deleted, talents edited, cadence rules changed, talents merged and imports undone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from rencai.core import audit, jobs
from rencai.core.models.jobs import Job, JobStatus
from rencai.liaison import schedule, services, worklists
from rencai.liaison.choices import Channel
from rencai.liaison.models import CadenceRule, ContactRecord, ContactState
from rencai.talents import services as talent_services
from rencai.talents.choices import TalentStatus
from rencai.talents.models import Talent, TalentDatabase
from rencai.talents.tests.helpers import id_number, item, make_talent, region

pytestmark = pytest.mark.django_db

UTC = dt.UTC
CREATED = dt.datetime(2026, 1, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def rule(days, *, tier=None, category=None, database=None, order=0, active=True) -> CadenceRule:
    return CadenceRule(name=f"{days}天", interval_days=days, tier_id=tier, category_id=category, database_id=database,
                       sort_order=order, is_active=active)


def row(*, tier=None, category=None, status=TalentStatus.IN_CONTACT, created=CREATED) -> tuple:
    """A talent as ``schedule_values`` reads it: id, region, officer, status, tier, category, created."""
    return (1, 10, None, status, tier, category, created)


def at(day: str, hour: int = 10) -> dt.datetime:
    """``day`` at ``hour`` o'clock in Shanghai."""
    return timezone.make_aware(dt.datetime.fromisoformat(day).replace(hour=hour))


def values(contacts, *, rules=(), databases=(), **talent) -> dict:
    result = schedule.schedule_values(row(**talent), contacts, databases, schedule.Rules(list(rules)))
    return dict(zip(schedule.STATE_COLUMNS, result, strict=True))


# --- the arithmetic ------------------------------------------------------------------------------------
def test_the_first_rule_in_order_that_the_talent_meets_gives_the_interval():
    rules = [rule(30, tier=1), rule(45, database=7), rule(60, category=3), rule(90)]
    assert schedule.Rules(rules).interval(1, 3, {7}) == 30
    assert schedule.Rules(rules).interval(2, 3, {7}) == 45
    assert schedule.Rules(rules).interval(2, 3, {8}) == 60
    assert schedule.Rules(rules).interval(2, 4, ()) == 90
    # A rule with several conditions needs them all.
    both = [rule(20, tier=1, category=3), rule(70)]
    assert schedule.Rules(both).interval(1, 3) == 20
    assert schedule.Rules(both).interval(1, 4) == 70
    # Only a rule about databases makes the refresh read the talents' memberships.
    assert schedule.Rules(rules).needs_databases and not schedule.Rules(both).needs_databases


def test_no_rule_met_means_the_default_interval():
    assert schedule.Rules([rule(30, tier=1)]).interval(2, None) == CadenceRule.DEFAULT_INTERVAL == 90
    assert schedule.Rules([]).interval(None, None) == 90


def test_the_rules_are_read_in_order_and_inactive_ones_are_ignored(refdata):
    CadenceRule.objects.all().delete()
    tier_a = item("talent_tier", "A")
    CadenceRule.objects.bulk_create([
        CadenceRule(name="后", tier=tier_a, interval_days=40, sort_order=20),
        CadenceRule(name="先", tier=tier_a, interval_days=20, sort_order=10),
        CadenceRule(name="停用", tier=tier_a, interval_days=5, sort_order=1, is_active=False),
    ])
    assert schedule.Rules().interval(tier_a.pk, None) == 20


def test_due_is_the_last_reached_contact_plus_the_interval():
    state = values([(at("2026-03-01"), True, None), (at("2026-01-20"), True, None)], rules=[rule(30)])
    assert state["next_due"] == dt.date(2026, 3, 31)
    assert state["last_contact_at"] == at("2026-03-01") == state["last_attempt_at"]
    assert state["interval_days"] == 30 and state["failed_attempts"] == 0


def test_the_due_date_counts_from_the_contact_s_day_in_shanghai():
    # 00:30 on 1 March in Shanghai is still 28 February in UTC.
    assert values([(at("2026-03-01", 0), True, None)], rules=[rule(10)])["next_due"] == dt.date(2026, 3, 11)
    assert values([(at("2026-03-01", 23), True, None)], rules=[rule(10)])["next_due"] == dt.date(2026, 3, 11)


def test_the_latest_record_s_next_contact_date_overrides_the_cadence():
    contacts = [(at("2026-03-01"), True, dt.date(2026, 3, 8)), (at("2026-02-01"), True, None)]
    assert values(contacts, rules=[rule(30)])["next_due"] == dt.date(2026, 3, 8)
    # A later contact without a date of its own goes back to the cadence.
    contacts.append((at("2026-03-05"), True, None))
    assert values(contacts, rules=[rule(30)])["next_due"] == dt.date(2026, 4, 4)


def test_a_failed_attempt_s_next_contact_date_is_the_one_that_counts():
    contacts = [(at("2026-03-01"), True, None), (at("2026-03-03"), False, dt.date(2026, 3, 6))]
    state = values(contacts, rules=[rule(30)])
    assert state["next_due"] == dt.date(2026, 3, 6) and state["failed_attempts"] == 1


def test_a_talent_never_contacted_is_due_an_interval_after_entering_the_registry():
    state = values([], rules=[rule(60)])
    assert state["next_due"] == dt.date(2026, 3, 11)
    assert state["last_contact_at"] is None and state["last_attempt_at"] is None and state["failed_attempts"] == 0


def test_failed_attempts_after_the_last_reached_contact_are_counted_and_do_not_move_the_due_date():
    contacts = [(at("2026-03-01"), True, None), (at("2026-03-20"), False, None), (at("2026-03-25"), False, None),
                (at("2026-02-01"), False, None)]  # before the last contact: not counted
    state = values(contacts, rules=[rule(30)])
    assert state["failed_attempts"] == 2
    assert state["last_contact_at"] == at("2026-03-01") and state["last_attempt_at"] == at("2026-03-25")
    assert state["next_due"] == dt.date(2026, 3, 31)


def test_never_reached_counts_every_attempt_and_is_due_from_entering_the_registry():
    contacts = [(at(f"2026-03-0{d}"), False, None) for d in (1, 2, 3)]
    state = values(contacts, rules=[rule(30)])
    assert state["failed_attempts"] == 3 == schedule.LOST_AFTER
    assert state["last_contact_at"] is None and state["next_due"] == dt.date(2026, 2, 9)


def test_a_reached_and_a_failed_contact_in_the_same_minute_read_as_reached():
    contacts = [(at("2026-03-01"), False, None), (at("2026-03-01"), True, None)]
    assert values(contacts, rules=[rule(30)])["failed_attempts"] == 0
    assert values(list(reversed(contacts)), rules=[rule(30)])["failed_attempts"] == 0


@pytest.mark.parametrize(("status", "followed"), [
    (TalentStatus.IN_CONTACT, True), (TalentStatus.LOST, True), (TalentStatus.RETIRED, True),
    (TalentStatus.DECEASED, False), (TalentStatus.TRANSFERRED, False),
])
def test_deceased_and_transferred_talents_are_not_followed(status, followed):
    assert values([], status=status)["followed"] is followed


# --- the schedule in the database ------------------------------------------------------------------------
def days_ago(n: int, hour: int = 10) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=n)
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour))


def record(user, talents, when, *, reached=True, next_date=None, channel=Channel.PHONE) -> ContactRecord:
    contact = ContactRecord(channel=channel, contacted_at=when, reached=reached, next_contact_date=next_date)
    with audit.acting(user):
        return services.save_contact(contact, user=user, talents=talents)


def state(talent) -> ContactState:
    return ContactState.objects.get(talent=talent)


def fresh(talent) -> dict:
    """What the schedule should be, worked out anew from the talent's contacts."""
    talent = Talent.objects.get(pk=talent.pk)
    contacts = [(c.contacted_at, c.reached, c.next_contact_date) for c in talent.contacts.all()]
    databases = set(talent.databases.values_list("pk", flat=True))
    expected = schedule.state_for(tuple(getattr(talent, c) for c in schedule.TALENT_COLUMNS), contacts, databases,
                                  schedule.Rules())
    return {f: getattr(expected, f) for f in schedule.STATE_COLUMNS}


def stored(talent) -> dict:
    found = state(talent)
    return {f: getattr(found, f) for f in schedule.STATE_COLUMNS}


@pytest.fixture
def tiers(refdata):
    return {code: item("talent_tier", code) for code in "ABC"}


def test_a_new_talent_gets_its_schedule_at_once(city_admin, tiers):
    talent = make_talent(city_admin, tier=tiers["A"])
    found = state(talent)
    assert found.interval_days == 30 and found.region == region("140802") and found.followed
    assert found.next_due == timezone.localdate(talent.created_at) + dt.timedelta(days=30)


def test_the_seeded_cadence_follows_the_tiers(city_admin, tiers):
    intervals = {code: state(make_talent(city_admin, name=f"{code}某", tier=tier,
                                         id_card=id_number(seq=40 + i))).interval_days
                 for i, (code, tier) in enumerate(tiers.items())}
    other = make_talent(city_admin, name="无层次", id_card=id_number(seq=50))
    assert intervals == {"A": 30, "B": 30, "C": 60} and state(other).interval_days == 90


def test_a_contact_written_moves_the_due_date_and_deleting_it_moves_it_back(city_admin, tiers):
    talent = make_talent(city_admin, tier=tiers["C"])
    older = record(city_admin, [talent], days_ago(100))
    assert state(talent).next_due == timezone.localdate() - dt.timedelta(days=40)
    newer = record(city_admin, [talent], days_ago(10))
    assert state(talent).next_due == timezone.localdate() + dt.timedelta(days=50)
    assert stored(talent) == fresh(talent)
    with audit.acting(city_admin):
        services.delete_contact(newer, user=city_admin)
    assert state(talent).next_due == timezone.localdate() - dt.timedelta(days=40)
    with audit.acting(city_admin):
        services.delete_contact(older, user=city_admin)
    assert state(talent).last_contact_at is None and stored(talent) == fresh(talent)


def test_editing_a_contact_refreshes_the_talents_it_had_and_has(city_admin, tiers):
    first = make_talent(city_admin, name="甲", tier=tiers["A"], id_card=id_number(seq=61))
    second = make_talent(city_admin, name="乙", tier=tiers["A"], id_card=id_number(seq=62))
    contact = record(city_admin, [first], days_ago(5))
    assert state(first).last_contact_at == days_ago(5)
    contact.contacted_at = days_ago(3)
    contact.next_contact_date = timezone.localdate() + dt.timedelta(days=7)
    with audit.acting(city_admin):
        services.save_contact(contact, user=city_admin, talents=[second])
    assert state(first).last_contact_at is None and stored(first) == fresh(first)
    assert state(second).last_contact_at == days_ago(3)
    assert state(second).next_due == timezone.localdate() + dt.timedelta(days=7)


def test_a_forum_with_several_talents_counts_for_each(city_admin, tiers):
    guests = [make_talent(city_admin, name=f"嘉宾{i}", id_card=id_number(seq=70 + i)) for i in range(3)]
    record(city_admin, guests, days_ago(2), channel=Channel.FORUM)
    assert {state(g).last_contact_at for g in guests} == {days_ago(2)}


def test_overdue_and_lost_worklists(city_admin, yanhu_officer, tiers):
    overdue = make_talent(city_admin, name="逾期", tier=tiers["A"], id_card=id_number(seq=81))
    record(city_admin, [overdue], days_ago(31))
    on_time = make_talent(city_admin, name="按期", tier=tiers["A"], id_card=id_number(seq=82))
    record(city_admin, [on_time], days_ago(29))
    due_today = make_talent(city_admin, name="今天", tier=tiers["A"], id_card=id_number(seq=83))
    record(city_admin, [due_today], days_ago(30))
    lost = make_talent(city_admin, name="失联", tier=tiers["A"], id_card=id_number(seq=84))
    record(city_admin, [lost], days_ago(20))
    for n in range(schedule.LOST_AFTER - 1):
        record(city_admin, [lost], days_ago(10 - n), reached=False)
    elsewhere = make_talent(city_admin, name="河津", tier=tiers["A"], region_code="140882", id_card=id_number(seq=85))
    record(city_admin, [elsewhere], days_ago(60))

    def names(kind, user=yanhu_officer):
        return {s.talent.name for s in worklists.worklist(user, kind).select_related("talent")}

    assert names(worklists.OVERDUE) == {"逾期"}
    assert names(worklists.OVERDUE, city_admin) == {"逾期", "河津"}
    assert "今天" in names(worklists.WEEK) and "按期" not in names(worklists.OVERDUE)
    assert names(worklists.LOST) == set()
    record(city_admin, [lost], days_ago(1), reached=False)
    assert names(worklists.LOST) == {"失联"} and state(lost).failed_attempts == schedule.LOST_AFTER
    # Reached again: no longer lost, and due a full interval later.
    record(city_admin, [lost], days_ago(0, hour=0))
    assert names(worklists.LOST) == set() and state(lost).failed_attempts == 0


def test_talent_edits_reach_the_schedule(city_admin, yanhu_officer, hejin_officer, tiers):
    talent = make_talent(city_admin, tier=tiers["C"], liaison_officer=yanhu_officer)
    record(city_admin, [talent], days_ago(70))
    assert state(talent).liaison_officer == yanhu_officer
    assert [s.talent_id for s in worklists.worklist(yanhu_officer, worklists.OVERDUE)] == [talent.pk]

    talent.tier = tiers["A"]
    talent_services.save_talent(talent, user=city_admin)
    assert state(talent).interval_days == 30 and stored(talent) == fresh(talent)

    talent = Talent.objects.get(pk=talent.pk)
    talent.region, talent.liaison_officer = region("140882"), hejin_officer
    talent_services.save_talent(talent, user=city_admin)
    assert state(talent).region == region("140882") and state(talent).liaison_officer == hejin_officer
    assert not worklists.worklist(yanhu_officer, worklists.OVERDUE).exists()
    assert [s.talent_id for s in worklists.worklist(hejin_officer, worklists.OVERDUE)] == [talent.pk]

    talent = Talent.objects.get(pk=talent.pk)
    talent.status = TalentStatus.DECEASED
    talent_services.save_talent(talent, user=city_admin)
    assert not state(talent).followed
    assert not worklists.worklist(city_admin, worklists.OVERDUE).exists()


def test_joining_a_talent_database_with_its_own_rule_changes_the_interval(city_admin, tiers):
    database = TalentDatabase.objects.get(code="native_excellent")
    CadenceRule.objects.create(name="在外优秀人才库每45天", database=database, interval_days=45, sort_order=35)
    talent = make_talent(city_admin)
    assert state(talent).interval_days == 90
    talent_services.save_talent(talent, user=city_admin, databases=[database])
    assert state(talent).interval_days == 45


def test_a_bulk_edit_refreshes_every_talent_it_changed(city_admin, tiers):
    talents = [make_talent(city_admin, name=f"批量{i}", id_card=id_number(seq=90 + i)) for i in range(3)]
    talent_services.bulk_update_talents(Talent.objects.filter(pk__in=[t.pk for t in talents]),
                                        user=city_admin, changes={"tier": tiers["B"]})
    assert {state(t).interval_days for t in talents} == {30}


def test_many_talents_changed_at_once_are_refreshed_by_a_background_job(city_admin, monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    talents = [make_talent(city_admin, name=f"大批{i}", id_card=id_number(seq=20 + i)) for i in range(3)]
    ContactState.objects.all().delete()
    monkeypatch.setattr(schedule, "INLINE_LIMIT", 2)
    with django_capture_on_commit_callbacks(execute=True):
        schedule.talents_changed([t.pk for t in talents])
    assert not ContactState.objects.exists()  # not inline
    job = Job.objects.get(kind="liaison.refresh")
    assert job.params == {"first": talents[0].pk, "last": talents[-1].pk}
    assert jobs.run_job(jobs.claim_next("w"), "w") == JobStatus.SUCCEEDED
    assert ContactState.objects.count() == 3


def test_a_cadence_rule_change_queues_a_refresh_of_every_schedule(city_admin, tiers,
                                                                  django_capture_on_commit_callbacks):
    talent = make_talent(city_admin, tier=tiers["A"])
    record(city_admin, [talent], days_ago(10))
    rule_a = CadenceRule.objects.get(tier=tiers["A"])
    rule_a.interval_days = 14
    with django_capture_on_commit_callbacks(execute=True):
        rule_a.save()
    assert state(talent).interval_days == 30  # until the job runs
    job = Job.objects.get(kind="liaison.refresh")
    assert job.params == {"all": True}
    assert jobs.run_job(jobs.claim_next("w"), "w") == JobStatus.SUCCEEDED
    assert state(talent).interval_days == 14
    assert state(talent).next_due == timezone.localdate() + dt.timedelta(days=4)
    job.refresh_from_db()
    assert "1 位" in job.result["summary"]

    with django_capture_on_commit_callbacks(execute=True):
        rule_a.delete()
    assert jobs.run_job(jobs.claim_next("w"), "w") == JobStatus.SUCCEEDED
    assert state(talent).interval_days == 90  # the rule for everyone else


def test_refresh_all_repairs_any_schedule(city_admin, tiers):
    talents = [make_talent(city_admin, name=f"全部{i}", tier=tiers["B"], id_card=id_number(seq=30 + i))
               for i in range(4)]
    for i, talent in enumerate(talents):
        record(city_admin, [talent], days_ago(5 + i), reached=i != 2)
    expected = [fresh(t) for t in talents]
    ContactState.objects.filter(talent=talents[0]).delete()
    ContactState.objects.filter(talent=talents[1]).update(next_due=dt.date(2000, 1, 1), failed_attempts=9)
    assert schedule.refresh_all() == 4
    assert [stored(t) for t in talents] == expected


def test_merging_two_talents_keeps_the_survivor_s_schedule_right_and_undo_restores_both(city_admin, tiers):
    from rencai.imports.dedupe import merge

    survivor = make_talent(city_admin, name="王芳", id_card=id_number(seq=11), tier=tiers["C"])
    merged = make_talent(city_admin, name="王芳", mobile="13912345678", tier=tiers["C"])
    record(city_admin, [survivor], days_ago(50))
    record(city_admin, [merged], days_ago(5))
    done = merge.merge_talents(Talent.objects.get(pk=survivor.pk), Talent.objects.get(pk=merged.pk), user=city_admin)
    assert not ContactState.objects.filter(talent_id=merged.pk).exists()
    assert state(survivor).last_contact_at == days_ago(5) and stored(survivor) == fresh(survivor)

    merge.undo_merge(done, user=city_admin)
    assert state(survivor).last_contact_at == days_ago(50) and stored(survivor) == fresh(survivor)
    assert state(merged).last_contact_at == days_ago(5) and stored(merged) == fresh(merged)


def test_an_import_undone_takes_its_talents_schedules_and_restores_the_updated_one(tmp_path, city_admin, tiers):
    from rencai.imports import pipeline
    from rencai.imports.mapping import suggest
    from rencai.imports.tests.files import HEADERS, upload, xlsx

    zhang_id = id_number("19850312", seq=31)
    zhang = make_talent(city_admin, name="张伟", id_card=zhang_id, region_code="140802")
    record(city_admin, [zhang], days_ago(100))
    rows = [HEADERS, ["张伟", "男", zhang_id, "1985.03", None, None, "河津市", None],
            ["李娜", "女", id_number("19900101", male=False, seq=32), None, None, None, "盐湖区", None]]
    options = pipeline.ImportOptions(columns={i: f for i, f in enumerate(suggest(HEADERS)) if f}, mode="update")
    batch = pipeline.run_import(upload(xlsx(tmp_path / "a.xlsx", rows), city_admin), options, city_admin)
    li = Talent.objects.get(name="李娜")
    assert state(li).region == region("140802") and stored(li) == fresh(li)
    assert state(zhang).region == region("140882")

    pipeline.undo(batch, city_admin)
    assert not ContactState.objects.filter(talent_id=li.pk).exists()
    assert state(zhang).region == region("140802") and stored(zhang) == fresh(zhang)


def test_a_county_s_overdue_page_is_a_range_of_the_worklist_index(yanhu_officer):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's planner weighs table sizes; on an empty table it reads the table")
    queryset = worklists.worklist(yanhu_officer, worklists.OVERDUE).values("pk")[:26]
    plan = queryset.explain()
    # Not the county's whole stretch of the region index, sorted afterwards.
    assert "liaison_state_region_idx (followed=? AND region_id=? AND next_due<?)" in plan
    assert "TEMP B-TREE" not in plan
