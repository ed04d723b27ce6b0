"""Demo data of the liaison area (联络服务): contact histories, cadence rules beyond the defaults,
requests and leads, and every talent's schedule worked out from them.

How many: ``CONTACTS_PER_TALENT`` contact records per talent on average (``--size 1000000``: five
million). They are shared out by weight — A and B tier talents are contacted most, one talent in
ten not yet at all — and rounded so the total is exact. Each talent's history runs back from a
last contact within about one cadence interval of the day of the run (so most are on time, some
overdue), a step of roughly one interval at a time, over at most the past two years. Channels are
mostly phone and WeChat; a forum (座谈会) meets several talents of one county at once; some
phone, WeChat, SMS and e-mail attempts did not reach the talent, and talents the registry marks
失联 mostly end in ``LOST_AFTER`` or more failed attempts in a row, so the worklist of probable
losses is not empty. Topics come from the ``contact_topic`` dictionary; some contacts carry a
request (诉求: the older ones mostly handled), set the next contact date, or give rise to a lead.

Dates are counted back from the day of the run (the worklists would be empty or all overdue
otherwise): the same seed gives the same history, shifted to the day it is loaded.

How fast: as the registry's demo (``talents.demo``), rows go in batches through the driver's
bulk path (``core.loading.BulkWriter``) with the tables' plain indexes built again at the end;
the schedules are then worked out by ``schedule.refresh_all``, as an administrator's refresh would.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections, router
from django.utils import timezone

from rencai.core.loading import BulkWriter, bulk_load, no_gc, sqlite_cache
from rencai.core.models import DictionaryItem, Region, User
from rencai.demo import DemoContext, register
from rencai.liaison import schedule
from rencai.liaison.choices import Channel, LeadKind, LeadStatus, RequestStatus
from rencai.liaison.models import CadenceRule, ContactRecord, ContactRequest, ContactState, Lead
from rencai.talents.choices import TalentStatus
from rencai.talents.demo import DEMO_LIAISONS, Weighted, _short
from rencai.talents.models import Talent, TalentDatabase

CONTACTS_PER_TALENT = 5
BATCH_TALENTS = 5000
HISTORY_DAYS = 730  # contacts reach back two years
NEVER_CONTACTED = 0.1  # share of talents nobody has contacted yet
# How much more often than others a tier is contacted (A and B every 30 days, C every 60 …).
TIER_WEIGHT = {"A": 3.0, "B": 3.0, "C": 1.6, "D": 1.1, "E": 1.0}
OTHER_WEIGHT = 1.0
NOT_FOLLOWED_WEIGHT = 0.3  # 已故, 已调出: a few contacts from before

CHANNELS = [(Channel.PHONE, 46), (Channel.WECHAT, 30), (Channel.VISIT, 7), (Channel.EMAIL, 4),
            (Channel.SMS, 5), (Channel.CALL_IN, 3), (Channel.FORUM, 3), (Channel.OTHER, 2)]
MAY_FAIL = {Channel.PHONE: 0.1, Channel.WECHAT: 0.08, Channel.SMS: 0.12, Channel.EMAIL: 0.15}
FORUM_GUESTS = (2, 7)  # other talents of the county at a forum
TOPICS = [("hometown", 30), ("policy", 16), ("greeting", 14), ("startup", 8), ("project", 8),
          ("referral", 5), ("appeal", 7), ("other", 3)]
SECOND_TOPIC = 0.25
NEXT_DATE_SHARE = 0.08  # contacts that agree on the next contact date
REQUEST_SHARE = 0.04  # contacts with a request (诉求); a contact about a personal appeal mostly has one
LEAD_SHARE = 0.12  # contacts about a start-up, a project or a referral that become a lead
LOST_TRAIL = (3, 5)  # failed attempts in a row that end the history of a talent marked 失联
LOST_TRAIL_SHARE = 0.75

SUMMARIES = {
    "hometown": ["介绍{city}近期发展变化，听取对家乡建设的意见建议。", "通报家乡重点项目进展，对方表示关注。",
                 "交流家乡产业转型情况，对方提出发展文旅的建议。"],
    "policy": ["解读最新人才政策，对方表示愿意推荐身边人才。", "介绍高层次人才安居和子女入学政策。",
               "咨询人才认定条件，已发送政策原文。"],
    "greeting": ["节日问候，转达家乡人民的祝福。", "生日问候，了解近况。", "春节前慰问，邀请参加在外人才座谈会。"],
    "startup": ["有回乡创业意向，了解园区用地和扶持政策。", "关注家乡营商环境，计划回乡考察。"],
    "project": ["对接所在单位与本地企业的技术合作。", "介绍本地企业技术需求，对方愿意牵线。"],
    "referral": ["推荐同行业优秀人才，已记录联系方式。", "愿为家乡引荐相关领域专家。"],
    "appeal": ["反映家属就医方面的困难。", "咨询子女回乡就业事宜。", "反映老家房屋修缮手续问题。"],
    "other": ["日常联络，更新工作单位和联系方式。", "核实个人信息。"],
}
NOT_REACHED = {Channel.PHONE: "电话未接通。", Channel.WECHAT: "微信留言未回复。", Channel.SMS: "短信未回复。",
               Channel.EMAIL: "邮件未回复。"}
REQUESTS = {
    "appeal": ["协调家属在市中心医院就医", "咨询子女回乡就业岗位", "办理老家房屋修缮手续", "协助老人办理社保转移"],
    "startup": ["了解回乡创业园区入驻条件", "咨询创业担保贷款政策"],
    "project": ["对接本地企业技术需求", "协调项目用地选址"],
    "policy": ["申请高层次人才安居补贴", "咨询子女入学政策", "咨询人才认定标准"],
}
REQUEST_RESULTS = {RequestStatus.DONE: ["已协调办结，本人表示满意。", "已转相关部门办理并回复本人。"],
                   RequestStatus.DECLINED: ["不符合现行政策条件，已向本人解释。"]}
REQUEST_STATUS_OLD = [(RequestStatus.DONE, 72), (RequestStatus.DECLINED, 8), (RequestStatus.IN_PROGRESS, 15),
                      (RequestStatus.OPEN, 5)]
REQUEST_STATUS_RECENT = [(RequestStatus.OPEN, 40), (RequestStatus.IN_PROGRESS, 40), (RequestStatus.DONE, 20)]
LEADS = {
    "startup": (LeadKind.INVESTMENT, ["回乡投资设立{field}企业意向", "返乡创办科技型企业意向"]),
    "project": (LeadKind.PROJECT, ["{field}领域技术合作项目", "与本地龙头企业共建研发中心"]),
    "referral": (LeadKind.REFERRAL, ["推荐{field}领域青年人才来运工作", "引荐高校专家团队"]),
    "appeal": (LeadKind.APPEAL, ["家属就医协调诉求"]),
}
LEAD_FIELDS = ["新材料", "新能源", "现代农业", "装备制造", "生物医药", "数字经济", "文化旅游"]
LEAD_STATUS_OLD = [(LeadStatus.CONVERTED, 20), (LeadStatus.CLOSED, 40), (LeadStatus.FOLLOWING, 30), (LeadStatus.NEW, 10)]
LEAD_STATUS_RECENT = [(LeadStatus.NEW, 50), (LeadStatus.FOLLOWING, 45), (LeadStatus.CONVERTED, 5)]
# Cadence rules beyond the defaults (core's A/B/C/others): name, condition, days, place in the order.
EXTRA_RULES = [
    ("在外优秀人才库每45天联络一次", {"database": "native_excellent"}, 45, 35, True),
    ("年轻一代民营企业家每60天联络一次", {"category": ("talent_system_local", "03")}, 60, 36, True),
    ("军队在外人才每180天联络一次（暂停）", {"category": ("talent_category_native", "02")}, 180, 5, False),
]
OFFICE_SLOTS = [(hour, minute) for hour in range(9, 18) for minute in (0, 10, 20, 30, 40, 50) if hour != 12]
FOLLOWED = set(schedule.FOLLOWED_STATUSES)


def run_day() -> dt.date:
    """The day the histories count back from: the day of the run."""
    return timezone.localdate()


def _has_contacts() -> bool:
    return ContactRecord.objects.exists()


@register("liaison", order=40, has_data=_has_contacts)
def generate_liaison(context: DemoContext) -> None:
    added_rules = _cadence_rules()
    context.count("cadence_rules", added_rules)
    connection = connections[router.db_for_write(ContactRecord)]
    factory = _HistoryFactory(context, connection)
    tables = [ContactRecord, ContactRecord.talents.through, ContactRecord.topics.through, ContactRequest, Lead]
    with no_gc(), sqlite_cache(connection):
        with bulk_load(connection, tables, analyze=tables):
            factory.run()
        # The schedules, read from what was written (indexes in place), with the state table's
        # own indexes built once at the end.
        with bulk_load(connection, [ContactState], analyze=[ContactState]):
            states = schedule.refresh_all()
    for label, n in factory.totals.items():
        context.count(label, n)
    context.count("contact_states", states)


def _cadence_rules() -> int:
    """Add the demo's rules to those a new installation seeded (none twice)."""
    items = {(d, c): pk for d, c, pk in DictionaryItem.objects.filter(
        dictionary__code__in=["talent_system_local", "talent_category_native"]).values_list(
        "dictionary__code", "code", "id")}
    databases = dict(TalentDatabase.objects.values_list("code", "id"))
    existing = set(CadenceRule.objects.values_list("name", flat=True))
    rules = []
    for name, condition, days, order, active in EXTRA_RULES:
        if name in existing:
            continue
        rule = CadenceRule(name=name, interval_days=days, sort_order=order, is_active=active)
        if "database" in condition:
            rule.database_id = databases.get(condition["database"])
            if rule.database_id is None:
                continue
        if "category" in condition:
            rule.category_id = items.get(condition["category"])
            if rule.category_id is None:
                continue
        rules.append(rule)
    # bulk_create sends no signal, so no background refresh is queued: the run refreshes at its end.
    CadenceRule.objects.bulk_create(rules)
    return len(rules)


