"""The liaison demo data: as many contacts as it promises, histories that look like an office's,
the same for the same seed, schedules that match their contacts, and the bulk load leaving the
schema as it found it."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone

from rencai.core.testing import PASSWORD, table_schema
from rencai.demo import run_demo
from rencai.liaison import demo as liaison_demo
from rencai.liaison import schedule, worklists
from rencai.liaison.choices import REQUEST_CLOSED, Channel
from rencai.liaison.models import CadenceRule, ContactRecord, ContactRequest, ContactState, Lead
from rencai.talents.choices import TalentStatus
from rencai.talents.models import Talent

pytestmark = pytest.mark.django_db

TABLES = [ContactRecord, ContactRecord.talents.through, ContactRecord.topics.through, ContactRequest, Lead,
          ContactState]


def _histories() -> list[tuple]:
    """What identifies the generated contacts, with talents by their place in the registry's order
    (database ids differ between runs)."""
    rank = {pk: i for i, pk in enumerate(Talent.objects.order_by("pk").values_list("pk", flat=True))}
    return sorted(
        (tuple(sorted(rank[t.pk] for t in c.talents.all())), c.channel, timezone.localtime(c.contacted_at),
         c.reached, c.summary, c.next_contact_date, tuple(sorted(t.code for t in c.topics.all())),
         tuple((r.content, r.status, r.closed_on) for r in c.requests.all()),
         tuple((lead.kind, lead.title, lead.status) for lead in c.leads.all()))
        for c in ContactRecord.objects.prefetch_related("talents", "topics", "requests", "leads")
    )


def _generated(seed: int) -> list[tuple]:
    with transaction.atomic():
        run_demo(seed=seed, password=PASSWORD)
        histories = _histories()
        transaction.set_rollback(True)
    return histories


@pytest.fixture
def same_day(monkeypatch):
    """The runs of a test count back from one day, even if midnight passes while they run."""
    day = timezone.localdate()
    monkeypatch.setattr(liaison_demo, "run_day", lambda: day)
    return day


def test_the_same_seed_gives_the_same_histories(refdata, same_day):
    first, second, other = _generated(7), _generated(7), _generated(8)
    assert len(first) == liaison_demo.CONTACTS_PER_TALENT * 2200
    assert first == second
    assert [h[:3] for h in first] != [h[:3] for h in other]  # the comparison above can fail


@pytest.fixture
def demo(refdata, same_day):
    return run_demo(password=PASSWORD)


def test_it_makes_five_contacts_per_talent_and_a_schedule_for_everyone(demo):
    talents = Talent.objects.count()
    assert ContactRecord.objects.count() == liaison_demo.CONTACTS_PER_TALENT * talents == demo.counts["contacts"]
    assert ContactState.objects.count() == talents == demo.counts["contact_states"]
    links = ContactRecord.talents.through.objects
    assert links.count() == demo.counts["contact_links"] > ContactRecord.objects.count()  # forums meet several
    assert Lead.objects.count() == demo.counts["leads"] > 0
    assert ContactRequest.objects.count() == demo.counts["contact_requests"] > 0
    # Some talents nobody has contacted yet; the A tier more often than the rest.
    per_talent = Counter(links.values_list("talent_id", flat=True))
    never = talents - len(per_talent)
    assert 0.03 * talents < never < 0.15 * talents
    tier_a = list(Talent.objects.filter(tier__code="A").values_list("pk", flat=True))
    untiered = list(Talent.objects.filter(tier__isnull=True, status=TalentStatus.IN_CONTACT).values_list("pk", flat=True))
    assert sum(per_talent[pk] for pk in tier_a) / len(tier_a) > 1.5 * sum(per_talent[pk] for pk in untiered) / len(untiered)


def test_the_cadence_rules_beyond_the_defaults(demo):
    names = list(CadenceRule.objects.values_list("name", "is_active"))
    assert len(names) == 4 + len(liaison_demo.EXTRA_RULES) == 4 + demo.counts["cadence_rules"]
    assert ("在外优秀人才库每45天联络一次", True) in names and ("军队在外人才每180天联络一次（暂停）", False) in names
    intervals = Counter(ContactState.objects.values_list("interval_days", flat=True))
    assert {30, 45, 60, 90} <= set(intervals) and 180 not in intervals  # the paused rule applies to nobody


def test_histories_look_like_an_office_s(demo, same_day):
    today = same_day
    contacts = list(ContactRecord.objects.values_list("channel", "contacted_at", "reached", "next_contact_date",
                                                      "summary", "region_id"))
    channels = Counter(c[0] for c in contacts)
    assert set(channels) == set(Channel.values)
    assert channels[Channel.PHONE] > channels[Channel.VISIT] > channels[Channel.OTHER]
    days = [(today - timezone.localtime(c[1]).date()).days for c in contacts]
    assert min(days) >= 1 and max(days) <= liaison_demo.HISTORY_DAYS
    for _channel, at, _reached, next_date, summary, _region in contacts:
        assert summary
        assert next_date is None or next_date >= timezone.localtime(at).date()
        assert 9 <= timezone.localtime(at).hour < 18
    failed = [c for c in contacts if not c[2]]
    assert 0.03 * len(contacts) < len(failed) < 0.2 * len(contacts)
    assert {c[0] for c in failed} <= {Channel.PHONE, Channel.WECHAT, Channel.SMS, Channel.EMAIL}
    # Topics only from the dictionary; a failed attempt has none.
    topics = ContactRecord.topics.through.objects.select_related("dictionaryitem__dictionary")
    assert {t.dictionaryitem.dictionary.code for t in topics} == {"contact_topic"}
    assert not topics.filter(contactrecord__reached=False).exists()
    # A contact belongs to its talents' county; a forum's talents come from one county.
    for contact in ContactRecord.objects.filter(channel=Channel.FORUM).prefetch_related("talents")[:50]:
        assert {t.region_id for t in contact.talents.all()} == {contact.region_id}


def test_requests_and_leads_have_statuses_that_fit_their_age(demo):
    statuses = Counter(ContactRequest.objects.values_list("status", flat=True))
    assert len(statuses) == 4
    for request in ContactRequest.objects.select_related("contact"):
        assert request.talent_id is not None and request.handler_id == request.contact.staff_id
        if request.status in REQUEST_CLOSED:
            assert timezone.localtime(request.contact.contacted_at).date() <= request.closed_on <= timezone.localdate()
        else:
            assert request.closed_on is None
    for lead in Lead.objects.select_related("contact"):
        assert lead.region_id == lead.contact.region_id and lead.owner_id and lead.due_date
    assert len(set(Lead.objects.values_list("status", flat=True))) >= 3


def test_the_schedules_match_a_fresh_reading_of_the_contacts(demo):
    rules = schedule.Rules()
    contacts: dict[int, list] = {}
    for talent_id, at, reached, next_date in ContactRecord.talents.through.objects.values_list(
            "talent_id", "contactrecord__contacted_at", "contactrecord__reached", "contactrecord__next_contact_date"):
        contacts.setdefault(talent_id, []).append((at, reached, next_date))
    databases: dict[int, set] = {}
    for talent_id, database_id in Talent.databases.through.objects.values_list("talent_id", "talentdatabase_id"):
        databases.setdefault(talent_id, set()).add(database_id)
    stored = {s.talent_id: s for s in ContactState.objects.all()}
    for row in Talent.objects.values_list(*schedule.TALENT_COLUMNS):
        expected = schedule.state_for(row, contacts.get(row[0], ()), databases.get(row[0], set()), rules)
        found = stored[row[0]]
        assert [getattr(found, f) for f in schedule.STATE_COLUMNS] == [getattr(expected, f) for f in schedule.STATE_COLUMNS]


def test_the_worklists_have_something_on_each(demo, same_day):
    today = same_day
    followed = ContactState.objects.filter(followed=True)
    overdue = followed.filter(worklists.kind_condition(worklists.OVERDUE, today)).count()
    assert 0.1 * followed.count() < overdue < 0.5 * followed.count()
    assert followed.filter(worklists.kind_condition(worklists.WEEK, today)).exists()
    lost = followed.filter(failed_attempts__gte=schedule.LOST_AFTER)
    assert 0 < lost.count() < 0.1 * followed.count()
    # Mostly the talents the registry marks 失联.
    assert lost.filter(talent__status=TalentStatus.LOST).count() > 0.8 * lost.count()
    assert not ContactState.objects.filter(followed=False, talent__status=TalentStatus.IN_CONTACT).exists()


def _schema() -> dict[str, dict]:
    return table_schema(TABLES)


def test_the_bulk_load_leaves_the_schema_as_it_was(refdata):
    before = _schema()
    with transaction.atomic():
        run_demo(seed=3, password=PASSWORD)
        assert _schema() == before
        transaction.set_rollback(True)


def test_its_cadence_rules_are_not_added_twice_and_its_data_is_seen(demo):
    assert liaison_demo._has_contacts()  # ``rencai demo --if-empty`` then loads nothing
    assert liaison_demo._cadence_rules() == 0
