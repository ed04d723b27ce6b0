"""Campaigns (推送活动): placeholders and their errors, the audience of a saved view within the
maker's scope, sending through the job with failures, retries and backoff, the send-rate limit,
resuming, opt-out honoured across campaigns (link and staff entry), the outbox, e-mail through
Django's backends, update links that intake's signer accepts, and the audit of a send."""

from __future__ import annotations

import datetime as dt
import types
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, override_settings

from rencai.core.jobs import Worker
from rencai.core.models import AuditEntry, Job
from rencai.core.models.jobs import JobStatus
from rencai.liaison import campaigns, intake
from rencai.liaison.models import (
    Campaign,
    CampaignChannel,
    CampaignKind,
    CampaignStatus,
    OptOut,
    OptOutSource,
    OutboxMessage,
    RecipientStatus,
)
from rencai.liaison.senders import OutboxSender, PermanentSendError, SendError
from rencai.talents import services as talent_services
from rencai.talents.choices import Gender, TalentStatus
from rencai.talents.tests.helpers import make_talent, region

pytestmark = pytest.mark.django_db

LIST_KEY = "talents.talent"


# --- helpers ---------------------------------------------------------------------------------------------
class FakeClock:
    """The campaign module's clock: ``sleep`` moves it on instead of waiting."""

    def __init__(self):
        self.now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(campaigns, "_now", lambda: fake.now)
    monkeypatch.setattr(campaigns, "_sleep", fake.sleep)
    return fake


def saved_view(user, query: str, name: str = "在外高层次") -> dict:
    return talent_services.save_view(user, LIST_KEY, name=name, query=query, columns=[])


def make_campaign(user, *, region_code="140800", kind=CampaignKind.NEWSLETTER, channel=CampaignChannel.SMS,
                  body="{称谓}您好，{单位}的{职务}，家乡近况……", subject="", query="", **fields) -> Campaign:
    campaign = Campaign(name="家乡通讯第1期", kind=kind, channel=channel, body=body, subject=subject,
                        audience_query=query, region=region(region_code), **fields)
    campaign.created_by = user
    campaign.save()
    return campaign


def run_worker() -> str | None:
    return Worker("test-worker").run_once()


def send(campaign, user) -> Job:
    job = campaigns.start_sending(campaign, user=user)
    assert run_worker() == JobStatus.SUCCEEDED
    job.refresh_from_db()
    campaign.refresh_from_db()
    return job


def statuses(campaign) -> dict[str, str]:
    return {r.talent.name: r.status for r in campaign.recipients.select_related("talent")}


@pytest.fixture
def people(city_admin):
    """Three talents in 盐湖区 (one woman, one professor, one without a phone) and one in 河津市."""
    return types.SimpleNamespace(
        wang=make_talent(city_admin, name="王晓东", gender=Gender.MALE, title="教授", work_unit="清华大学",
                         position="副院长", mobile="13812340001", email="wxd@example.cn"),
        li=make_talent(city_admin, name="李芳", gender=Gender.FEMALE, work_unit="北京协和医院", position="主任",
                       mobile="13812340002", email="lf@example.cn"),
        zhao=make_talent(city_admin, name="赵强", gender=Gender.MALE, work_unit="华为", email=""),
        hejin=make_talent(city_admin, name="欧阳明", region_code="140882", gender=Gender.MALE,
                          mobile="13812340004", email="oym@example.cn"),
    )


# --- placeholders -----------------------------------------------------------------------------------------
def test_it_renders_placeholders_per_talent(people, city_admin):
    campaign = make_campaign(city_admin, body="{称谓}：{姓名}，{单位}{职务}，{地区}")
    assert campaigns.render(campaign.body, people.wang, campaign) == "王教授：王晓东，清华大学副院长，盐湖区"
    assert campaigns.render(campaign.body, people.li, campaign).startswith("李女士：李芳")
    assert campaigns.render("{称谓}", people.hejin, campaign) == "欧阳先生"  # a compound surname
    assert campaigns.render("{职务}", people.zhao, campaign) == ""  # nothing known: nothing written