class _HistoryFactory:
    """Draws the contact histories of every talent, a batch of talents at a time, and writes them."""

    def __init__(self, context: DemoContext, connection):
        self.rng = context.random
        self.connection = connection
        self.today = run_day()
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.rules = schedule.Rules()
        now = timezone.now()
        self.writers = {model: BulkWriter(model, now, with_pk=model is ContactRecord) for model in (
            ContactRecord, ContactRecord.talents.through, ContactRecord.topics.through, ContactRequest, Lead)}
        self.totals = {"contacts": 0, "contact_links": 0, "contact_requests": 0, "leads": 0}
        self.channels = Weighted(CHANNELS)
        self.topic_codes = Weighted(TOPICS)
        self.topics = dict(DictionaryItem.objects.filter(dictionary__code="contact_topic").values_list("code", "id"))
        self.tiers = {pk: code for pk, code in DictionaryItem.objects.filter(
            dictionary__code="talent_tier").values_list("id", "code")}
        self.request_old, self.request_recent = Weighted(REQUEST_STATUS_OLD), Weighted(REQUEST_STATUS_RECENT)
        self.lead_old, self.lead_recent = Weighted(LEAD_STATUS_OLD), Weighted(LEAD_STATUS_RECENT)
        self.city_short = _short(Region.objects.get(code=settings.CITY_CODE).name)
        self._staff()
        self._stamps: dict[tuple[int, int], object] = {}

    def _staff(self) -> None:
        """Who records a contact: the talent's liaison officer, else the demo officer of its county,
        else the demo city administrator."""
        users = {u.username: u for u in User.objects.filter(username__in=[*DEMO_LIAISONS, "demo_city_admin"])}
        self.county_staff = {}
        for username in DEMO_LIAISONS:
            user = users.get(username)
            if user is not None:
                for region_id in user.regions.values_list("id", flat=True):
                    self.county_staff.setdefault(region_id, user.pk)
        admin = users.get("demo_city_admin")
        self.city_staff = admin.pk if admin else None

    def stamp(self, days_ago: int, slot: int):
        """The stored form of a contact time: ``days_ago`` days before the run, at an office slot
        (few distinct values, so each is converted for the driver once)."""
        key = (days_ago, slot)
        value = self._stamps.get(key)
        if value is None:
            hour, minute = OFFICE_SLOTS[slot]
            day = self.today - dt.timedelta(days=days_ago)
            local = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
            value = self._stamps[key] = self.connection.ops.adapt_datetimefield_value(local)
        return value

    # --- the whole run ---------------------------------------------------------------------------
    def run(self) -> None:
        ids, counts = self.shares()
        for start in range(0, len(ids), BATCH_TALENTS):
            end = min(start + BATCH_TALENTS, len(ids))
            self.batch(ids[start], ids[end - 1], counts[start:end])

    def shares(self) -> tuple[array, array]:
        """Every talent's id and number of contacts: ``CONTACTS_PER_TALENT`` per talent in all,
        shared out by weight (tier, whether still followed, chance) and rounded so they add up."""
        rng = self.rng
        ids, weights = array("q"), array("d")
        rows = Talent.objects.order_by("pk").values_list("pk", "tier_id", "status")
        for pk, tier_id, status in rows.iterator(chunk_size=BATCH_TALENTS):
            ids.append(pk)
            if rng.random() < NEVER_CONTACTED:
                weights.append(0.0)
                continue
            base = TIER_WEIGHT.get(self.tiers.get(tier_id), OTHER_WEIGHT) if status in FOLLOWED else NOT_FOLLOWED_WEIGHT
            weights.append(base * (0.4 + 1.2 * rng.random()))
        wanted = CONTACTS_PER_TALENT * len(ids)
        scale = wanted / (sum(weights) or 1.0)
        counts = array("q", bytes(8 * len(ids)))
        share = 0.0
        given = 0
        for i, weight in enumerate(weights):
            share += weight * scale
            counts[i] = int(share) - given
            given += counts[i]
        if ids and given < wanted:  # what floating point left over goes to the last one contacted
            last = max((i for i, weight in enumerate(weights) if weight), default=len(ids) - 1)
            counts[last] += wanted - given
        return ids, counts

    # --- one batch -------------------------------------------------------------------------------
    def batch(self, first: int, last: int, counts: list[int]) -> None:
        talents = list(Talent.objects.filter(pk__gte=first, pk__lte=last).order_by("pk").values_list(
            "pk", "region_id", "liaison_officer_id", "status", "tier_id", "category_id"))
        databases = defaultdict(set)
        if self.rules.needs_databases:
            for talent_id, database_id in Talent.databases.through.objects.filter(
                    talent_id__gte=first, talent_id__lte=last).values_list("talent_id", "talentdatabase_id"):
                databases[talent_id].add(database_id)
        by_region = defaultdict(list)
        for row in talents:
            if row[3] in FOLLOWED:
                by_region[row[1]].append(row[0])
        plans = []  # (talent row, [(days_ago, slot, channel, reached)])
        for row, n in zip(talents, counts, strict=False):
            if n:
                plans.append((row, self.history(row, n, databases.get(row[0], ()))))
        n_contacts = sum(len(history) for _row, history in plans)
        contact_ids = iter(self.writers[ContactRecord].reserve_ids(n_contacts)) if n_contacts else iter(())
        contacts, links, topics, requests, leads = [], [], [], [], []
        rng = self.rng
        w = self.writers
        for row, history in plans:
            pk, region_id, officer_id = row[0], row[1], row[2]
            staff = officer_id or self.county_staff.get(region_id) or self.city_staff
            for days_ago, slot, channel, reached in history:
                contact_id = next(contact_ids)
                links.append((contact_id, pk))
                if channel == Channel.FORUM:  # other talents of the county met at the same forum
                    neighbours = by_region.get(region_id, ())
                    guests = rng.randint(*FORUM_GUESTS)
                    picked = rng.sample(neighbours, min(guests + 1, len(neighbours)))
                    links += [(contact_id, guest) for guest in picked if guest != pk][:guests]
                chosen = []
                if reached:
                    chosen.append(self.topic_codes(rng))
                    if rng.random() < SECOND_TOPIC:
                        second = self.topic_codes(rng)
                        if second != chosen[0]:
                            chosen.append(second)
                    summary = "".join(rng.choice(SUMMARIES[code]) for code in chosen).replace("{city}", self.city_short)
                else:
                    summary = NOT_REACHED.get(channel, "未联系上。")
                day = self.today - dt.timedelta(days=days_ago)
                next_date = None
                if reached and rng.random() < NEXT_DATE_SHARE:
                    next_date = day + dt.timedelta(days=rng.randint(7, 60))
                contacts.append({
                    "id": contact_id, "region_id": region_id, "channel": channel,
                    "contacted_at": self.stamp(days_ago, slot), "staff_id": staff, "created_by_id": staff,
                    "reached": reached, "summary": summary, "next_contact_date": next_date,
                })
                for code in chosen:
                    topic = self.topics.get(code)
                    if topic is not None:
                        topics.append((contact_id, topic))
                if not reached:
                    continue
                main = chosen[0]
                if main in REQUESTS and rng.random() < (0.6 if main == "appeal" else REQUEST_SHARE * 3):
                    requests.append(self.request(contact_id, pk, staff, main, day, days_ago))
                if main in LEADS and main != "appeal" and rng.random() < LEAD_SHARE:
                    leads.append(self.lead(contact_id, pk, region_id, staff, main, day, days_ago))
        w[ContactRecord].write([w[ContactRecord].row(c) for c in contacts])
        through = w[ContactRecord.talents.through]
        through.write([through.row({"contactrecord_id": c, "talent_id": t}) for c, t in links])
        topic_writer = w[ContactRecord.topics.through]
        topic_writer.write([topic_writer.row({"contactrecord_id": c, "dictionaryitem_id": t}) for c, t in topics])
        w[ContactRequest].write([w[ContactRequest].row(r) for r in requests])
        w[Lead].write([w[Lead].row(lead) for lead in leads])
        totals = self.totals
        totals["contacts"] += len(contacts)
        totals["contact_links"] += len(links)
        totals["contact_requests"] += len(requests)
        totals["leads"] += len(leads)

    def history(self, row, n: int, database_ids) -> list[tuple[int, int, str, bool]]:
        """``n`` contacts of one talent, latest first: (days before the run, office slot, channel, reached)."""
        rng = self.rng
        _pk, _region, _officer, status, tier_id, category_id = row
        interval = self.rules.interval(tier_id, category_id, database_ids)
        followed = status in FOLLOWED
        # The last contact: within about one interval of today for most; long ago for those no
        # longer followed.
        last = 1 + int(rng.random() * (1.3 * interval if followed else HISTORY_DAYS / 2))
        trail = 0
        if status == TalentStatus.LOST and n >= LOST_TRAIL[0] and rng.random() < LOST_TRAIL_SHARE:
            trail = min(n, rng.randint(*LOST_TRAIL))
        offsets = [last]
        for i in range(1, n):
            gap = rng.randint(2, 10) if i < trail else int(interval * (0.5 + rng.random()))
            offsets.append(offsets[-1] + max(1, gap))
        span = offsets[-1]
        if span > HISTORY_DAYS:  # squeeze the history into two years, keeping its order
            offsets = [last + (o - last) * (HISTORY_DAYS - last) // max(1, span - last) for o in offsets]
        history = []
        for i, days_ago in enumerate(offsets):
            if i < trail:
                channel = Channel.PHONE if rng.random() < 0.7 else Channel.WECHAT
                reached = False
            else:
                channel = self.channels(rng)
                reached = rng.random() >= MAY_FAIL.get(channel, 0.0)
            history.append((days_ago, rng.randrange(len(OFFICE_SLOTS)), channel, reached))
        return history

    def request(self, contact_id, talent_id, staff, topic, day, days_ago) -> dict:
        rng = self.rng
        status = (self.request_old if days_ago > 90 else self.request_recent)(rng)
        closed = None
        if status in (RequestStatus.DONE, RequestStatus.DECLINED):
            closed = min(self.today, day + dt.timedelta(days=rng.randint(3, 60)))
        return {
            "contact_id": contact_id, "talent_id": talent_id, "content": rng.choice(REQUESTS[topic]),
            "status": status, "handler_id": staff, "result": rng.choice(REQUEST_RESULTS.get(status, [""])),
            "closed_on": closed, "created_by_id": staff,
        }

    def lead(self, contact_id, talent_id, region_id, staff, topic, day, days_ago) -> dict:
        rng = self.rng
        kind, titles = LEADS[topic]
        status = (self.lead_old if days_ago > 120 else self.lead_recent)(rng)
        title = rng.choice(titles).format(field=rng.choice(LEAD_FIELDS))
        return {
            "kind": kind, "title": title, "talent_id": talent_id, "contact_id": contact_id, "owner_id": staff,
            "status": status, "due_date": day + dt.timedelta(days=rng.randint(30, 120)), "region_id": region_id,
            "outcome": "已转入项目库跟进。" if status == LeadStatus.CONVERTED else "", "created_by_id": staff,
        }


from rencai.liaison import campaigns_demo  # noqa: E402, F401  (demo campaigns, opt-outs, greeting drafts)
