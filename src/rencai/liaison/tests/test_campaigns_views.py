"""Pages of campaigns: who may open what (anonymous, leader, each county, the city), the form
(audience from the user's saved views, unknown placeholders named on the form), the preview on
the draft's page, sending and stopping by POST, drafts only editable, the opt-out register, the
outbox (masked, full text audited), the greetings worklist, and the URL names the sidebar uses."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rencai.core.jobs import Worker
from rencai.core.models import AuditEntry
from rencai.core.models.audit import AuditAction
from rencai.liaison import campaigns
from rencai.liaison.models import Campaign, CampaignChannel, CampaignStatus, OptOut, OutboxMessage
from rencai.talents import services as talent_services
from rencai.talents.choices import Gender
from rencai.talents.tests.helpers import form_values, make_talent, region

pytestmark = pytest.mark.django_db


@pytest.fixture
def talents(city_admin):
    return {
        "wang": make_talent(city_admin, name="王晓东", gender=Gender.MALE, title="教授", mobile="13812340001",
                            birth_date=dt.date(1970, 1, 1)),
        "hejin": make_talent(city_admin, name="欧阳明", region_code="140882", mobile="13812340004"),
    }


def draft(user, region_code="140802", **fields) -> Campaign:
    campaign = Campaign(name="家乡通讯", kind="newsletter", channel=CampaignChannel.SMS, body="{称谓}您好",
                        region=region(region_code), **fields)
    campaign.created_by = user
    campaign.save()
    return campaign


def body(response) -> str:
    return response.content.decode()


def test_the_url_names_the_sidebar_lists_reverse():
    for name in ("campaign_list", "greeting_list", "outbox_list", "optout_list", "campaign_add"):
        assert reverse(name).startswith("/liaison/campaigns/")
    assert reverse("campaign_unsubscribe") == "/join/unsubscribe/"


@pytest.mark.parametrize("name", ["campaign_list", "greeting_list", "outbox_list", "optout_list", "campaign_add"])
def test_anonymous_visitors_are_sent_to_sign_in(client, refdata, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_leader_reads_but_cannot_make_or_send(client, leader, city_admin, talents):
    campaign = draft(city_admin)
    client.force_login(leader)
    assert client.get(reverse("campaign_list")).status_code == 200
    assert client.get(reverse("campaign_add")).status_code == 403
    assert client.post(reverse("campaign_send", args=[campaign.pk]), {"confirm": "on"}).status_code == 404
    page = body(client.get(reverse("campaign_detail", args=[campaign.pk])))
    assert 'data-testid="send-form"' not in page
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_a_county_officer_sees_only_their_countys_campaigns(client, city_admin, yanhu_officer, hejin_officer, talents):
    mine, theirs = draft(yanhu_officer, "140802"), draft(hejin_officer, "140882")
    theirs.name = "河津通讯"
    theirs.save()
    client.force_login(yanhu_officer)
    listing = body(client.get(reverse("campaign_list")))
    assert "家乡通讯" in listing and "河津通讯" not in listing
    for name in ("campaign_detail", "campaign_edit", "campaign_delete"):
        assert client.get(reverse(name, args=[theirs.pk])).status_code == 404
    assert client.post(reverse("campaign_send", args=[theirs.pk]), {"confirm": "on"}).status_code == 404
    assert client.get(reverse("campaign_detail", args=[mine.pk])).status_code == 200


def test_making_a_campaign_from_a_saved_view_then_previewing_and_sending(client, yanhu_officer, talents):
    view = talent_services.save_view(yanhu_officer, "talents.talent", name="盐湖在外", query="kind=native", columns=[])
    client.force_login(yanhu_officer)
    form = body(client.get(reverse("campaign_add")))
    assert "盐湖在外" in form and "{称谓}" in form

    data = {"name": "家乡通讯第1期", "kind": "newsletter", "channel": "sms", "region": region("140802").pk,
            "audience_view": view["id"], "subject": "", "body": "{称谓}您好，{手机号}"}
    refused = client.post(reverse("campaign_add"), data)
    assert refused.status_code == 200 and "{手机号}" in body(refused) and "无法识别" in body(refused)
    assert not Campaign.objects.exists()

    data["body"] = "{称谓}您好，家乡近况……"
    response = client.post(reverse("campaign_add"), data)
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("campaign_detail", args=[campaign.pk])
    assert (campaign.audience_name, campaign.audience_query, campaign.created_by) == ("盐湖在外", "kind=native", yanhu_officer)

    page = body(client.get(reverse("campaign_detail", args=[campaign.pk])))
    assert "王教授您好，家乡近况……" in page and "欧阳明" not in page and "发送对象共 1 人" in page

    unconfirmed = client.post(reverse("campaign_send", args=[campaign.pk]), follow=True)
    assert "请先核对预览内容" in body(unconfirmed) and Campaign.objects.get().status == CampaignStatus.DRAFT
    sent = client.post(reverse("campaign_send", args=[campaign.pk]), {"confirm": "on"})
    assert sent.status_code == 302
    assert Worker("w").run_once() == "succeeded"
    page = body(client.get(reverse("campaign_detail", args=[campaign.pk])))
    assert 'data-count="sent"' in page and "已发送 1" in page.replace("\n", "")
    # Sent: no longer editable or deletable.
    assert "王晓东" in page
    # (The edit page of a sent campaign still opens; saving it is refused.)
    values = form_values(body(client.get(reverse("campaign_edit", args=[campaign.pk]))))
    assert values["audience_view"] == "_keep"
    edit = client.post(reverse("campaign_edit", args=[campaign.pk]), values)
    assert edit.status_code == 200 and "不能修改" in body(edit)
    assert client.post(reverse("campaign_delete", args=[campaign.pk])).status_code == 403
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_the_form_asks_for_a_saved_view_first(client, yanhu_officer, talents):
    client.force_login(yanhu_officer)
    response = client.post(reverse("campaign_add"), {"name": "x", "kind": "newsletter", "channel": "sms",
                                                       "region": region("140802").pk, "body": "x"})
    assert response.status_code == 200 and "请先在人才库列表中筛选" in body(response)


def test_stopping_from_the_page(client, city_admin, talents):
    campaign = draft(city_admin)
    client.force_login(city_admin)
    client.post(reverse("campaign_send", args=[campaign.pk]), {"confirm": "on"})
    client.post(reverse("campaign_stop", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED


def test_the_campaign_list_reads_a_fixed_number_of_queries(client, city_admin, talents):
    client.force_login(city_admin)
    draft(city_admin)
    client.get(reverse("campaign_list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("campaign_list"))
    for n in range(10):
        draft(city_admin, "140882" if n % 2 else "140802")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("campaign_list"))
    assert len(many) == len(few)


def test_the_outbox_masks_and_audits_the_full_text(client, city_admin, yanhu_officer, hejin_officer, talents):
    campaign = draft(city_admin, "140800")
    campaigns.start_sending(campaign, user=city_admin)
    Worker("w").run_once()
    message = OutboxMessage.objects.get(talent=talents["wang"])
    client.force_login(yanhu_officer)
    listing = body(client.get(reverse("outbox_list")))
    assert "138****0001" in listing and "13812340001" not in listing and "欧阳明" not in listing
    detail = body(client.get(reverse("outbox_detail", args=[message.pk])))
    assert "王教授您好" not in detail and "显示全文" in detail
    shown = body(client.get(reverse("outbox_detail", args=[message.pk]) + "?show=1"))
    assert "王教授您好" in shown and "13812340001" in shown
    assert AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL, object_id=str(message.pk),
                                     actor=yanhu_officer).exists()
    client.force_login(hejin_officer)
    assert client.get(reverse("outbox_detail", args=[message.pk])).status_code == 404


def test_staff_record_an_opt_out_from_the_talents_number(client, yanhu_officer, hejin_officer, talents):
    client.force_login(yanhu_officer)
    url = reverse("optout_add") + f"?talent={talents['wang'].pk}"
    assert f'value="{talents["wang"].pk}"' in body(client.get(url))
    response = client.post(url, {"talent": talents["wang"].pk, "channel": "sms", "note": "电话中要求"})
    record = OptOut.objects.get()
    assert response.status_code == 302 and (record.channel, record.created_by) == ("sms", yanhu_officer)
    assert "王晓东" in body(client.get(reverse("optout_list")))
    # Another county's talent is not a choice; there is no edit or delete page.
    refused = client.post(reverse("optout_add"), {"talent": talents["hejin"].pk, "channel": "", "note": ""})
    assert refused.status_code == 200 and OptOut.objects.count() == 1
    client.force_login(hejin_officer)
    assert "王晓东" not in body(client.get(reverse("optout_list")))
    assert client.get(f"/liaison/campaigns/optouts/{record.pk}/edit/").status_code == 404


def test_the_greetings_page_lists_the_coming_birthdays_in_scope(client, city_admin, hejin_officer, talents):
    soon = dt.date.today() + dt.timedelta(days=1)
    if (soon.month, soon.day) == (2, 29):
        soon += dt.timedelta(days=1)
    make_talent(city_admin, name="生日甲", birth_date=soon.replace(year=1980))
    make_talent(city_admin, name="生日乙", region_code="140882", birth_date=soon.replace(year=1985))
    client.force_login(hejin_officer)
    page = body(client.get(reverse("greeting_list")))
    assert "生日乙" in page and "生日甲" not in page
    client.force_login(city_admin)
    page = body(client.get(reverse("greeting_list")))
    assert "生日甲" in page and "生日乙" in page and "传统节日" in page and "生成问候草稿" in page
    response = client.post(reverse("greeting_prepare"))
    assert response.status_code == 302 and "/jobs/" in response["Location"]
    assert Worker("w").run_once() == "succeeded"
    page = body(client.get(reverse("greeting_list")))
    assert "盐湖区草稿" in page and "河津市草稿" in page


def test_a_sent_campaigns_page_and_the_greetings_read_a_fixed_number_of_queries(client, city_admin, talents):
    def queries(url):
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    client.force_login(city_admin)
    soon = dt.date.today() + dt.timedelta(days=2)
    if (soon.month, soon.day) == (2, 29):
        soon += dt.timedelta(days=1)
    make_talent(city_admin, name="生日", birth_date=soon.replace(year=1980), mobile="13900000000")
    campaign = draft(city_admin)
    campaigns.start_sending(campaign, user=city_admin)
    Worker("w").run_once()
    url = reverse("campaign_detail", args=[campaign.pk])
    few, few_greetings = queries(url), queries(reverse("greeting_list"))
    for n in range(8):
        make_talent(city_admin, name=f"生日{n}", birth_date=soon.replace(year=1981 + n), mobile=f"1390000001{n}")
    bigger = draft(city_admin)
    campaigns.start_sending(bigger, user=city_admin)
    Worker("w").run_once()
    assert bigger.recipients.count() > campaign.recipients.count() + 7
    assert queries(reverse("campaign_detail", args=[bigger.pk])) == few
    assert queries(reverse("greeting_list")) == few_greetings


# --- review fixes -----------------------------------------------------------------------------------------------
def test_choosing_a_view_on_a_greeting_draft_replaces_its_list(client, yanhu_officer, talents):
    make_talent(yanhu_officer, name="李芳", region_code="140802", mobile="13812340002")
    greeting = Campaign.objects.create(name="生日祝福", kind="birthday", channel=CampaignChannel.SMS, body="{称谓}生日快乐",
                                       region=region("140802"), audience_name="当日生日的人才")
    greeting.talents.add(talents["wang"])
    assert list(campaigns.audience(greeting).values_list("name", flat=True)) == ["王晓东"]
    view = talent_services.save_view(yanhu_officer, "talents.talent", name="李芳", query="q=李芳", columns=[])
    client.force_login(yanhu_officer)
    values = form_values(body(client.get(reverse("campaign_edit", args=[greeting.pk]))))
    values["audience_view"] = view["id"]
    response = client.post(reverse("campaign_edit", args=[greeting.pk]), values)
    assert response.status_code == 302, body(response)
    greeting.refresh_from_db()
    assert not greeting.talents.exists() and greeting.audience_name == "李芳"
    assert (greeting.created_by, greeting.audience_by) == (yanhu_officer, yanhu_officer)
    assert list(campaigns.audience(greeting).values_list("name", flat=True)) == ["李芳"]


def test_a_view_chosen_on_an_edit_is_resolved_in_the_editors_scope(client, city_admin, yanhu_officer, talents):
    campaign = draft(city_admin, region_code="140800")  # the city admin's, filed under the city
    view = talent_services.save_view(yanhu_officer, "talents.talent", name="全部", query="", columns=[])
    campaign.region = region("140802")
    campaign.save(update_fields=["region"])
    client.force_login(yanhu_officer)
    values = form_values(body(client.get(reverse("campaign_edit", args=[campaign.pk]))))
    values["audience_view"] = view["id"]
    assert client.post(reverse("campaign_edit", args=[campaign.pk]), values).status_code == 302
    campaign.refresh_from_db()
    assert campaign.created_by == city_admin and campaign.audience_by == yanhu_officer
    assert campaigns.audience_user(campaign) == yanhu_officer


def test_talent_names_need_the_talent_view_permission(client, city_admin, talents):
    from django.contrib.auth.models import Permission

    from rencai.core.models import Role
    from rencai.core.testing import make_user

    role = Role.objects.create(code="campaign_reader", name="推送查看员", all_regions=True)
    role.permissions.set(Permission.objects.filter(content_type__app_label="liaison", codename="view_campaign"))
    reader = make_user("reader", roles=["campaign_reader"], regions=["140800"])
    assert reader.has_perm("liaison.view_campaign") and not reader.has_perm("talents.view_talent")
    pending = draft(city_admin)
    sent = draft(city_admin)
    campaigns.start_sending(sent, user=city_admin)
    assert Worker("w").run_once() == "succeeded"

    client.force_login(city_admin)
    assert "王晓东" in body(client.get(reverse("campaign_detail", args=[pending.pk])))
    assert "王晓东" in body(client.get(reverse("campaign_detail", args=[sent.pk])))
    client.force_login(reader)
    for campaign in (pending, sent):
        page = client.get(reverse("campaign_detail", args=[campaign.pk]))
        assert page.status_code == 200
        assert "王晓东" not in body(page) and "王教授" not in body(page) and "没有查看人才信息的权限" in body(page)


def test_a_talent_number_from_the_query_string_must_be_ascii_digits(client, yanhu_officer, talents):
    client.force_login(yanhu_officer)
    page = client.get(reverse("optout_add") + "?talent=²")
    assert page.status_code == 200 and "²" not in body(page)


def test_a_county_officer_prepares_greetings_for_their_own_county_only(client, city_admin, yanhu_officer, talents):
    soon = dt.date.today() + dt.timedelta(days=1)
    if (soon.month, soon.day) == (2, 29):
        soon += dt.timedelta(days=1)
    make_talent(city_admin, name="生日甲", birth_date=soon.replace(year=1980), mobile="13912340001")
    make_talent(city_admin, name="生日乙", region_code="140882", birth_date=soon.replace(year=1985))
    client.force_login(yanhu_officer)
    assert "生成问候草稿" in body(client.get(reverse("greeting_list")))
    assert client.post(reverse("greeting_prepare")).status_code == 302
    assert Worker("w").run_once() == "succeeded"
    assert set(Campaign.objects.values_list("region__code", flat=True)) == {"140802"}
    job = __import__("rencai.core.models", fromlist=["Job"]).Job.objects.get(kind="liaison.greetings")
    assert job.result["created"] == Campaign.objects.count()
    draft_of_day = Campaign.objects.get(occasion=f"birthday:{soon.isoformat()}")
    assert set(draft_of_day.talents.values_list("name", flat=True)) == {"生日甲"}


def test_without_the_public_url_the_page_warns_and_sending_is_refused(client, city_admin, talents, settings):
    settings.PUBLIC_URL = ""
    campaign = draft(city_admin, subject="家乡通讯")
    campaign.channel = CampaignChannel.EMAIL
    campaign.save(update_fields=["channel"])
    client.force_login(city_admin)
    assert "RENCAI_PUBLIC_URL" in body(client.get(reverse("campaign_detail", args=[campaign.pk])))
    response = client.post(reverse("campaign_send", args=[campaign.pk]), {"confirm": "on"}, follow=True)
    assert "请系统管理员设置 RENCAI_PUBLIC_URL" in body(response)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