def test_it_refuses_an_unknown_placeholder_by_name(city_admin):
    with pytest.raises(ValidationError) as caught:
        campaigns.check_template("{姓名}您好，{手机号}已登记", field_label="内容模板")
    message = caught.value.messages[0]
    assert "{手机号}" in message and "{姓名}" not in message.split("可用")[0]
    assert "可用的占位符" in message and "{称谓}" in message


def test_a_campaign_with_an_unknown_placeholder_is_not_sent(people, city_admin):
    campaign = make_campaign(city_admin, body="{尊称}您好")
    with pytest.raises(ValidationError, match="尊称"):
        campaigns.start_sending(campaign, user=city_admin)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT and not Job.objects.exists()


def test_an_update_campaign_must_carry_the_update_link(city_admin):
    errors = campaigns.check_campaign_template(kind=CampaignKind.UPDATE, channel=CampaignChannel.SMS,
                                               subject="", body="{称谓}请核对信息")
    assert "{更新链接}" in errors["body"][0]
    assert campaigns.check_campaign_template(kind=CampaignKind.UPDATE, channel=CampaignChannel.SMS,
                                             subject="", body="{称谓}请核对：{更新链接}") == {}
    assert "邮件标题" in campaigns.check_campaign_template(
        kind=CampaignKind.NEWSLETTER, channel=CampaignChannel.EMAIL, subject="", body="x")["subject"][0]


# --- audience and scope -----------------------------------------------------------------------------------
def test_the_audience_is_the_saved_view_within_the_makers_scope(people, city_admin, yanhu_officer, hejin_officer):
    view = saved_view(city_admin, "kind=native")
    city = make_campaign(city_admin, query=view["query"])
    assert set(campaigns.audience(city).values_list("name", flat=True)) == {"王晓东", "李芳", "赵强", "欧阳明"}

    # The same filters in a county officer's view, campaign filed under the city: still their county only.
    yanhu_view = saved_view(yanhu_officer, "kind=native")
    yanhu = make_campaign(yanhu_officer, region_code="140802", query=yanhu_view["query"])
    assert set(campaigns.audience(yanhu).values_list("name", flat=True)) == {"王晓东", "李芳", "赵强"}
    hejin = make_campaign(hejin_officer, region_code="140882", query="kind=native")
    assert list(campaigns.audience(hejin).values_list("name", flat=True)) == ["欧阳明"]

    # A view's filters narrow it; a deceased talent is never written to.
    assert list(campaigns.audience(make_campaign(city_admin, query="q=李芳")).values_list("name", flat=True)) == ["李芳"]
    people.zhao.status = TalentStatus.DECEASED
    people.zhao.save(update_fields=["status"])
    assert "赵强" not in set(campaigns.audience(city).values_list("name", flat=True))


def test_a_county_officers_campaign_reaches_only_their_county(people, yanhu_officer):
    campaign = make_campaign(yanhu_officer, region_code="140802", query="")
    send(campaign, yanhu_officer)
    assert set(statuses(campaign)) == {"王晓东", "李芳", "赵强"}
    assert not OutboxMessage.objects.filter(talent=people.hejin).exists()


def test_a_campaign_cannot_be_sent_out_of_scope(people, city_admin, hejin_officer):
    campaign = make_campaign(city_admin, region_code="140802")
    with pytest.raises(Exception) as caught:
        campaigns.start_sending(campaign, user=hejin_officer)
    assert type(caught.value).__name__ == "Http404"


