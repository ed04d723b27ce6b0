"""Campaigns (推送活动): audience, message templates, preview, sending, opt-out.

- **Audience.** A campaign copies the filters of one of its maker's saved views of the talent
  list (``talents.services.saved_views``) and resolves them through the registry's own FilterSet
  within the maker's data scope and the campaign's region, so a county officer's campaign
  reaches only their county. Greeting drafts, made by no one, list their talents (birthdays) or
  take every talent the region itself manages (festivals). Deceased talents never receive one.
- **Templates.** ``{姓名}``, ``{称谓}`` … (``PLACEHOLDERS``) are filled in per talent; an unknown
  placeholder is refused with its name and the list of known ones. A 信息更新 campaign must
  carry ``{更新链接}``: each talent's signed, expiring update link (``intake.update_link``).
- **Sending** (``start_sending`` → the job ``liaison.campaign_send`` → ``send_campaign``):
  one ``CampaignRecipient`` per talent, queued or, for those who opted out, 已退订 at once. Each
  message is first claimed (queued → 发送中, by a conditional update that also re-checks the
  opt-outs), then handed to the sender outside any transaction, then marked sent, or queued
  again after ``CAMPAIGN_RETRY_SECONDS`` (doubled each time, up to ``CAMPAIGN_MAX_ATTEMPTS``
  attempts), or failed. At most ``CAMPAIGN_SEND_PER_MINUTE`` messages a minute leave rencai in
  all, whatever the number of jobs sending (the slots are reserved in one database row,
  ``CampaignSendPace``). A send cut off by a restart resumes with what is still queued; a message
  its vanished worker left 发送中 may or may not have gone out, so it is marked failed with that
  reason, never sent blindly again: staff decide.
- **Links.** ``{更新链接}``, ``{退订链接}`` and every e-mail's unsubscribe link are absolute
  addresses built on ``settings.PUBLIC_URL``: without it (RENCAI_PUBLIC_URL) such a campaign is
  refused before it starts.
- **Opt-out** is for good: an ``OptOut`` row per talent and channel (or all channels), from the
  link at the foot of every e-mail or entered by staff; every later campaign skips the talent.

A campaign message is not a contact record: see docs/campaigns.md (it changes no talent's
liaison schedule).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from rencai.core import audit, crypto
from rencai.core.jobs import enqueue, request_cancel
from rencai.core.models.audit import AuditAction
from rencai.core.scope import check_in_scope
from rencai.liaison import intake
from rencai.liaison.models_campaigns import (
    Campaign,
    CampaignChannel,
    CampaignKind,
    CampaignRecipient,
    CampaignSendPace,
    CampaignStatus,
    OptOut,
    OptOutSource,
    RecipientStatus,
)
from rencai.liaison.senders import OutgoingMessage, PermanentSendError, SendError, sender_for
from rencai.talents.choices import Gender, TalentStatus
from rencai.talents.filters import TalentFilterSet, regions_under
from rencai.talents.models import Talent

logger = logging.getLogger("rencai.liaison.campaigns")

SEND_JOB = "liaison.campaign_send"
UNSUBSCRIBE_SALT = "rencai.liaison.campaigns.unsubscribe"
PREVIEW_SIZE = 5
BATCH = 100
ADDRESS_FIELD = {CampaignChannel.EMAIL: "email", CampaignChannel.SMS: "mobile", CampaignChannel.WECHAT: "wechat"}


# --- the clock (one, so tests can move it) -------------------------------------------------------------
def _now():
    return timezone.now()


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


# --- placeholders ----------------------------------------------------------------------------------------
COMPOUND_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐", "端木",
)
# Titles people are addressed by (王教授), checked in this order against 职称 and 职务.
ADDRESSED_TITLES = ("院士", "教授", "研究员", "主任医师", "高级工程师", "博士")


def surname(name: str) -> str:
    name = (name or "").strip()
    return next((s for s in COMPOUND_SURNAMES if name.startswith(s) and len(name) > len(s)), name[:1])


def salutation(talent: Talent) -> str:
    """How a letter addresses the talent: 王教授, 李研究员, else 张先生 / 刘女士, else the full name."""
    family = surname(talent.name)
    for title in ADDRESSED_TITLES:
        if title in (talent.title or "") or title in (talent.position or ""):
            return family + title
    if talent.gender == Gender.MALE:
        return family + _("先生")
    if talent.gender == Gender.FEMALE:
        return family + _("女士")
    return talent.name


@dataclass(frozen=True)
class Placeholder:
    name: str
    help: str
    value: object  # (talent, campaign) -> str


PLACEHOLDERS = {p.name: p for p in (
    Placeholder("姓名", "人才姓名", lambda t, c: t.name),
    Placeholder("称谓", "如“王教授”“李女士”", lambda t, c: salutation(t)),
    Placeholder("单位", "工作单位", lambda t, c: t.work_unit),
    Placeholder("职务", "职务", lambda t, c: t.position),
    Placeholder("职称", "专业技术职称", lambda t, c: t.title),
    Placeholder("地区", "所属地区", lambda t, c: t.region.name),
    Placeholder("更新链接", "本人信息核对更新链接（限时有效）", lambda t, c: intake.update_link(t)),
    Placeholder("退订链接", "退订链接", lambda t, c: unsubscribe_link(t, c.channel)),
)}
PLACEHOLDER_PATTERN = re.compile(r"\{([^{}\s]{1,20})\}")


def placeholders_in(text: str) -> list[str]:
    return PLACEHOLDER_PATTERN.findall(text or "")


def check_template(text: str, *, field_label: str = "") -> None:
    """Refuse a template with a placeholder rencai does not know, naming it and the known ones."""
    unknown = [name for name in dict.fromkeys(placeholders_in(text)) if name not in PLACEHOLDERS]
    if unknown:
        raise ValidationError(
            _("%(field)s中的占位符 %(unknown)s 无法识别。可用的占位符：%(known)s。") % {
                "field": field_label or _("模板"),
                "unknown": "、".join(f"{{{name}}}" for name in unknown),
                "known": "、".join(f"{{{name}}}" for name in PLACEHOLDERS),
            },
            code="unknown_placeholder",
        )


def check_campaign_template(*, kind: str, channel: str, subject: str, body: str) -> dict[str, list]:
    """The template errors of a campaign, by field (empty when it may be sent)."""
    errors: dict[str, list] = {}
    for name, text, label in (("subject", subject, _("邮件标题")), ("body", body, _("内容模板"))):
        try:
            check_template(text, field_label=label)
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)
    if kind == CampaignKind.UPDATE and "更新链接" not in placeholders_in(body):
        errors.setdefault("body", []).append(_("信息更新推送的内容须包含 {更新链接}，每人收到的是本人的核对链接。"))
    if channel == CampaignChannel.EMAIL and not (subject or "").strip():
        errors.setdefault("subject", []).append(_("通过电子邮件发送时请填写邮件标题。"))
    return errors


# In a preview on a staff screen the links are named, not made: live links to other people's
# records must not be handed out there.
PREVIEW_LINKS = {"更新链接": "[本人信息更新链接]", "退订链接": "[退订链接]"}


def render(text: str, talent: Talent, campaign: Campaign, *, live_links: bool = True) -> str:
    """``text`` with each placeholder replaced by the talent's value (empty when it has none)."""
    check_template(text)
    cache: dict[str, str] = {}

    def value(match: re.Match) -> str:
        name = match.group(1)
        if not live_links and name in PREVIEW_LINKS:
            return PREVIEW_LINKS[name]
        if name not in cache:
            cache[name] = str(PLACEHOLDERS[name].value(talent, campaign) or "")
        return cache[name]

    return PLACEHOLDER_PATTERN.sub(value, text or "")


