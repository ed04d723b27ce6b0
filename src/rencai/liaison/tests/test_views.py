"""Liaison pages: scope per persona on contact records (another county's is a 404), the full form
with requests, quick entry with htmx from the talent's page and the list, the talent picker's
search, the requests' quick status change, the worklists with bulk assignment and 确认失联,
leads made from a contact, the cadence rules kept by the city administrator, and the menu."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from rencai.core import audit
from rencai.core.models import AuditEntry, Job
from rencai.core.models.audit import AuditAction
from rencai.liaison import services
from rencai.liaison.choices import Channel, RequestStatus
from rencai.liaison.models import CadenceRule, ContactRecord, ContactRequest, ContactState, Lead
from rencai.talents.choices import TalentStatus
from rencai.talents.models import Talent
from rencai.talents.tests.helpers import item, make_talent, region, today

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def personas(city_admin, city_staff, yanhu_officer, hejin_officer, leader, system_admin):
    return {"city_admin": city_admin, "city_staff": city_staff, "yanhu": yanhu_officer, "hejin": hejin_officer,
            "leader": leader, "system_admin": system_admin}


@pytest.fixture
def talents(city_admin):
    return {
        "yanhu": make_talent(city_admin, name="张伟", region_code="140802", tier=item("talent_tier", "A")),
        "hejin": make_talent(city_admin, name="李刚", region_code="140882", native_place=region("140882")),
    }


def record(user, talents, *, days_ago=3, reached=True, summary="介绍家乡产业园区", requests=None, **fields):
    with audit.acting(user):
        contact = ContactRecord(channel=fields.pop("channel", Channel.PHONE), reached=reached, summary=summary,
                                contacted_at=timezone.now() - dt.timedelta(days=days_ago), **fields)
        return services.save_contact(contact, user=user, talents=talents, requests=requests)


@pytest.fixture
def contacts(city_admin, talents):
    return {
        "yanhu": record(city_admin, [talents["yanhu"]], requests=[{"content": "子女入学咨询"}]),
        "hejin": record(city_admin, [talents["hejin"]], summary="河津座谈会"),
    }


# --- scope -----------------------------------------------------------------------------------------------
OBJECT_PAGES = ["/liaison/contacts/{pk}/", "/liaison/contacts/{pk}/edit/", "/liaison/contacts/{pk}/delete/",
                "/liaison/contacts/{pk}/changelog/"]


@pytest.mark.parametrize("persona,contact,expected", [
    ("city_admin", "yanhu", [200] * 4),
    ("city_staff", "hejin", [200] * 4),
    ("yanhu", "yanhu", [200] * 4),
    ("yanhu", "hejin", [404] * 4),  # another county's contact: not even its existence is shown
    ("hejin", "yanhu", [404] * 4),
    ("leader", "yanhu", [200, 404, 404, 200]),  # read-only
    ("system_admin", "yanhu", [404] * 4),
])
def test_it_answers_contact_pages_by_permission_and_region(client, personas, contacts, persona, contact, expected):
    client.force_login(personas[persona])
    assert [client.get(page.format(pk=contacts[contact].pk)).status_code for page in OBJECT_PAGES] == expected


@pytest.mark.parametrize("persona,shown,hidden", [
    ("city_admin", ["介绍家乡产业园区", "河津座谈会"], []),
    ("yanhu", ["介绍家乡产业园区"], ["河津座谈会"]),
    ("hejin", ["河津座谈会"], ["介绍家乡产业园区"]),
])
def test_it_lists_only_the_contacts_in_scope(client, personas, contacts, persona, shown, hidden):
    client.force_login(personas[persona])
    page = client.get("/liaison/contacts/").content.decode()
    assert all(text in page for text in shown)
    assert not any(text in page for text in hidden)


def test_it_filters_the_contact_list(client, city_admin, contacts):
    client.force_login(city_admin)
    page = client.get("/liaison/contacts/", {"q": "座谈"}).content.decode()
    assert "河津座谈会" in page and "介绍家乡产业园区" not in page
    page = client.get("/liaison/contacts/", {"open_requests": "true"}).content.decode()
    assert "介绍家乡产业园区" in page and "河津座谈会" not in page
    page = client.get("/liaison/contacts/", {"talent": contacts["hejin"].talents.get().pk}).content.decode()
    assert "河津座谈会" in page and "介绍家乡产业园区" not in page and "正在查看“李刚”的联络记录" in page


def test_it_refuses_list_and_add_without_permission(client, system_admin, leader):
    client.force_login(system_admin)
    assert client.get("/liaison/contacts/").status_code == 403
    client.force_login(leader)
    assert client.get("/liaison/contacts/").status_code == 200
    assert client.get("/liaison/contacts/add/").status_code == 403
    assert client.post("/liaison/contacts/quick/", {"channel": "phone"}).status_code == 403


# --- the full form ---------------------------------------------------------------------------------------
def contact_form(talent_ids, **extra) -> dict:
    data = {
        "talents": [str(pk) for pk in talent_ids], "channel": Channel.VISIT,
        "contacted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "reached": "on",
        "summary": "走访了解科研项目", "topics": [str(item("contact_topic", "hometown").pk)], "next_contact_date": "",
        "requests-TOTAL_FORMS": "1", "requests-INITIAL_FORMS": "0", "requests-MIN_NUM_FORMS": "0",
        "requests-MAX_NUM_FORMS": "20", "requests-0-content": "希望对接本地企业", "requests-0-talent": "",
        "requests-0-status": RequestStatus.OPEN, "requests-0-handler": "", "requests-0-result": "",
    }
    data.update(extra)
    return data


def test_it_records_a_contact_with_its_requests_through_the_form(client, yanhu_officer, talents):
    client.force_login(yanhu_officer)
    page = client.get(f"/liaison/contacts/add/?talent={talents['yanhu'].pk}").content.decode()
    assert "张伟" in page and 'name="requests-TOTAL_FORMS"' in page
    response = client.post("/liaison/contacts/add/", contact_form([talents["yanhu"].pk]))
    assert response.status_code == 302
    contact = ContactRecord.objects.get()
    assert contact.region.code == "140802" and contact.staff == yanhu_officer
    assert list(contact.talents.all()) == [talents["yanhu"]]
    assert [(r.content, r.talent) for r in contact.requests.all()] == [("希望对接本地企业", talents["yanhu"])]
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="liaison.contactrecord",
                                     object_id=str(contact.pk), actor=yanhu_officer).exists()
    # A tier-A talent is due again 30 days after the visit.
    assert ContactState.objects.get(talent=talents["yanhu"]).next_due == today() + dt.timedelta(days=30)


def test_it_edits_a_contact_keeping_its_talents_and_requests(client, yanhu_officer, contacts, talents):
    from rencai.talents.tests.helpers import form_values

    contact = contacts["yanhu"]
    client.force_login(yanhu_officer)
    page = client.get(f"/liaison/contacts/{contact.pk}/edit/").content.decode()
    data = form_values(page)
    assert data["talents"] == [str(talents["yanhu"].pk)] and data["requests-0-content"] == "子女入学咨询"
    data.update({"summary": "补充：已转教育局", "requests-0-status": RequestStatus.IN_PROGRESS})
    assert client.post(f"/liaison/contacts/{contact.pk}/edit/", data).status_code == 302
    contact.refresh_from_db()
    assert contact.summary == "补充：已转教育局"
    assert contact.requests.get().status == RequestStatus.IN_PROGRESS


def test_it_refuses_another_countys_talent_in_the_form(client, hejin_officer, talents):
    client.force_login(hejin_officer)
    response = client.post("/liaison/contacts/add/", contact_form([talents["yanhu"].pk]))
    assert response.status_code == 200 and "talents" in response.context["form"].errors
    assert not ContactRecord.objects.exists()


def test_it_deletes_a_contact_through_the_service(client, yanhu_officer, contacts, talents):
    client.force_login(yanhu_officer)
    assert client.post(f"/liaison/contacts/{contacts['yanhu'].pk}/delete/").status_code == 302
    assert not ContactRecord.objects.filter(pk=contacts["yanhu"].pk).exists()
    assert ContactState.objects.get(talent=talents["yanhu"]).last_contact_at is None


# --- the talent's tab and quick entry ---------------------------------------------------------------------
def test_it_shows_the_timeline_tab_on_the_talents_page(client, yanhu_officer, hejin_officer, contacts, talents):
    client.force_login(yanhu_officer)
    page = client.get(f"/talents/{talents['yanhu'].pk}/").content.decode()
    assert 'data-tab="contacts"' in page
    page = client.get(f"/talents/{talents['yanhu'].pk}/tab/contacts/").content.decode()
    assert "介绍家乡产业园区" in page and "子女入学咨询" in page and 'data-testid="quick-entry"' in page
    client.force_login(hejin_officer)
    assert client.get(f"/talents/{talents['yanhu'].pk}/tab/contacts/").status_code == 404


def test_it_records_a_contact_from_the_talents_page_with_htmx(client, yanhu_officer, contacts, talents):
    talent = talents["yanhu"]
    client.force_login(yanhu_officer)
    before = ContactState.objects.get(talent=talent).next_due
    response = client.post("/liaison/contacts/quick/", {
        "for_talent": talent.pk, "talents": [talent.pk], "channel": Channel.WECHAT,
        "contacted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "reached": "on",
        "summary": "微信告知返乡创业政策", "request": "咨询创业补贴", "next_contact_date": "",
    }, **HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "contactSaved"
    body = response.content.decode()
    new_due = today() + dt.timedelta(days=30)
    assert new_due != before
    assert "微信告知返乡创业政策" in body and f'data-testid="next-due">{new_due:%Y-%m-%d}' in body
    contact = ContactRecord.objects.get(summary="微信告知返乡创业政策")
    assert contact.requests.get().content == "咨询创业补贴"


def test_it_keeps_the_quick_entry_input_when_it_is_refused(client, yanhu_officer, talents):
    client.force_login(yanhu_officer)
    response = client.post("/liaison/contacts/quick/", {
        "for_talent": talents["yanhu"].pk, "talents": [talents["yanhu"].pk], "channel": "",
        "contacted_at": "", "summary": "没有选联络方式",
    }, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "没有选联络方式" in body and "is-invalid" in body
    assert not ContactRecord.objects.exists()


def test_it_refuses_quick_entry_for_another_countys_talent(client, hejin_officer, talents):
    client.force_login(hejin_officer)
    response = client.post("/liaison/contacts/quick/", {
        "for_talent": talents["yanhu"].pk, "talents": [talents["yanhu"].pk], "channel": Channel.PHONE,
        "contacted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}, **HTMX)
    assert response.status_code == 404
    # Nor through the list's form, naming the talent directly.
    response = client.post("/liaison/contacts/quick/", {
        "talents": [talents["yanhu"].pk], "channel": Channel.PHONE,
        "contacted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}, **HTMX)
    assert "talents" in response.context["quick_form"].errors
    assert not ContactRecord.objects.exists()


def test_it_records_a_contact_from_the_list_and_searches_talents_in_scope(client, yanhu_officer, talents):
    client.force_login(yanhu_officer)
    page = client.get("/liaison/contacts/").content.decode()
    assert 'data-testid="quick-entry"' in page
    options = client.get("/liaison/contacts/talents/", {"name": "talents", "talents__search": "张伟"}).content.decode()
    assert f'value="{talents["yanhu"].pk}"' in options
    options = client.get("/liaison/contacts/talents/", {"name": "talents", "talents__search": "李刚"}).content.decode()
    assert f'value="{talents["hejin"].pk}"' not in options  # another county's talent is not offered
    response = client.post("/liaison/contacts/quick/", {
        "talents": [talents["yanhu"].pk], "channel": Channel.PHONE, "reached": "",
        "contacted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "summary": "电话未接通"}, **HTMX)
    assert response.status_code == 200 and "quick-saved" in response.content.decode()
    state = ContactState.objects.get(talent=talents["yanhu"])
    assert state.failed_attempts == 1


# --- requests -----------------------------------------------------------------------------------------------
def test_it_changes_a_requests_status_in_the_list(client, yanhu_officer, hejin_officer, leader, contacts):
    row = ContactRequest.objects.get(content="子女入学咨询")
    client.force_login(leader)
    assert "子女入学咨询" in client.get("/liaison/requests/", {"status": "open"}).content.decode()
    assert client.post(f"/liaison/requests/{row.pk}/status/", {f"status-{row.pk}": "done"}, **HTMX).status_code == 404
    client.force_login(hejin_officer)
    assert client.post(f"/liaison/requests/{row.pk}/status/", {f"status-{row.pk}": "done"}, **HTMX).status_code == 404
    client.force_login(yanhu_officer)
    page = client.get("/liaison/requests/").content.decode()
    assert 'data-testid="request-status"' in page
    response = client.post(f"/liaison/requests/{row.pk}/status/", {f"status-{row.pk}": "done"}, **HTMX)
    assert response.status_code == 200 and "已保存" in response.content.decode()
    row.refresh_from_db()
    assert row.status == RequestStatus.DONE and row.closed_on == today()
    assert client.post(f"/liaison/requests/{row.pk}/status/", {f"status-{row.pk}": "bogus"}).status_code == 400
    assert "子女入学咨询" not in client.get("/liaison/requests/", {"status": "open"}).content.decode()


# --- worklists ----------------------------------------------------------------------------------------------
@pytest.fixture
def overdue(city_admin, talents):
    """Both talents last reached 40 days ago: a tier-A talent (30 days) is overdue; three failed
    attempts since make the 盐湖区 one probably lost."""
    record(city_admin, [talents["yanhu"]], days_ago=40)
    record(city_admin, [talents["hejin"]], days_ago=100)
    for days in (3, 2, 1):
        record(city_admin, [talents["yanhu"]], days_ago=days, reached=False, summary="未接通")
    return talents


def test_it_shows_the_worklists_within_scope(client, city_admin, yanhu_officer, overdue):
    client.force_login(yanhu_officer)
    page = client.get("/liaison/worklists/", {"kind": "overdue"}).content.decode()
    assert "张伟" in page and "李刚" not in page
    assert 'data-testid="summary-region"' in page and "盐湖区" in page and "河津市" not in page
    page = client.get("/liaison/worklists/", {"kind": "lost"}).content.decode()
    assert "张伟" in page and 'data-testid="confirm-lost"' in page
    assert "疑似失联" in client.get(f"/talents/{overdue['yanhu'].pk}/tab/contacts/").content.decode()
    client.force_login(city_admin)
    page = client.get("/liaison/worklists/", {"kind": "overdue"}).content.decode()
    assert page.count('data-testid="confirm-lost"') == 1  # 李刚 was reached last time: nothing to confirm
    client.force_login(yanhu_officer)
    client.force_login(city_admin)
    page = client.get("/liaison/worklists/", {"kind": "overdue"}).content.decode()
    assert "张伟" in page and "李刚" in page
    page = client.get("/liaison/worklists/", {"kind": "overdue", "region": region("140882").pk}).content.decode()
    assert "李刚" in page.split('id="object-list-results"')[1] and "张伟" not in page.split('id="object-list-results"')[1]


def test_it_refuses_the_worklists_without_permission(client, system_admin):
    client.force_login(system_admin)
    assert client.get("/liaison/worklists/").status_code == 403


def test_it_assigns_a_liaison_officer_to_the_selected_talents(client, yanhu_officer, hejin_officer, overdue):
    talent = overdue["yanhu"]
    client.force_login(hejin_officer)
    client.post("/liaison/worklists/assign/", {"pk": [talent.pk], "liaison_officer": hejin_officer.pk})
    assert Talent.objects.get(pk=talent.pk).liaison_officer is None  # out of scope: nothing changed
    client.force_login(yanhu_officer)
    response = client.post("/liaison/worklists/assign/", {
        "pk": [talent.pk, overdue["hejin"].pk], "liaison_officer": yanhu_officer.pk,
        "return_url": "/liaison/worklists/?kind=overdue"})
    assert response.status_code == 302 and response["Location"] == "/liaison/worklists/?kind=overdue"
    assert Talent.objects.get(pk=talent.pk).liaison_officer == yanhu_officer
    assert Talent.objects.get(pk=overdue["hejin"].pk).liaison_officer is None
    assert ContactState.objects.get(talent=talent).liaison_officer == yanhu_officer
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE, object_type="talents.talent", object_id=str(talent.pk),
                                     actor=yanhu_officer).exists()
    page = client.get("/liaison/worklists/", {"kind": "overdue", "officer": yanhu_officer.pk}).content.decode()
    assert "张伟" in page


def test_it_confirms_a_lost_contact(client, yanhu_officer, hejin_officer, leader, overdue):
    talent = overdue["yanhu"]
    client.force_login(hejin_officer)
    assert client.post("/liaison/worklists/confirm-lost/", {"talent": talent.pk}).status_code == 404
    client.force_login(leader)
    assert client.post("/liaison/worklists/confirm-lost/", {"talent": talent.pk}).status_code == 404
    client.force_login(yanhu_officer)
    assert client.post("/liaison/worklists/confirm-lost/", {"talent": talent.pk}).status_code == 302
    assert Talent.objects.get(pk=talent.pk).status == TalentStatus.LOST
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE, object_type="talents.talent",
                                     object_id=str(talent.pk)).exists()
    page = client.get("/liaison/worklists/", {"kind": "lost"}).content.decode()
    assert 'data-testid="confirm-lost"' not in page  # confirmed: nothing left to confirm


# --- leads --------------------------------------------------------------------------------------------------
def test_it_turns_a_contact_into_a_lead(client, yanhu_officer, hejin_officer, contacts, talents):
    contact = contacts["yanhu"]
    client.force_login(yanhu_officer)
    detail = client.get(f"/liaison/contacts/{contact.pk}/").content.decode()
    assert f"/liaison/leads/add/?contact={contact.pk}" in detail
    form = client.get(f"/liaison/leads/add/?contact={contact.pk}")
    assert form.context["form"].initial["talent"] == talents["yanhu"].pk
    assert "介绍家乡产业园区" in form.content.decode()
    response = client.post(f"/liaison/leads/add/?contact={contact.pk}", {
        "kind": "investment", "title": "回乡投资食品加工厂", "talent": talents["yanhu"].pk, "contact": contact.pk,
        "region": "", "description": "介绍家乡产业园区", "owner": "", "status": "new", "due_date": "2030-01-31",
        "outcome": ""})
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert (lead.region.code, lead.owner, lead.contact) == ("140802", yanhu_officer, contact)
    assert "回乡投资食品加工厂" in client.get(f"/liaison/contacts/{contact.pk}/").content.decode()
    client.force_login(hejin_officer)
    assert client.get(f"/liaison/leads/{lead.pk}/").status_code == 404
    assert "回乡投资食品加工厂" not in client.get("/liaison/leads/").content.decode()
    assert client.post(f"/liaison/leads/{lead.pk}/delete/").status_code == 404
    client.force_login(yanhu_officer)
    assert client.post(f"/liaison/leads/{lead.pk}/delete/").status_code == 302
    assert not Lead.objects.exists()


# --- cadence rules ------------------------------------------------------------------------------------------
def test_only_the_city_administrator_edits_cadence_rules(client, city_admin, city_staff, yanhu_officer,
                                                         django_capture_on_commit_callbacks):
    rule = CadenceRule.objects.order_by("sort_order").first()
    assert rule is not None  # seeded with the reference data
    for user in (city_staff, yanhu_officer):
        client.force_login(user)
        assert client.get("/liaison/cadences/").status_code == 200
        assert client.get("/liaison/cadences/add/").status_code == 403
        assert client.get(f"/liaison/cadences/{rule.pk}/edit/").status_code == 404
        assert client.post(f"/liaison/cadences/{rule.pk}/delete/").status_code == 404
    client.force_login(city_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/liaison/cadences/{rule.pk}/edit/", {
            "name": rule.name, "tier": rule.tier_id or "", "category": "", "database": "", "interval_days": "45",
            "sort_order": rule.sort_order, "is_active": "on", "concurrency_token": rule.updated_at.isoformat()})
    assert response.status_code == 302
    assert CadenceRule.objects.get(pk=rule.pk).interval_days == 45
    assert Job.objects.filter(kind="liaison.refresh", params={"all": True}).exists()
    response = client.post("/liaison/cadences/add/", {"name": "零天", "interval_days": "0", "sort_order": "1"})
    assert response.status_code == 200 and "interval_days" in response.context["form"].errors


# --- the menu -------------------------------------------------------------------------------------------------
def test_it_shows_the_liaison_menu_by_permission(client, city_admin, yanhu_officer, system_admin):
    client.force_login(yanhu_officer)
    page = client.get("/liaison/contacts/").content.decode()
    assert "联络服务" in page and "/liaison/worklists/" in page and "/liaison/leads/" in page
    assert "/liaison/cadences/" not in page
    client.force_login(city_admin)
    assert "/liaison/cadences/" in client.get("/liaison/contacts/").content.decode()
    client.force_login(system_admin)
    assert "/liaison/worklists/" not in client.get("/").content.decode()


# --- query counts -------------------------------------------------------------------------------------------
def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/liaison/contacts/", "/liaison/requests/", "/liaison/worklists/?kind=overdue",
                                 "/talents/{pk}/tab/contacts/"])
def test_a_page_costs_the_same_queries_whatever_its_length(client, city_admin, yanhu_officer, talents, url):
    talent = talents["yanhu"]
    url = url.format(pk=talent.pk)
    others = [make_talent(city_admin, name=f"王{n}", region_code="140802") for n in "一二三四"]

    def add_contacts(group):
        for person in group:
            record(city_admin, [person, talent], days_ago=200, requests=[{"content": "诉求", "talent": person.pk}])

    add_contacts(others[:1])
    client.force_login(yanhu_officer)
    _queries(client, url)  # the first request warms the session and the permission cache
    few = _queries(client, url)
    add_contacts(others[1:])
    assert _queries(client, url) == few


def test_it_pages_a_worklist_in_due_order(client, city_admin, yanhu_officer):
    import re

    people = [make_talent(city_admin, name=f"周{n:02d}", region_code="140802") for n in range(27)]
    for n, person in enumerate(people):
        # The schedule is derived data: set straight, as if each had been due a different day.
        ContactState.objects.filter(talent=person).update(next_due=today() - dt.timedelta(days=100 - n))
    client.force_login(yanhu_officer)
    first = client.get("/liaison/worklists/", {"kind": "overdue"}).content.decode()
    assert "共 27 人" in first
    names = re.findall(r"周\d\d", first.split('id="object-list-results"')[1])
    assert names == [f"周{n:02d}" for n in range(25)]
    after = re.search(r'rel="next" href="[^"]*after=([^"&]+)', first).group(1)
    second = client.get("/liaison/worklists/", {"kind": "overdue", "after": after}, **HTMX,
                        HTTP_HX_TARGET="object-list-results").content.decode()
    assert re.findall(r"周\d\d", second) == ["周25", "周26"]
    assert "summary-region" not in second  # only the list part, for htmx


def test_the_tab_badge_counts_only_contacts_the_viewer_may_see(client, city_admin, yanhu_officer, talents):
    record(city_admin, [talents["yanhu"]])
    record(city_admin, [talents["yanhu"], talents["hejin"]], summary="两县联合座谈")  # a city-level record

    def badge(user):
        client.force_login(user)
        tabs = client.get(f"/talents/{talents['yanhu'].pk}/").context["tabs"]
        return next(tab["badge"] for tab in tabs if tab["name"] == "contacts")

    assert badge(city_admin) == 2
    assert badge(yanhu_officer) == 1


def test_confirming_a_loss_needs_the_failed_attempts(client, yanhu_officer, talents):
    record(yanhu_officer, [talents["yanhu"]], days_ago=3)  # reached: nothing suggests a loss
    client.force_login(yanhu_officer)
    assert client.post("/liaison/worklists/confirm-lost/", {"talent": talents["yanhu"].pk}).status_code == 302
    assert Talent.objects.get(pk=talents["yanhu"].pk).status != TalentStatus.LOST


def test_a_refused_form_does_not_name_talents_out_of_scope(client, yanhu_officer, talents):
    """The requests' 提出人 choices come from the talents the form was sent with: another county's
    talent sent by id is refused, and its name appears nowhere on the page shown again."""
    client.force_login(yanhu_officer)
    response = client.post("/liaison/contacts/add/", contact_form([talents["yanhu"].pk, talents["hejin"].pk]))
    assert response.status_code == 200 and not ContactRecord.objects.exists()
    page = response.content.decode()
    assert "张伟" in page and "李刚" not in page


def test_list_filters_offer_all_as_their_empty_choice(client, city_admin):
    client.force_login(city_admin)
    for url in ("/liaison/contacts/", "/liaison/leads/", "/liaison/campaigns/"):
        form = client.get(url).context["listing"].filterset.form
        assert form.fields["region"].empty_label == "全部", url