# --- sending: the outbox, failures, retries, backoff, the rate limit -------------------------------------------
def test_it_sends_sms_to_the_outbox_with_a_status_per_recipient(people, city_admin, clock):
    campaign = make_campaign(city_admin, region_code="140802")
    job = send(campaign, city_admin)
    assert statuses(campaign) == {"王晓东": RecipientStatus.SENT, "李芳": RecipientStatus.SENT,
                                  "赵强": RecipientStatus.FAILED}
    assert campaign.recipients.get(talent=people.zhao).error == "没有手机号码"
    assert campaign.status == CampaignStatus.SENT and campaign.finished_at is not None
    message = OutboxMessage.objects.get(talent=people.wang)
    assert message.address == "13812340001" and message.body.startswith("王教授您好，清华大学的副院长")
    assert job.result["sent"] == 2 and job.result["failed"] == 1
    # The address and text are encrypted at rest.
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT address, body FROM liaison_outboxmessage WHERE id = %s", [message.pk])
        stored = cursor.fetchone()
    assert "13812340001" not in stored[0] and "王教授" not in stored[1]


class FlakySender(OutboxSender):
    """Fails each talent's first ``FAILURES[name]`` tries; 赵强's number is refused for good."""

    FAILURES: dict[str, int] = {}
    calls: list[str] = []

    def send(self, message):
        name = message.talent.name
        FlakySender.calls.append(name)
        if name == "欧阳明":
            raise PermanentSendError("号码被网关拒收")
        if FlakySender.FAILURES.get(name, 0) > 0:
            FlakySender.FAILURES[name] -= 1
            raise SendError("网关繁忙")
        super().send(message)


@pytest.fixture
def flaky(settings):
    settings.CAMPAIGN_SMS_SENDER = f"{__name__}.FlakySender"
    settings.CAMPAIGN_MAX_ATTEMPTS = 3
    settings.CAMPAIGN_RETRY_SECONDS = 60
    settings.CAMPAIGN_SEND_PER_MINUTE = 600
    FlakySender.calls = []
    return FlakySender


def test_failures_are_retried_with_backoff_up_to_the_maximum(people, city_admin, clock, flaky):
    flaky.FAILURES = {"王晓东": 2, "李芳": 5}
    people.zhao.mobile = "13812340003"
    people.zhao.save(update_fields=["mobile"])
    campaign = make_campaign(city_admin)
    start = clock.now
    send(campaign, city_admin)
    assert statuses(campaign) == {
        "王晓东": RecipientStatus.SENT,     # third try
        "李芳": RecipientStatus.FAILED,     # three tries, all failed
        "赵强": RecipientStatus.SENT,
        "欧阳明": RecipientStatus.FAILED,   # refused: not tried again
    }
    assert flaky.calls.count("王晓东") == 3 and flaky.calls.count("李芳") == 3 and flaky.calls.count("欧阳明") == 1
    li = campaign.recipients.get(talent=people.li)
    assert li.attempts == 3 and li.error == "网关繁忙" and li.next_attempt_at is None
    assert campaign.recipients.get(talent=people.hejin).error == "号码被网关拒收"
    # Waits of 60 s, then 120 s, before the third try: about three minutes in all.
    assert dt.timedelta(seconds=180) <= clock.now - start < dt.timedelta(seconds=200)
    assert campaign.status == CampaignStatus.SENT


def test_the_send_rate_is_limited(people, city_admin, clock, settings):
    settings.CAMPAIGN_SEND_PER_MINUTE = 2
    for n in range(3):
        make_talent(city_admin, name=f"孙{n}", mobile=f"1391234000{n}")
    campaign = make_campaign(city_admin, region_code="140802")
    start = clock.now
    send(campaign, city_admin)
    sent = sorted(campaign.recipients.filter(status=RecipientStatus.SENT).values_list("sent_at", flat=True))
    assert len(sent) == 5
    gaps = [(b - a).total_seconds() for a, b in zip(sent, sent[1:], strict=False)]
    assert all(gap >= 30 for gap in gaps), gaps
    assert clock.now - start >= dt.timedelta(seconds=30 * 4)