# --- the unsubscribe link ----------------------------------------------------------------------------------
def unsubscribe_token(talent: Talent, channel: str) -> str:
    """Signed, with the talent's id encrypted (the link names nobody); it does not expire."""
    return signing.dumps({"t": crypto.encrypt(str(talent.pk)), "c": channel}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_link(talent: Talent, channel: str) -> str:
    return intake.public_url(reverse("campaign_unsubscribe") + "?" + urlencode({"t": unsubscribe_token(talent, channel)}))


def unsubscribe_target(token: str | None) -> tuple[Talent, str] | None:
    """The talent and channel of a valid unsubscribe token; None for anything altered or unknown."""
    if not token or len(token) > 1000:
        return None
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        pk = int(crypto.decrypt(payload["t"]))
        channel = payload["c"]
    except (signing.BadSignature, crypto.DecryptionError, KeyError, TypeError, ValueError):
        return None
    if channel not in CampaignChannel.values:
        return None
    talent = Talent._base_manager.filter(pk=pk).first()
    return (talent, channel) if talent is not None else None


# --- opt-out -----------------------------------------------------------------------------------------------
def opted_out(talent_ids, channel: str) -> set[int]:
    """Which of ``talent_ids`` opted out of ``channel`` (or of every channel)."""
    return set(OptOut.objects.filter(talent_id__in=list(talent_ids)).filter(Q(channel=channel) | Q(channel=""))
               .values_list("talent_id", flat=True))


def opt_out(talent: Talent, channel: str = "", *, source: str = OptOutSource.STAFF, user=None, campaign=None,
            note: str = "") -> OptOut:
    """Record that ``talent`` wants no more campaigns through ``channel`` ("" = any). Staff entry
    is checked against ``user``'s scope; an opt-out already covering it is returned as it is."""
    with transaction.atomic():
        Talent.objects.select_for_update().filter(pk=talent.pk).first()  # two clicks record one
        covering = OptOut.objects.filter(talent=talent).filter(Q(channel=channel) | Q(channel="")).first()
        if covering is not None:
            return covering
        record = OptOut(talent=talent, channel=channel, source=source, campaign=campaign, note=note[:200])
        if user is not None:
            check_in_scope(user, record, "add")
            record.created_by = user
        record.save()
        # The queued messages of campaigns still sending are not sent either.
        recipients = CampaignRecipient.objects.filter(talent=talent, status=RecipientStatus.QUEUED)
        if channel:
            recipients = recipients.filter(campaign__channel=channel)
        recipients.update(status=RecipientStatus.OPTED_OUT, next_attempt_at=None)
    return record


def opted_out_q(channel: str) -> Exists:
    """For recipient rows: whether their talent opted out of ``channel`` (or of every channel)."""
    return Exists(OptOut.objects.filter(talent_id=OuterRef("talent_id")).filter(Q(channel=channel) | Q(channel="")))


# --- audience -----------------------------------------------------------------------------------------------
def audience(campaign: Campaign):
    """The talents the campaign goes to, in id order: within its maker's scope and its region."""
    talents = Talent.objects.all()
    maker = audience_user(campaign)
    if maker is not None:
        talents = talents.restrict(maker, "view")
    if campaign.region_only:
        talents = talents.filter(region_id=campaign.region_id)
    else:
        talents = talents.filter(region__in=regions_under(campaign.region))
    talents = talents.exclude(status=TalentStatus.DECEASED)
    if campaign.pk is not None and campaign.talents.exists():
        talents = talents.filter(pk__in=campaign.talents.values("pk"))
    elif campaign.audience_query:
        filterset = TalentFilterSet(QueryDict(campaign.audience_query), queryset=talents, user=maker)
        talents = filterset.qs
    return talents.order_by("pk")


def audience_user(campaign: Campaign):
    """Whose scope the audience is resolved in: the user who chose its saved view
    (``audience_by``), else the maker; none for a greeting draft left as it was made (the talents
    its region manages, or its list of birthdays)."""
    if campaign.audience_by_id is not None:
        return campaign.audience_by
    return campaign.created_by if campaign.created_by_id is not None else None


def address_of(talent: Talent, channel: str) -> str:
    return (getattr(talent, ADDRESS_FIELD[channel]) or "").strip()


def preview(campaign: Campaign, limit: int = PREVIEW_SIZE) -> list[dict]:
    """The first recipients' messages as they would go out, and whether each would be skipped."""
    # Only the columns the placeholders and the address check read: no other personal field decrypted.
    columns = ("name", "gender", "title", "position", "work_unit", "region__name", ADDRESS_FIELD[campaign.channel])
    talents = list(audience(campaign).select_related("region").only(*columns)[:limit])
    skipped = opted_out([t.pk for t in talents], campaign.channel)
    return [{
        "talent": talent,
        "subject": render(campaign.subject, talent, campaign, live_links=False),
        "body": render(campaign.body, talent, campaign, live_links=False),
        "opted_out": talent.pk in skipped,
        "has_address": bool(address_of(talent, campaign.channel)),
    } for talent in talents]


def status_counts(campaign: Campaign) -> dict[str, int]:
    counts = dict(campaign.recipients.values_list("status").annotate(n=Count("id")).order_by())
    return {status: counts.get(status, 0) for status in RecipientStatus.values}


# --- sending ---------------------------------------------------------------------------------------------------
class NotSendable(ValidationError):
    pass


LINK_PLACEHOLDERS = ("更新链接", "退订链接")


def needs_public_url(campaign: Campaign) -> bool:
    """Whether the campaign's messages carry links to rencai: every e-mail (its unsubscribe link),
    and any message with {更新链接} or {退订链接}."""
    used = set(placeholders_in(campaign.subject)) | set(placeholders_in(campaign.body))
    return campaign.channel == CampaignChannel.EMAIL or any(name in used for name in LINK_PLACEHOLDERS)


def check_public_url(campaign: Campaign) -> None:
    if needs_public_url(campaign) and not settings.PUBLIC_URL:
        raise NotSendable(_(
            "尚未设置系统的公网访问地址，邮件中的退订链接和信息更新链接将无法打开，不能发送。"
            "请系统管理员设置 RENCAI_PUBLIC_URL（如 https://rencai.example.gov.cn）后再发送。"))


def start_sending(campaign: Campaign, *, user):
    """Queue the send of a draft (re-checked in scope, its template checked); audited."""
    with transaction.atomic():
        fresh = Campaign.objects.select_for_update().get(pk=campaign.pk)
        check_in_scope(user, fresh, "change")
        if not fresh.is_draft:
            raise NotSendable(_("该推送活动已开始发送，不能重复发送。"))
        errors = check_campaign_template(kind=fresh.kind, channel=fresh.channel, subject=fresh.subject, body=fresh.body)
        if errors:
            raise NotSendable([message for messages in errors.values() for message in messages])
        check_public_url(fresh)
        size = audience(fresh).count()
        if not size:
            raise NotSendable(_("发送对象中没有人才（请检查所用视图的筛选条件和数据范围）。"))
        job = enqueue(SEND_JOB, {"campaign": fresh.pk}, user, _("发送推送活动：%(name)s") % {"name": fresh.name})
        fresh.status, fresh.job, fresh.sent_by, fresh.started_at = CampaignStatus.SENDING, job, user, _now()
        fresh.save(update_fields=["status", "job", "sent_by", "started_at", "updated_at"])
        audit.record(AuditAction.UPDATE, obj=fresh, actor=user, changes={"audience": size, "channel": fresh.channel},
                     message=_("开始发送推送活动"))
    campaign.refresh_from_db()
    return job


def stop_sending(campaign: Campaign, *, user) -> None:
    """Stop a send: what is still queued stays unsent; audited."""
    with transaction.atomic():
        fresh = Campaign.objects.select_for_update().get(pk=campaign.pk)
        check_in_scope(user, fresh, "change")
        if fresh.status != CampaignStatus.SENDING:
            raise NotSendable(_("该推送活动不在发送中。"))
        fresh.status, fresh.finished_at = CampaignStatus.CANCELLED, _now()
        fresh.save(update_fields=["status", "finished_at", "updated_at"])
        audit.record(AuditAction.UPDATE, obj=fresh, actor=user, changes=status_counts(fresh), message=_("停止发送推送活动"))
    if fresh.job is not None:
        request_cancel(fresh.job, user)
    campaign.refresh_from_db()


def prepare_recipients(campaign: Campaign) -> int:
    """Write the campaign's recipients once (queued, or 已退订 for those who opted out)."""
    with transaction.atomic():
        fresh = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if fresh.recipients_ready:
            return fresh.recipients.count()
        ids = list(audience(fresh).values_list("pk", flat=True))
        total = skipped = 0
        for start in range(0, len(ids), 1000):
            chunk = ids[start:start + 1000]
            out = opted_out(chunk, fresh.channel)
            skipped += len(out)
            CampaignRecipient.objects.bulk_create([
                CampaignRecipient(campaign=fresh, talent_id=pk,
                                  status=RecipientStatus.OPTED_OUT if pk in out else RecipientStatus.QUEUED)
                for pk in chunk
            ])
            total += len(chunk)
        fresh.recipients_ready = True
        fresh.save(update_fields=["recipients_ready", "updated_at"])
        audit.record(AuditAction.CREATE, obj=fresh, changes={"recipients": total, "opted_out": skipped},
                     message=_("生成发送名单"))
    return total


class Throttle:
    """At most ``per_minute`` sends a minute, evenly spaced, across every sending job: each
    ``wait`` reserves the next free slot in the one ``CampaignSendPace`` row (under its lock, a
    short transaction), then sleeps until that slot."""

    # A reservation further ahead than this is taken for a clock that moved back: start from now.
    HORIZON = timedelta(hours=1)

    def __init__(self, per_minute: int):
        self.interval = timedelta(seconds=60 / per_minute)

    def reserve(self):
        """The moment this job's next message may leave."""
        if not CampaignSendPace.objects.filter(pk=1).exists():
            try:
                with transaction.atomic():
                    CampaignSendPace.objects.create(pk=1)
            except IntegrityError:  # another job made it first
                pass
        with transaction.atomic():
            pace = CampaignSendPace.objects.select_for_update().get(pk=1)
            now = _now()
            at = now if pace.next_at is None or pace.next_at < now or pace.next_at > now + self.HORIZON else pace.next_at
            pace.next_at = at + self.interval
            pace.save(update_fields=["next_at"])
        return at

    def wait(self) -> None:
        delay = (self.reserve() - _now()).total_seconds()
        if delay > 0:
            _sleep(delay)


def retry_delay(attempts: int) -> timedelta:
    """The wait before the next try after ``attempts`` failed ones: doubled each time."""
    return timedelta(seconds=settings.CAMPAIGN_RETRY_SECONDS * 2 ** max(attempts - 1, 0))


def _failure_text(exc: Exception) -> str:
    if isinstance(exc, SendError):
        return str(exc)[:200]
    return _("发送出错（%(kind)s）") % {"kind": type(exc).__name__}


def mark_interrupted(campaign: Campaign) -> int:
    """Mark failed, with the reason, the messages a vanished worker left 发送中: each may or may
    not have left, so none is sent again blindly. Called when a send (re)starts: the job system
    runs a campaign's job in one worker at a time, so such rows are no live worker's."""
    return CampaignRecipient.objects.filter(campaign=campaign, status=RecipientStatus.SENDING).update(
        status=RecipientStatus.FAILED, next_attempt_at=None, error=_("发送中断，无法确认是否已发出（未自动重发，请核实后决定是否另行发送）"))


def send_campaign(campaign: Campaign, *, progress=None, should_stop=None) -> dict[str, int]:
    """Send what is queued and due, retrying failures, until nothing is queued (or told to stop).

    Safe to run again: it only ever sends rows it claimed from queued."""
    prepare_recipients(campaign)
    interrupted = mark_interrupted(campaign)
    if interrupted:
        logger.warning("campaign %s: %d messages left unconfirmed by an interrupted send", campaign.pk, interrupted)
        audit.record(AuditAction.UPDATE, obj=campaign, changes={"interrupted": interrupted},
                     message=_("发送中断的消息已标记为发送失败"))
    sender = sender_for(campaign.channel)
    throttle = Throttle(settings.CAMPAIGN_SEND_PER_MINUTE)
    recipients = CampaignRecipient.objects.filter(campaign=campaign)
    total = recipients.count()
    queued = recipients.filter(status=RecipientStatus.QUEUED)
    stopped = False
    try:
        while not stopped:
            if (should_stop and should_stop()) or Campaign.objects.filter(
                    pk=campaign.pk, status=CampaignStatus.CANCELLED).exists():
                stopped = True
                break
            now = _now()
            batch = list(queued.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                         .select_related("talent__region").order_by("id")[:BATCH])
            if not batch:
                upcoming = queued.aggregate(at=Min("next_attempt_at"))["at"]
                if upcoming is None:
                    break
                _sleep(min(max((upcoming - now).total_seconds(), 0.05), 5.0))
                continue
            for recipient in batch:
                if should_stop and should_stop():
                    stopped = True
                    break
                _send_one(campaign, recipient, sender, throttle)
            if progress:
                progress(total - queued.count(), total)
    finally:
        sender.close()
    counts = status_counts(campaign)
    if not stopped and not counts[RecipientStatus.QUEUED] and not counts[RecipientStatus.SENDING]:
        with transaction.atomic():
            if Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING).update(
                    status=CampaignStatus.SENT, finished_at=_now()):
                audit.record(AuditAction.UPDATE, obj=campaign, changes=counts, message=_("推送活动发送完毕"))
    return counts


