"""The liaison API: scope per persona (404 outside it, another county's talents refused, worklists
of one's own county), read-only roles, masked mobile numbers for a leader (full ones audited),
422 naming the field, stale writes refused with 412, and worklists that follow contacts written
through the API."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rencai.core import audit
from rencai.core.models import AuditEntry, Job
from rencai.core.models.audit import AuditAction
from rencai.core.testing import bearer
from rencai.liaison import services
from rencai.liaison.choices import RequestStatus
from rencai.liaison.models import ContactRecord, ContactRequest, ContactState, Lead
from rencai.liaison.schedule import LOST_AFTER
from rencai.talents.tests.helpers import item, make_talent, region

pytestmark = pytest.mark.django_db

API = "/api/liaison"
MOBILE = "13912345678"


def _send(client, method: str, url: str, headers: dict, data=None, if_match: str | None = None):
    if if_match:
        headers = {**headers, "If-Match": if_match}
    return getattr(client, method)(f"{API}{url}", data, content_type="application/json", headers=headers)


def _ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def record(user, talents, *, days_ago: int = 0, reached: bool = True, **fields) -> ContactRecord:
    """A contact saved through the service, as the web form saves it."""
    requests = fields.pop("requests", None)
    contact = ContactRecord(channel=fields.pop("channel", "phone"), contacted_at=_ago(days_ago), reached=reached,
                            **fields)
    with audit.acting(user):
        return services.save_contact(contact, user=user, talents=talents, requests=requests)


@pytest.fixture
def talents(city_admin):
    return {
        "yanhu": make_talent(city_admin, name="张伟", mobile=MOBILE),
        "hejin": make_talent(city_admin, name="李刚", region_code="140882", native_place=region("140882")),
    }


@pytest.fixture
def contacts(city_admin, talents):
    return {
        "yanhu": record(city_admin, [talents["yanhu"]], summary="谈回乡创业", requests=[{"content": "子女入学"}]),
        "hejin": record(city_admin, [talents["hejin"]], channel="visit", summary="走访"),
    }


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["items"]]


def _talent_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["talent"]["id"] for row in response.json()["items"]]


# --- scope --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona,expected", [
    ("city_admin", {"yanhu", "hejin"}), ("leader", {"yanhu", "hejin"}), ("yanhu_officer", {"yanhu"}),
    ("hejin_officer", {"hejin"}),
])
def test_it_lists_the_contacts_in_scope(client, request, contacts, persona, expected):
    user = request.getfixturevalue(persona)
    assert set(_ids(client.get(f"{API}/contacts/", headers=bearer(user)))) == {contacts[k].pk for k in expected}


def test_another_countys_contact_is_404_for_every_verb(client, yanhu_officer, contacts):
    headers = bearer(yanhu_officer)
    pk = contacts["hejin"].pk
    assert client.get(f"{API}/contacts/{pk}", headers=headers).status_code == 404
    assert _send(client, "patch", f"/contacts/{pk}", headers, {"summary": "改"}).status_code == 404
    assert client.delete(f"{API}/contacts/{pk}", headers=headers).status_code == 404
    assert ContactRecord.objects.get(pk=pk).summary == "走访"
    assert AuditEntry.objects.filter(action=AuditAction.ACCESS_DENIED, actor=yanhu_officer).count() == 3


def test_a_county_officer_cannot_record_a_contact_with_another_countys_talent(client, yanhu_officer, talents):
    response = _send(client, "post", "/contacts/", bearer(yanhu_officer),
                     {"talents": [talents["yanhu"].pk, talents["hejin"].pk], "channel": "phone"})
    assert response.status_code == 422, response.content
    assert "talents" in response.json()["errors"]
    assert "李刚" not in response.content.decode()
    assert not ContactRecord.objects.exists()


def test_a_county_officer_cannot_file_a_contact_under_another_county(client, yanhu_officer, talents):
    response = _send(client, "post", "/contacts/", bearer(yanhu_officer),
                     {"talents": [talents["yanhu"].pk], "channel": "phone", "region": "140882"})
    assert response.status_code == 422 and "region" in response.json()["errors"]
    assert not ContactRecord.objects.exists()


def test_requests_and_leads_are_scoped_too(client, yanhu_officer, city_admin, contacts, talents):
    hejin_request = ContactRequest.objects.create(contact=contacts["hejin"], talent=talents["hejin"], content="用地")
    with audit.acting(city_admin):
        hejin_lead = services.save_lead(Lead(kind="project", title="光伏项目", talent=talents["hejin"]), user=city_admin)
    headers = bearer(yanhu_officer)
    assert [r["content"] for r in client.get(f"{API}/requests/", headers=headers).json()["items"]] == ["子女入学"]
    assert _send(client, "patch", f"/requests/{hejin_request.pk}", headers, {"status": "done"}).status_code == 404
    assert _ids(client.get(f"{API}/leads/", headers=headers)) == []
    assert client.get(f"{API}/leads/{hejin_lead.pk}", headers=headers).status_code == 404
    response = _send(client, "post", "/leads/", headers, {"kind": "project", "title": "x", "talent": talents["hejin"].pk})
    assert response.status_code == 422 and "talent" in response.json()["errors"]


# --- permissions ------------------------------------------------------------------------------------------
def test_a_leader_reads_but_cannot_write(client, leader, contacts, talents):
    headers = bearer(leader)
    pk = contacts["yanhu"].pk
    assert client.get(f"{API}/contacts/{pk}", headers=headers).status_code == 200
    assert _send(client, "post", "/contacts/", headers, {"talents": [talents["yanhu"].pk], "channel": "phone"}).status_code == 403
    assert _send(client, "patch", f"/contacts/{pk}", headers, {"summary": "改"}).status_code == 403
    assert client.delete(f"{API}/contacts/{pk}", headers=headers).status_code == 403
    request_pk = contacts["yanhu"].requests.get().pk
    assert _send(client, "patch", f"/requests/{request_pk}", headers, {"status": "done"}).status_code == 403
    assert _send(client, "post", "/leads/", headers, {"kind": "project", "title": "x", "region": "140802"}).status_code == 403
    assert ContactRecord.objects.get(pk=pk).summary == "谈回乡创业" and not Lead.objects.exists()


def test_administrators_without_business_roles_get_403(client, system_admin, contacts):
    headers = bearer(system_admin)
    for url in ("/contacts/", "/requests/", "/leads/", "/worklists/overdue", "/worklists/summary/regions"):
        assert client.get(f"{API}{url}", headers=headers).status_code == 403, url


def test_only_the_city_administrator_writes_cadence_rules(client, city_admin, city_staff, yanhu_officer,
                                                         django_capture_on_commit_callbacks):
    rule = {"name": "甲类人才每15天", "tier": "A", "interval_days": 15, "sort_order": 1}
    for user in (city_staff, yanhu_officer):
        assert client.get(f"{API}/cadence-rules/", headers=bearer(user)).status_code == 200
        assert _send(client, "post", "/cadence-rules/", bearer(user), rule).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = _send(client, "post", "/cadence-rules/", bearer(city_admin), rule)
    assert response.status_code == 201, response.content
    assert response.json()["tier"]["code"] == "A" and response.json()["interval_days"] == 15
    # Every schedule is worked out again, in the background.
    assert Job.objects.filter(kind="liaison.refresh").exists()
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="liaison.cadencerule", actor=city_admin).exists()
    first = client.get(f"{API}/cadence-rules/", headers=bearer(city_staff)).json()["items"][0]
    assert first["name"] == "甲类人才每15天"


def test_a_cadence_rule_names_its_category_by_kind(client, city_admin):
    headers = bearer(city_admin)
    response = _send(client, "post", "/cadence-rules/", headers, {"name": "高校", "category": "04", "interval_days": 45})
    assert response.status_code == 422 and "category_kind" in response.json()["errors"]
    response = _send(client, "post", "/cadence-rules/", headers,
                     {"name": "高校", "category_kind": "native", "category": "04", "interval_days": 45})
    assert response.status_code == 201, response.content
    assert response.json()["category"]["label"] == "高校" and response.json()["category_kind"] == "native"
    response = _send(client, "post", "/cadence-rules/", headers, {"name": "x", "interval_days": 0})
    assert response.status_code == 422 and "interval_days" in response.json()["errors"]


# --- masking ---------------------------------------------------------------------------------------------------
def test_a_leader_sees_masked_mobile_numbers_in_worklists(client, leader, city_admin, talents):
    record(city_admin, [talents["yanhu"]], days_ago=120)
    body = client.get(f"{API}/worklists/overdue", headers=bearer(leader)).json()
    assert [row["talent"]["mobile"] for row in body["items"]] == ["139****5678"]
    schedule = client.get(f"{API}/schedules/{talents['yanhu'].pk}", headers=bearer(leader)).json()
    assert schedule["talent"]["mobile"] == "139****5678"
    assert MOBILE not in client.get(f"{API}/contacts/", headers=bearer(leader)).content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL).exists()


def test_cleared_roles_see_full_numbers_and_it_is_audited(client, yanhu_officer, city_admin, talents):
    record(city_admin, [talents["yanhu"]], days_ago=120)
    body = client.get(f"{API}/worklists/overdue", headers=bearer(yanhu_officer)).json()
    assert body["items"][0]["talent"]["mobile"] == MOBILE
    entry = AuditEntry.objects.get(action=AuditAction.VIEW_PERSONAL, actor=yanhu_officer)
    assert entry.changes["ids"] == [talents["yanhu"].pk]


# --- validation ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("changes,field", [
    ({"channel": "telegram"}, "channel"),
    ({"topics": ["no-such-topic"]}, "topics"),
    ({"contacted_at": (timezone.now() + dt.timedelta(days=2)).isoformat()}, "contacted_at"),
    ({"staff": "nobody"}, "staff"),
    ({"talents": []}, "talents"),
    ({"next_contact_date": "2001-01-01"}, "next_contact_date"),
    ({"requests": [{"content": "x", "status": "lost"}]}, "requests.0.status"),
    ({"requests": [{"content": "x", "handler": "nobody"}]}, "requests.1.handler"),
    ({"summary": 12}, "summary"),
    ({"colour": "red"}, "colour"),
])
def test_it_names_the_field_it_refuses(client, yanhu_officer, talents, changes, field):
    data = {"talents": [talents["yanhu"].pk], "channel": "phone", **changes}
    response = _send(client, "post", "/contacts/", bearer(yanhu_officer), data)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    assert not ContactRecord.objects.exists()


@pytest.mark.parametrize("changes,field", [
    ({"contacted_at": None}, "contacted_at"), ({"reached": None}, "reached"), ({"channel": None}, "channel"),
    ({"talents": [0]}, "talents"), ({"region": "999999"}, "region"),
])
def test_a_patch_names_the_field_it_refuses(client, yanhu_officer, contacts, changes, field):
    pk = contacts["yanhu"].pk
    response = _send(client, "patch", f"/contacts/{pk}", bearer(yanhu_officer), changes)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    contact = ContactRecord.objects.get(pk=pk)
    assert contact.channel == "phone" and contact.reached and contact.region.code == "140802"


def test_a_lead_without_a_region_is_a_missing_field(client, yanhu_officer):
    response = _send(client, "post", "/leads/", bearer(yanhu_officer), {"kind": "investment", "title": "回乡办厂"})
    assert response.status_code == 422 and "region" in response.json()["errors"]
    response = _send(client, "post", "/leads/", bearer(yanhu_officer), {"kind": "gift", "title": "x", "region": "140802"})
    assert response.status_code == 422 and "kind" in response.json()["errors"]


def test_worklist_parameters_are_checked(client, yanhu_officer, hejin_officer, talents):
    headers = bearer(yanhu_officer)
    response = client.get(f"{API}/worklists/overdue", {"region": region("140882").pk}, headers=headers)
    assert response.status_code == 422 and "region" in response.json()["errors"]
    response = client.get(f"{API}/worklists/overdue", {"officer": hejin_officer.pk}, headers=headers)
    assert response.status_code == 422 and "officer" in response.json()["errors"]
    response = client.get(f"{API}/worklists/someday", headers=headers)
    assert response.status_code == 422 and "kind" in response.json()["errors"]


# --- writing and optimistic locking ---------------------------------------------------------------------------------
def test_it_records_a_contact_with_topics_and_requests(client, yanhu_officer, talents):
    response = _send(client, "post", "/contacts/", bearer(yanhu_officer), {
        "talents": [talents["yanhu"].pk], "channel": "wechat", "summary": "介绍家乡产业园",
        "topics": ["startup"], "requests": [{"content": "了解人才公寓政策"}],
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["region"]["code"] == "140802" and body["staff"]["username"] == yanhu_officer.username
    assert body["topics"][0]["code"] == "startup" and body["talents"] == [{"id": talents["yanhu"].pk, "name": "张伟"}]
    assert body["requests"][0]["talent"]["id"] == talents["yanhu"].pk and body["requests"][0]["status"] == "open"
    assert response["ETag"]
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="liaison.contactrecord",
                                     actor=yanhu_officer).exists()


def test_it_patches_with_if_match_and_refuses_a_stale_one(client, yanhu_officer, contacts):
    headers = bearer(yanhu_officer)
    pk = contacts["yanhu"].pk
    etag = client.get(f"{API}/contacts/{pk}", headers=headers)["ETag"]
    response = _send(client, "patch", f"/contacts/{pk}", headers, {"summary": "再次回访"}, if_match=etag)
    assert response.status_code == 200, response.content
    assert response["ETag"] != etag and response.json()["requests"][0]["content"] == "子女入学"  # not sent: kept
    stale = _send(client, "patch", f"/contacts/{pk}", headers, {"summary": "旧的修改"}, if_match=etag)
    assert stale.status_code == 412 and "已被他人修改" in stale.json()["detail"]
    assert client.delete(f"{API}/contacts/{pk}", headers={**headers, "If-Match": etag}).status_code == 412
    assert ContactRecord.objects.get(pk=pk).summary == "再次回访"
    fresh = response["ETag"]
    assert client.delete(f"{API}/contacts/{pk}", headers={**headers, "If-Match": fresh}).status_code == 204
    assert not ContactRecord.objects.filter(pk=pk).exists()


def test_other_talents_move_the_contact_to_their_region(client, city_admin, hejin_officer, contacts, talents):
    pk = contacts["yanhu"].pk
    response = _send(client, "patch", f"/contacts/{pk}", bearer(city_admin),
                     {"talents": [talents["yanhu"].pk, talents["hejin"].pk]})
    assert response.status_code == 200, response.content
    assert response.json()["region"]["code"] == "140800"  # two counties: the city
    assert client.get(f"{API}/contacts/{pk}", headers=bearer(hejin_officer)).status_code == 404
    response = _send(client, "patch", f"/contacts/{pk}", bearer(city_admin),
                     {"talents": [talents["hejin"].pk], "requests": []})
    assert response.json()["region"]["code"] == "140882" and response.json()["requests"] == []
    assert client.get(f"{API}/contacts/{pk}", headers=bearer(hejin_officer)).status_code == 200


def test_a_request_is_handled_and_a_stale_handling_refused(client, yanhu_officer, contacts):
    headers = bearer(yanhu_officer)
    pk = contacts["yanhu"].requests.get().pk
    etag = client.get(f"{API}/requests/{pk}", headers=headers)["ETag"]
    response = _send(client, "patch", f"/requests/{pk}", headers,
                     {"status": "done", "result": "已协调入学", "handler": yanhu_officer.username}, if_match=etag)
    assert response.status_code == 200, response.content
    assert response.json()["closed_on"] == timezone.localdate().isoformat()
    assert response.json()["handler"]["username"] == yanhu_officer.username
    assert _send(client, "patch", f"/requests/{pk}", headers, {"status": "open"}, if_match=etag).status_code == 412
    assert ContactRequest.objects.get(pk=pk).status == RequestStatus.DONE
    open_only = client.get(f"{API}/requests/", {"status": "open"}, headers=headers).json()["items"]
    assert open_only == []


def test_a_lead_is_created_changed_and_deleted(client, yanhu_officer, talents, contacts):
    headers = bearer(yanhu_officer)
    response = _send(client, "post", "/leads/", headers, {
        "kind": "investment", "title": "回乡投资食品加工", "talent": talents["yanhu"].pk,
        "contact": contacts["yanhu"].pk, "due_date": "2030-06-30",
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["region"]["code"] == "140802" and body["owner"]["username"] == yanhu_officer.username
    etag = response["ETag"]
    changed = _send(client, "patch", f"/leads/{body['id']}", headers, {"status": "following"}, if_match=etag)
    assert changed.status_code == 200 and changed.json()["status_label"] == "跟进中"
    assert _send(client, "patch", f"/leads/{body['id']}", headers, {"status": "closed"}, if_match=etag).status_code == 412
    assert _ids(client.get(f"{API}/leads/", {"status": "following"}, headers=headers)) == [body["id"]]
    assert client.delete(f"{API}/leads/{body['id']}", headers={**headers, "If-Match": etag}).status_code == 412
    assert client.delete(f"{API}/leads/{body['id']}", headers=headers).status_code == 204
    assert not Lead.objects.exists()


# --- worklists ---------------------------------------------------------------------------------------------------
def test_a_county_officer_sees_only_their_county_in_worklists(client, city_admin, yanhu_officer, talents):
    for talent in talents.values():
        record(city_admin, [talent], days_ago=120)
    assert set(_talent_ids(client.get(f"{API}/worklists/overdue", headers=bearer(city_admin)))) == {
        t.pk for t in talents.values()}
    body = client.get(f"{API}/worklists/overdue", headers=bearer(yanhu_officer)).json()
    assert [row["talent"]["id"] for row in body["items"]] == [talents["yanhu"].pk] and body["count"] == 1
    assert client.get(f"{API}/schedules/{talents['hejin'].pk}", headers=bearer(yanhu_officer)).status_code == 404
    summary = client.get(f"{API}/worklists/summary/regions", headers=bearer(yanhu_officer)).json()
    assert [(row["region"]["code"], row["overdue"]) for row in summary] == [("140802", 1)]
    counties = {row["region"]["code"]: row["overdue"]
                for row in client.get(f"{API}/worklists/summary/regions", headers=bearer(city_admin)).json()}
    assert counties["140802"] == 1 and counties["140882"] == 1 and len(counties) > 2


def test_the_worklists_follow_a_contact_recorded_through_the_api(client, city_admin, yanhu_officer, talents):
    talent = talents["yanhu"]
    record(city_admin, [talent], days_ago=120)
    headers = bearer(yanhu_officer)
    assert _talent_ids(client.get(f"{API}/worklists/overdue", headers=headers)) == [talent.pk]
    response = _send(client, "post", "/contacts/", headers, {"talents": [talent.pk], "channel": "phone"})
    assert response.status_code == 201, response.content
    assert _talent_ids(client.get(f"{API}/worklists/overdue", headers=headers)) == []
    schedule = client.get(f"{API}/schedules/{talent.pk}", headers=headers).json()
    assert schedule["next_due"] == (timezone.localdate() + dt.timedelta(days=schedule["interval_days"])).isoformat()
    assert schedule["overdue"] is False and schedule["failed_attempts"] == 0
    # A next contact date of today puts the talent on this week's list.
    _send(client, "post", "/contacts/", headers,
          {"talents": [talent.pk], "channel": "wechat", "next_contact_date": timezone.localdate().isoformat()})
    assert _talent_ids(client.get(f"{API}/worklists/week", headers=headers)) == [talent.pk]
    # Attempts that do not reach the talent, in a row, flag them as probably lost.
    for _ in range(LOST_AFTER):
        assert _send(client, "post", "/contacts/", headers,
                     {"talents": [talent.pk], "channel": "phone", "reached": False}).status_code == 201
    lost = client.get(f"{API}/worklists/lost", headers=headers).json()
    assert [row["talent"]["id"] for row in lost["items"]] == [talent.pk] and lost["items"][0]["lost"] is True
    # Deleting the contacts through the API brings the old schedule back.
    for contact in ContactRecord.objects.filter(contacted_at__gt=_ago(1)):
        assert client.delete(f"{API}/contacts/{contact.pk}", headers=headers).status_code == 204
    assert _talent_ids(client.get(f"{API}/worklists/overdue", headers=headers)) == [talent.pk]


def test_worklists_by_officer(client, city_admin, yanhu_officer, talents):
    from rencai.talents import services as talent_services

    talent = talents["yanhu"]
    talent.liaison_officer = yanhu_officer
    with audit.acting(city_admin):
        talent_services.save_talent(talent, user=city_admin)
    for t in talents.values():
        record(city_admin, [t], days_ago=120)
    headers = bearer(city_admin)
    mine = client.get(f"{API}/worklists/overdue", {"officer": yanhu_officer.pk}, headers=headers)
    assert _talent_ids(mine) == [talent.pk]
    nobody = client.get(f"{API}/worklists/overdue", {"officer": "none"}, headers=headers)
    assert _talent_ids(nobody) == [talents["hejin"].pk]
    rows = client.get(f"{API}/worklists/summary/officers", headers=headers).json()
    by_officer = {(row["officer"] or {}).get("username"): row["overdue"] for row in rows}
    assert by_officer == {yanhu_officer.username: 1, None: 1}
    assert ContactState.objects.get(talent=talent).liaison_officer == yanhu_officer


# --- lists -------------------------------------------------------------------------------------------------------
def test_contacts_filter_like_the_list_page(client, city_admin, contacts, talents):
    headers = bearer(city_admin)
    assert _ids(client.get(f"{API}/contacts/", {"channel": "visit"}, headers=headers)) == [contacts["hejin"].pk]
    assert _ids(client.get(f"{API}/contacts/", {"talent": talents["yanhu"].pk}, headers=headers)) == [contacts["yanhu"].pk]
    assert _ids(client.get(f"{API}/contacts/", {"q": "李刚"}, headers=headers)) == [contacts["hejin"].pk]
    assert _ids(client.get(f"{API}/contacts/", {"open_requests": "true"}, headers=headers)) == [contacts["yanhu"].pk]
    response = client.get(f"{API}/contacts/", {"channel": "telegram"}, headers=headers)
    assert response.status_code == 422 and "channel" in response.json()["errors"]


def test_the_contact_list_costs_the_same_queries_for_more_rows(client, city_admin, talents, contacts):
    contacts["yanhu"].topics.set([item("contact_topic", "startup")])  # else no topic to read at all
    headers = bearer(city_admin)
    client.get(f"{API}/contacts/", headers=headers)  # the token's last use is stamped once a minute
    with CaptureQueriesContext(connection) as few:
        client.get(f"{API}/contacts/", headers=headers)
    for i in range(10):
        contact = record(city_admin, list(talents.values()), days_ago=i + 1, requests=[{"content": f"诉求{i}"}])
        contact.topics.set([item("contact_topic", "startup"), item("contact_topic", "project")])
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"{API}/contacts/", headers=headers)
    assert len(response.json()["items"]) == 12
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_worklist_costs_the_same_queries_for_more_rows(client, city_admin, talents):
    # Two numbers shown to begin with: one alone is audited against its record (one query more).
    record(city_admin, [talents["yanhu"], make_talent(city_admin, name="赵敏", mobile="13712345678")], days_ago=120)
    headers = bearer(city_admin)
    client.get(f"{API}/worklists/overdue", headers=headers)  # the token's last use is stamped once a minute
    with CaptureQueriesContext(connection) as few:
        client.get(f"{API}/worklists/overdue", headers=headers)
    for i in range(10):
        record(city_admin, [make_talent(city_admin, name=f"王{i}", mobile=f"1391234{i:04d}")], days_ago=100 + i)
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"{API}/worklists/overdue", headers=headers)
    assert response.json()["count"] == 12
    assert len(many.captured_queries) == len(few.captured_queries)


def test_worklists_page_by_cursor_with_a_count(client, city_admin, talents):
    for i in range(5):
        record(city_admin, [make_talent(city_admin, name=f"王{i}")], days_ago=100 + i)
    headers = bearer(city_admin)
    seen, url = [], f"{API}/worklists/overdue?limit=2"
    while url:
        body = client.get(url, headers=headers).json()
        assert body["count"] == 5 and body["count_capped"] is False
        seen.extend(row["next_due"] for row in body["items"])
        url = body["next"]
    assert len(seen) == 5 and seen == sorted(seen)


def test_a_record_is_never_filed_under_a_county_its_talents_are_not_in(client, city_admin, yanhu_officer, talents):
    """Even a user who covers both counties cannot file 河津's talent under 盐湖区, where 盐湖区's
    officers would read about them; filing under the city, above both, is allowed."""
    hejin = talents["hejin"].pk
    response = _send(client, "post", "/contacts/", bearer(city_admin),
                     {"talents": [hejin], "channel": "phone", "region": "140802"})
    assert response.status_code == 422 and "region" in response.json()["errors"], response.content
    response = _send(client, "post", "/leads/", bearer(city_admin),
                     {"kind": "project", "title": "项目线索", "talent": hejin, "region": "140802"})
    assert response.status_code == 422 and "region" in response.json()["errors"], response.content
    assert not ContactRecord.objects.exists() and not Lead.objects.exists()
    response = _send(client, "post", "/contacts/", bearer(city_admin),
                     {"talents": [hejin], "channel": "phone", "region": "140800"})
    assert response.status_code == 201, response.content
    assert _send(client, "get", "/contacts/", bearer(yanhu_officer)).json()["items"] == []


def test_a_time_without_a_zone_is_read_as_local_time(client, yanhu_officer, talents):
    response = _send(client, "post", "/contacts/", bearer(yanhu_officer),
                     {"talents": [talents["yanhu"].pk], "channel": "phone", "contacted_at": "2025-03-01T09:00:00"})
    assert response.status_code == 201, response.content
    contacted = ContactRecord.objects.get().contacted_at
    assert timezone.localtime(contacted).replace(tzinfo=None) == dt.datetime(2025, 3, 1, 9, 0)