def test_an_interrupted_send_resumes_with_what_is_still_queued(people, city_admin, clock, flaky):
    flaky.FAILURES = {}
    campaign = make_campaign(city_admin, region_code="140802")
    campaigns.start_sending(campaign, user=city_admin)
    stops = iter([False, False, True])  # cut off after the first message
    campaigns.send_campaign(campaign, should_stop=lambda: next(stops, True))
    assert sorted(statuses(campaign).values()).count(RecipientStatus.SENT) == 1
    # The worker runs the queued job: the message already sent is not sent again.
    assert run_worker() == JobStatus.SUCCEEDED
    assert flaky.calls.count("王晓东") == 1 and flaky.calls.count("李芳") == 1
    assert OutboxMessage.objects.filter(campaign=campaign).count() == 2
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT


def test_a_sent_campaign_is_not_sent_again(people, city_admin):
    campaign = make_campaign(city_admin, region_code="140802")
    send(campaign, city_admin)
    with pytest.raises(ValidationError, match="已开始发送"):
        campaigns.start_sending(campaign, user=city_admin)


def test_stopping_leaves_the_rest_unsent(people, city_admin):
    campaign = make_campaign(city_admin, region_code="140802")
    campaigns.start_sending(campaign, user=city_admin)
    campaigns.stop_sending(campaign, user=city_admin)
    assert run_worker() in (JobStatus.CANCELLED, None)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert not OutboxMessage.objects.exists()


# --- opt-out ---------------------------------------------------------------------------------------------
def test_an_opt_out_is_honoured_by_every_later_campaign(people, city_admin, yanhu_officer):
    campaigns.opt_out(people.wang, CampaignChannel.SMS, user=yanhu_officer, note="电话中表示不再接收短信")
    campaigns.opt_out(people.li, "", user=yanhu_officer)  # every channel
    for channel in (CampaignChannel.SMS, CampaignChannel.WECHAT):
        people.li.wechat = "lf_wx"
        people.li.save(update_fields=["wechat"])
        people.wang.wechat = "wxd_wx"
        people.wang.save(update_fields=["wechat"])
        campaign = make_campaign(yanhu_officer, region_code="140802", channel=channel)
        send(campaign, yanhu_officer)
        got = statuses(campaign)
        assert got["李芳"] == RecipientStatus.OPTED_OUT
        assert got["王晓东"] == (RecipientStatus.OPTED_OUT if channel == CampaignChannel.SMS else RecipientStatus.SENT)
    assert not OutboxMessage.objects.filter(talent=people.li).exists()
    assert OutboxMessage.objects.filter(talent=people.wang, channel=CampaignChannel.SMS).count() == 0
    # Recording it twice keeps one record.
    assert campaigns.opt_out(people.li, CampaignChannel.SMS, user=yanhu_officer).channel == ""
    assert OptOut.objects.filter(talent=people.li).count() == 1


def test_staff_cannot_record_an_opt_out_out_of_scope(people, hejin_officer):
    with pytest.raises(Exception) as caught:
        campaigns.opt_out(people.wang, CampaignChannel.SMS, user=hejin_officer)
    assert type(caught.value).__name__ == "Http404"
    assert not OptOut.objects.exists()


def test_an_opt_out_during_a_send_stops_the_queued_message(people, city_admin, clock):
    campaign = make_campaign(city_admin, region_code="140802")
    campaigns.start_sending(campaign, user=city_admin)
    campaigns.prepare_recipients(campaign)
    campaigns.opt_out(people.li, CampaignChannel.SMS, source=OptOutSource.LINK)
    assert run_worker() == JobStatus.SUCCEEDED
    assert statuses(campaign)["李芳"] == RecipientStatus.OPTED_OUT
    assert not OutboxMessage.objects.filter(talent=people.li).exists()