def one_line(text: str) -> str:
    """A rendered e-mail subject on one line: talent data may hold line breaks."""
    return " ".join(text.splitlines()).strip()


def claim(campaign: Campaign, recipient: CampaignRecipient) -> bool:
    """Take a queued message for sending (queued → 发送中, one more attempt), unless its talent
    opted out meanwhile (then it becomes 已退订). False when another worker took it, an opt-out
    or a stop got there first: the caller then sends nothing."""
    rows = CampaignRecipient.objects.filter(pk=recipient.pk, status=RecipientStatus.QUEUED)
    if rows.filter(~opted_out_q(campaign.channel)).update(status=RecipientStatus.SENDING, attempts=F("attempts") + 1):
        return True
    rows.filter(opted_out_q(campaign.channel)).update(status=RecipientStatus.OPTED_OUT, next_attempt_at=None)
    return False


def _send_one(campaign: Campaign, recipient: CampaignRecipient, sender, throttle: Throttle) -> None:
    """Claim, send (outside any transaction: an SMTP round trip must not hold SQLite's write
    lock), then record what became of one message."""
    talent = recipient.talent
    address = address_of(talent, campaign.channel)
    if not address:
        CampaignRecipient.objects.filter(pk=recipient.pk, status=RecipientStatus.QUEUED).update(
            status=RecipientStatus.FAILED, next_attempt_at=None, error=_("没有%(field)s") % {
                "field": Talent._meta.get_field(ADDRESS_FIELD[campaign.channel]).verbose_name})
        return
    message = OutgoingMessage(
        channel=campaign.channel, address=address, subject=one_line(render(campaign.subject, talent, campaign)),
        body=render(campaign.body, talent, campaign), talent=talent, campaign=campaign,
    )
    if campaign.channel == CampaignChannel.EMAIL:
        message.unsubscribe_url = unsubscribe_link(talent, campaign.channel)
        if "退订链接" not in placeholders_in(campaign.body):
            message.body += "\n\n" + _("如不希望再收到此类邮件，请访问：%(url)s") % {"url": message.unsubscribe_url}
    throttle.wait()
    if not claim(campaign, recipient):
        return
    claimed = CampaignRecipient.objects.filter(pk=recipient.pk, status=RecipientStatus.SENDING)
    attempts = claimed.values_list("attempts", flat=True).first() or recipient.attempts + 1
    try:
        sender.send(message)
    except Exception as exc:  # noqa: BLE001  (any failure of one message is that message's, not the campaign's)
        logger.warning("campaign %s: recipient %s, attempt %d failed: %s", campaign.pk, recipient.pk, attempts,
                       type(exc).__name__)
        final = isinstance(exc, PermanentSendError) or attempts >= settings.CAMPAIGN_MAX_ATTEMPTS
        claimed.update(
            status=RecipientStatus.FAILED if final else RecipientStatus.QUEUED,
            next_attempt_at=None if final else _now() + retry_delay(attempts), error=_failure_text(exc),
        )
        return
    claimed.update(status=RecipientStatus.SENT, sent_at=_now(), next_attempt_at=None, error="")