# --- e-mail, the unsubscribe link, update links ---------------------------------------------------------------
@override_settings(PUBLIC_URL="https://rencai.example.gov.cn")
def test_emails_carry_a_working_unsubscribe_link(people, city_admin, client):
    campaign = make_campaign(city_admin, region_code="140802", channel=CampaignChannel.EMAIL,
                             subject="{称谓}，家乡通讯第1期", body="{称谓}：家乡新闻……")
    send(campaign, city_admin)
    assert sorted(m.to[0] for m in mail.outbox) == ["lf@example.cn", "wxd@example.cn"]
    letter = next(m for m in mail.outbox if m.to == ["wxd@example.cn"])
    assert letter.subject == "王教授，家乡通讯第1期"
    link = letter.extra_headers["List-Unsubscribe"].strip("<>")
    assert link in letter.body and link.startswith("https://rencai.example.gov.cn/join/unsubscribe/?t=")
    assert "wxd" not in link and str(people.wang.pk) not in parse_qs(urlparse(link).query)["t"][0][:8]
    assert statuses(campaign)["赵强"] == RecipientStatus.FAILED  # no address

    # Anyone holding the link (no sign-in) sees a confirmation page; only the POST records it.
    public = Client()
    path = link.removeprefix("https://rencai.example.gov.cn")
    page = public.get(path)
    assert page.status_code == 200 and "退订" in page.content.decode() and "王晓东" not in page.content.decode()
    assert not OptOut.objects.exists()
    done = public.post(path, {"t": parse_qs(urlparse(link).query)["t"][0]})
    assert done.status_code == 200 and "已退订" in done.content.decode()
    record = OptOut.objects.get()
    assert (record.talent, record.channel, record.source) == (people.wang, CampaignChannel.EMAIL, OptOutSource.LINK)

    # The next e-mail campaign skips him; an altered link records nothing.
    mail.outbox.clear()
    again = make_campaign(city_admin, region_code="140802", channel=CampaignChannel.EMAIL, subject="第2期", body="x")
    send(again, city_admin)
    assert [m.to[0] for m in mail.outbox] == ["lf@example.cn"]
    assert statuses(again)["王晓东"] == RecipientStatus.OPTED_OUT
    assert public.post("/join/unsubscribe/", {"t": "x" + parse_qs(urlparse(link).query)["t"][0]}).status_code == 404
    assert OptOut.objects.count() == 1


@override_settings(PUBLIC_URL="https://rencai.example.gov.cn")
def test_update_links_in_an_update_campaign_verify_with_intakes_signer(people, city_admin):
    campaign = make_campaign(city_admin, region_code="140802", kind=CampaignKind.UPDATE,
                             body="{称谓}您好，请核对您的信息：{更新链接}")
    send(campaign, city_admin)
    for talent in (people.wang, people.li):
        body = OutboxMessage.objects.get(talent=talent).body
        link = body.split("：", 1)[1]
        assert link.startswith("https://rencai.example.gov.cn/join/update/?t=")
        token = parse_qs(urlparse(link).query)["t"][0]
        assert intake.talent_for_token(token) == talent
    # The preview never shows a live link.
    preview = campaigns.preview(campaign)
    assert all("[本人信息更新链接]" in row["body"] and "?t=" not in row["body"] for row in preview)


def test_the_file_backend_writes_each_message(people, city_admin, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.PUBLIC_URL = "https://rencai.example.gov.cn"
    campaign = make_campaign(city_admin, region_code="140802", channel=CampaignChannel.EMAIL, subject="通讯", body="{称谓}")
    send(campaign, city_admin)
    written = "".join(path.read_text() for path in tmp_path.iterdir())
    assert "wxd@example.cn" in written and "lf@example.cn" in written


# --- preview and audit ----------------------------------------------------------------------------------------
def test_preview_shows_the_first_recipients_messages(people, city_admin):
    campaigns.opt_out(people.li, "", user=city_admin)
    campaign = make_campaign(city_admin, region_code="140802", body="{称谓}：{单位}")
    rows = campaigns.preview(campaign)
    assert [row["body"] for row in rows] == ["王教授：清华大学", "李女士：北京协和医院", "赵先生：华为"]
    assert [row["opted_out"] for row in rows] == [False, True, False]
    assert [row["has_address"] for row in rows] == [True, True, False]
    assert not campaign.recipients.exists()  # a preview writes nothing


def test_a_send_is_audited(people, city_admin):
    campaign = make_campaign(city_admin, region_code="140802")
    send(campaign, city_admin)
    entries = AuditEntry.objects.filter(object_type="liaison.campaign", object_id=str(campaign.pk))
    messages = list(entries.values_list("message", flat=True))
    assert "开始发送推送活动" in messages and "生成发送名单" in messages and "推送活动发送完毕" in messages
    started = entries.get(message="开始发送推送活动")
    assert started.actor == city_admin and started.changes["audience"] == 3 and started.region_code == "140802"
    finished = entries.get(message="推送活动发送完毕")
    assert finished.changes["sent"] == 2 and finished.changes["failed"] == 1
    assert AuditEntry.objects.filter(action="job", changes__kind="liaison.campaign_send").exists()


def test_a_campaign_message_is_not_a_contact_record(people, city_admin):
    from rencai.liaison.models import ContactRecord, ContactState

    before = ContactState.objects.get(talent=people.wang).next_due
    send(make_campaign(city_admin, region_code="140802"), city_admin)
    assert not ContactRecord.objects.exists()
    assert ContactState.objects.get(talent=people.wang).next_due == before


# --- claims: each message sent once, opt-outs honoured to the last moment ------------------------------------
class WorkerDied(BaseException):
    """The worker vanishing mid-send (a restart, a kill): nothing after it in the worker runs."""


class RecordingSender(OutboxSender):
    """Records each message handed to it; ``after_send(message)`` runs once it has "left"."""

    sent: list[str] = []
    after_send = None

    def send(self, message):
        RecordingSender.sent.append(message.talent.name)
        super().send(message)
        if RecordingSender.after_send is not None:
            RecordingSender.after_send(message)


@pytest.fixture
def recording(settings):
    settings.CAMPAIGN_SMS_SENDER = f"{__name__}.RecordingSender"
    settings.CAMPAIGN_SEND_PER_MINUTE = 6000
    RecordingSender.sent = []
    RecordingSender.after_send = None
    yield RecordingSender
    RecordingSender.after_send = None


def test_a_worker_that_dies_after_sending_does_not_cause_a_second_send(people, city_admin, clock, recording):
    campaign = make_campaign(city_admin, region_code="140802")
    campaigns.start_sending(campaign, user=city_admin)

    def die(message):
        recording.after_send = None
        raise WorkerDied

    recording.after_send = die
    with pytest.raises(WorkerDied):
        campaigns.send_campaign(campaign)
    assert recording.sent == ["王晓东"]
    # The job runs again (resumed): 王晓东's message may have left, so it is not sent again but
    # marked failed with the reason, for staff to decide.
    campaigns.send_campaign(campaign)
    assert recording.sent == ["王晓东", "李芳"]
    wang = campaign.recipients.get(talent=people.wang)
    assert wang.status == RecipientStatus.FAILED and "无法确认是否已发出" in wang.error and wang.attempts == 1
    assert statuses(campaign)["李芳"] == RecipientStatus.SENT
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert AuditEntry.objects.filter(object_id=str(campaign.pk), changes__interrupted=1).exists()


def test_an_opt_out_recorded_during_a_batch_is_honoured(people, city_admin, clock, recording):
    campaign = make_campaign(city_admin, region_code="140802")
    campaigns.start_sending(campaign, user=city_admin)

    def li_opts_out(message):  # 李芳 clicks the link while the batch holding her message is being sent
        if message.talent == people.wang:
            campaigns.opt_out(people.li, CampaignChannel.SMS, source=OptOutSource.LINK)

    recording.after_send = li_opts_out
    campaigns.send_campaign(campaign)
    assert recording.sent == ["王晓东"]
    assert statuses(campaign)["李芳"] == RecipientStatus.OPTED_OUT


def test_an_opt_out_of_a_queued_row_is_checked_at_claim_time(people, city_admin, clock, recording):
    campaign = make_campaign(city_admin, region_code="140802")
    campaigns.start_sending(campaign, user=city_admin)
    campaigns.prepare_recipients(campaign)
    li = campaign.recipients.select_related("talent").get(talent=people.li)
    # An opt-out whose queued rows were not updated (made before the row existed, say).
    OptOut.objects.create(talent=people.li, channel="", source=OptOutSource.STAFF)
    assert not campaigns.claim(campaign, li)
    li.refresh_from_db()
    assert li.status == RecipientStatus.OPTED_OUT and li.attempts == 0


def test_two_workers_sending_the_same_batch_send_each_message_once(people, city_admin, clock, recording):
    campaign = make_campaign(city_admin, region_code="140802")
    campaigns.start_sending(campaign, user=city_admin)
    campaigns.prepare_recipients(campaign)
    batch = list(campaign.recipients.select_related("talent__region").order_by("id"))  # both read the same batch
    other_worker_ran = []

    def other_worker(message):
        # While worker A's first message is out, worker B goes through the same batch.
        if not other_worker_ran:
            other_worker_ran.append(True)
            sender_b, throttle_b = RecordingSender("sms"), campaigns.Throttle(6000)
            for recipient in batch:
                campaigns._send_one(campaign, recipient, sender_b, throttle_b)

    recording.after_send = other_worker
    sender_a, throttle_a = RecordingSender("sms"), campaigns.Throttle(6000)
    for recipient in batch:
        campaigns._send_one(campaign, recipient, sender_a, throttle_a)
    assert sorted(recording.sent) == ["李芳", "王晓东"]
    assert OutboxMessage.objects.filter(campaign=campaign).count() == 2
    assert set(statuses(campaign).values()) == {RecipientStatus.SENT, RecipientStatus.FAILED}  # 赵强: no number
    assert all(r.attempts == 1 for r in campaign.recipients.filter(status=RecipientStatus.SENT))


def test_the_send_rate_is_shared_by_every_sending_job(clock, refdata):
    # Two campaign jobs sending at once: each reserves its slots in the same row.
    first, second = campaigns.Throttle(60), campaigns.Throttle(60)
    left = []
    for throttle in (first, second, first, second):
        throttle.wait()
        left.append(clock.now)
    gaps = [(b - a).total_seconds() for a, b in zip(left, left[1:], strict=False)]
    assert gaps == [1.0, 1.0, 1.0], gaps


# --- links need the public address; subjects stay on one line -------------------------------------------------
@override_settings(PUBLIC_URL="")
@pytest.mark.parametrize(("channel", "body"), [
    (CampaignChannel.EMAIL, "{称谓}：家乡新闻"),
    (CampaignChannel.SMS, "{称谓}请核对：{更新链接}"),
    (CampaignChannel.SMS, "{称谓}：家乡新闻。退订：{退订链接}"),
])
def test_without_the_public_url_a_campaign_with_links_is_not_started(people, city_admin, channel, body):
    campaign = make_campaign(city_admin, region_code="140802", channel=channel, subject="通讯", body=body)
    with pytest.raises(campaigns.NotSendable, match="RENCAI_PUBLIC_URL"):
        campaigns.start_sending(campaign, user=city_admin)
    campaign.refresh_from_db()
    assert campaign.is_draft and not Job.objects.exists()
    # One without links goes out.
    send(make_campaign(city_admin, region_code="140802", body="{称谓}您好"), city_admin)


@override_settings(PUBLIC_URL="https://rencai.example.gov.cn")
def test_a_line_break_in_talent_data_does_not_break_the_subject(people, city_admin):
    people.wang.work_unit = "清华大学\r\nBcc: x@example.cn"
    people.wang.save(update_fields=["work_unit"])
    campaign = make_campaign(city_admin, region_code="140802", channel=CampaignChannel.EMAIL,
                             subject="{单位}校友，家乡通讯", body="{称谓}")
    send(campaign, city_admin)
    letter = next(m for m in mail.outbox if m.to == ["wxd@example.cn"])
    assert letter.subject == "清华大学 Bcc: x@example.cn校友，家乡通讯"
    assert statuses(campaign)["王晓东"] == RecipientStatus.SENT
