"""The liaison area's API at /api/liaison/: contact records with their requests, the handling of
requests, worklists and their summaries, a talent's schedule, leads and the cadence rules.

Endpoints parse, authorise (permission, then scope: out of scope is 404) and call
``liaison.services``, like the web pages; lists filter through the area's FilterSets. Writes take
codes and usernames (a region's GB/T 2260 code, a topic's code, a user's username) and talents,
contacts and requests by id; records carry ``{id, code, label}``-style references. A record's
``ETag`` goes back as ``If-Match`` with PATCH or DELETE: 412 if it changed since it was read.
Worklists and schedules carry the talent's mobile number, masked for roles without
「可查看完整个人信息」 (a response with full numbers is audited), as the registry's API does.

(No ``from __future__ import annotations``: ninja reads the annotations at import time.)
"""

import datetime as dt
from typing import Literal

from django.db import models
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import ConfigDict

from rencai.api.auth import audit_full_values, get_in_scope, personal_value, require_permission, scoped
from rencai.api.errors import ApiValidationError
from rencai.api.filtering import apply_filters, filter_query_schema
from rencai.api.pagination import CountedKeysetPagination, KeysetPagination
from rencai.api.parsing import add_error, unknown_code, writable_region
from rencai.api.records import add_record_endpoints
from rencai.api.schemas import RecordSchema, Ref
from rencai.core.forms import region_choices
from rencai.core.models import DictionaryItem, User
from rencai.core.models.base import related_rows
from rencai.core.models.regions import RegionLevel
from rencai.liaison import services, worklists
from rencai.liaison.choices import Channel, LeadKind, LeadStatus, RequestStatus
from rencai.liaison.filters import ContactRecordFilterSet, ContactRequestFilterSet, LeadFilterSet
from rencai.liaison.models import CadenceRule, ContactRecord, ContactRequest, ContactState, Lead
from rencai.liaison.schedule import LOST_AFTER
from rencai.talents.api import DatabaseRef, DictionaryRef, RegionRef, UserRef
from rencai.talents.choices import CATEGORY_DICTIONARY, TalentKind
from rencai.talents.forms import liaison_officer_queryset
from rencai.talents.models import TalentDatabase

router = Router()
TOPIC_DICTIONARY = "contact_topic"


# --- shared shapes and parsing ----------------------------------------------------------------------
class TalentRef(Ref):
    id: int
    name: str


def _staff(user, username, errors: dict, name: str):
    """The business user ``username`` within ``user``'s scope; None for a blank one."""
    if not username:
        return None
    found = liaison_officer_queryset(user).filter(username=username).first()
    if found is None:
        add_error(errors, name, _("用户“%(name)s”不存在，或不在您的数据范围内。") % {"name": username})
    return found


def _set_fields(obj, changes: dict, errors: dict) -> None:
    """Set the plain fields sent, then raise the field errors found so far (a 422). A null text
    becomes blank; a null where the field has no empty value is an error of its own."""
    for name, value in changes.items():
        field = type(obj)._meta.get_field(name)
        if value is None and not field.null:
            if not isinstance(field, models.CharField | models.TextField):
                add_error(errors, name, _("此字段不能为空。"))
                continue
            value = ""
        setattr(obj, name, value)
    if errors:
        raise ApiValidationError(errors)


# --- contact records -------------------------------------------------------------------------------
class RequestOut(RecordSchema):
    id: int
    contact: int = Field(alias="contact_id", description="所属联络记录的 id")
    talent: TalentRef | None = Field(None, description="提出人")
    content: str
    status: str = Field(description="open 待办理、in_progress 办理中、done 已办结、declined 无法办理")
    status_label: str = Field(alias="get_status_display")
    handler: UserRef | None = None
    result: str
    closed_on: dt.date | None = Field(None, description="办结日期（办结或无法办理时自动填写）")
    updated_at: dt.datetime


class ContactOut(RecordSchema):
    id: int
    talents: list[TalentRef] = Field(description="联络对象")
    channel: str
    channel_label: str = Field(alias="get_channel_display")
    contacted_at: dt.datetime
    staff: UserRef | None = Field(None, description="联络人员")
    reached: bool = Field(description="是否联系上；连续多次未联系上提示疑似失联")
    summary: str
    topics: list[DictionaryRef]
    next_contact_date: dt.date | None = Field(None, description="下次联络日期；为空则按联络周期计算")
    region: RegionRef = Field(description="所属地区：联络对象所在县（来自多个县时为市）")
    requests: list[RequestOut]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_talents(obj) -> list:
        return related_rows(obj, "talents")

    @staticmethod
    def resolve_topics(obj) -> list:
        return related_rows(obj, "topics")

    @staticmethod
    def resolve_requests(obj) -> list:
        return related_rows(obj, "requests")


class RequestIn(Schema):
    model_config = ConfigDict(extra="forbid")

    id: int | None = Field(None, description="已有诉求的 id（修改它时）；不填为新增")
    content: str = Field(description="诉求内容")
    talent: int | None = Field(None, description="提出人的 id，须为本次联络对象之一；只有一位联络对象时可省略")
    status: RequestStatus | None = Field(None, description="办理状态，默认 open")
    handler: str | None = Field(None, description="承办人的用户名")
    result: str = ""


class ContactPatch(Schema):
    """Every field optional: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    talents: list[int] | None = Field(None, description="联络对象（人才 id），须都在您的数据范围内")
    channel: Channel | None = None
    contacted_at: dt.datetime | None = Field(None, description="联络时间，不能晚于现在；新增时默认为现在")
    staff: str | None = Field(None, description="联络人员的用户名；新增时默认为您本人")
    reached: bool | None = None
    summary: str | None = None
    topics: list[str] | None = Field(None, description="话题代码列表（字典 contact_topic）")
    next_contact_date: dt.date | None = None
    region: str | None = Field(None, description="所属地区的区划代码；不填按联络对象推定")
    requests: list[RequestIn] | None = Field(None, description="诉求（整体替换：未列出的已有诉求将被删除）")


class ContactIn(ContactPatch):
    talents: list[int] = Field(description="联络对象（人才 id），须都在您的数据范围内")
    channel: Channel


ContactQuery = filter_query_schema(
    ContactRecordFilterSet,
    descriptions={
        "q": "联络内容或联络对象姓名包含", "region": "所属地区的 id（含其下级地区）", "staff": "联络人员的用户 id",
        "topic": "话题字典项的 id", "talent": "人才 id：只列与该人才的联络", "open_requests": "true：只列有未办结诉求的",
    },
)
CONTACT_RELATED = ("region", "staff")
_REQUESTS = Prefetch("requests", queryset=ContactRequest.objects.select_related("talent", "handler"))


def _contacts():
    return ContactRecord.objects.select_related(*CONTACT_RELATED).fetch_references("talents", "topics").prefetch_related(
        _REQUESTS)


def _request_rows(user, rows, errors: dict) -> list[dict] | None:
    if rows is None:
        return None
    parsed = []
    for number, row in enumerate(rows, 1):
        values = row.model_dump(exclude_unset=True)
        if "handler" in values:
            values["handler"] = _staff(user, values["handler"], errors, f"requests.{number}.handler")
        parsed.append(values)
    return parsed


def _save_contact(request, contact: ContactRecord, payload) -> ContactRecord:
    """Set the fields sent and save through ``services.save_contact`` (a 422 names every field
    that fails: here, or the service's and the model's own rules)."""
    user = request.auth_user
    changes = payload.model_dump(exclude_unset=True, exclude={"requests"})
    errors: dict[str, list[str]] = {}
    if "region" in changes:
        code = changes.pop("region")
        contact.region = writable_region(user, code, errors) if code else None
    elif "talents" in changes:
        contact.region = None  # other talents: their region again
    if "staff" in changes:
        contact.staff = _staff(user, changes.pop("staff"), errors, "staff")
    topics = None
    if "topics" in changes:
        codes = changes.pop("topics") or []
        topics = list(DictionaryItem.objects.filter(dictionary__code=TOPIC_DICTIONARY, code__in=codes))
        missing = sorted(set(codes) - {item.code for item in topics})
        if missing:
            add_error(errors, "topics", unknown_code("、".join(missing)))
    talents = changes.pop("talents", None)
    if talents is None:
        talents = list(contact.talents.values_list("pk", flat=True))
    requests = _request_rows(user, payload.requests if "requests" in payload.model_fields_set else None, errors)
    _set_fields(contact, changes, errors)
    return services.save_contact(contact, user=user, talents=talents, topics=topics, requests=requests)


contacts_router = Router(tags=["联络记录"])


@contacts_router.get("/", response=list[ContactOut], summary="联络记录列表")
@paginate(KeysetPagination, ordering=("-contacted_at",))
def list_contacts(request, filters: Query[ContactQuery]):
    """Contact records in your scope, newest first, filtered like the list page."""
    queryset = scoped(request, _contacts())
    return apply_filters(ContactRecordFilterSet, filters, queryset, request.auth_user)


add_record_endpoints(contacts_router, ContactRecord, out=ContactOut, create_in=ContactIn, patch_in=ContactPatch,
                     read=_contacts, save=_save_contact, delete=services.delete_contact)


# --- requests ---------------------------------------------------------------------------------------
class RequestPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    status: RequestStatus | None = None
    handler: str | None = Field(None, description="承办人的用户名；null 为清除")
    result: str | None = None


RequestQuery = filter_query_schema(
    ContactRequestFilterSet,
    descriptions={"q": "诉求内容或提出人姓名包含", "handler": "承办人的用户 id", "region": "所属地区的 id（含其下级地区）"},
)
requests_router = Router(tags=["诉求"])


def _requests():
    return ContactRequest.objects.select_related("talent", "handler")


@requests_router.get("/", response=list[RequestOut], summary="诉求列表")
@paginate(KeysetPagination, ordering=("-id",))
def list_requests(request, filters: Query[RequestQuery]):
    """Requests made in the contacts of your scope, newest first."""
    return apply_filters(ContactRequestFilterSet, filters, scoped(request, _requests()), request.auth_user)


def _save_request(request, found: ContactRequest, payload) -> ContactRequest:
    """Status, handler and result of a request; the closing date follows the status."""
    user = request.auth_user
    changes = payload.model_dump(exclude_unset=True)
    errors: dict[str, list[str]] = {}
    if "handler" in changes:
        found.handler = _staff(user, changes.pop("handler"), errors, "handler")
    _set_fields(found, changes, errors)
    return services.save_request(found, user=user)


add_record_endpoints(requests_router, ContactRequest, out=RequestOut, patch_in=RequestPatch, read=_requests,
                     save=_save_request, verbs=("read", "update"))


# --- schedules and worklists ---------------------------------------------------------------------------
class ScheduledTalent(Schema):
    id: int
    name: str
    mobile: str = Field(description="手机号码；无权查看完整个人信息的角色看到脱敏值")


class ScheduleOut(RecordSchema):
    talent: ScheduledTalent
    region: RegionRef
    liaison_officer: UserRef | None = None
    followed: bool = Field(description="是否在联络范围（已故、已调出的人才不在）")
    last_contact_at: dt.datetime | None = Field(None, description="最近一次联系上的时间")
    last_attempt_at: dt.datetime | None = Field(None, description="最近一次联络尝试的时间")
    failed_attempts: int = Field(description="最近联系上之后连续未联系上的次数")
    interval_days: int = Field(description="适用的联络间隔（天）")
    next_due: dt.date = Field(description="下次联络日期")
    overdue: bool = Field(description="已逾期（下次联络日期早于今天）")
    lost: bool = Field(description=f"疑似失联（连续 {LOST_AFTER} 次未联系上）")

    @staticmethod
    def resolve_talent(obj, context) -> dict:
        talent = obj.talent
        return {"id": talent.pk, "name": talent.name,
                "mobile": personal_value(context["request"].auth_user, talent, "mobile")}

    @staticmethod
    def resolve_overdue(obj, context) -> bool:
        today = context.get("today") or context.setdefault("today", timezone.localdate())
        return obj.followed and obj.next_due < today

    @staticmethod
    def resolve_lost(obj) -> bool:
        return obj.failed_attempts >= LOST_AFTER


SCHEDULE_RELATED = ("talent", "region", "liaison_officer")


def _audit_schedules(request, states) -> None:
    audit_full_values(request.auth_user, [state.talent for state in states], ("mobile",), label="手机号码")


class WorklistQuery(Schema):
    region: int | None = Field(None, description="地区的 id（含其下级地区），须在您的数据范围内")
    officer: str | None = Field(None, description=f"联络员的用户 id；{worklists.NO_OFFICER}：未分配联络员的人才")


def _worklist_params(request, region_id: int | None, officer_id: str | None = None) -> tuple:
    """The region and liaison officer a worklist or summary asks for, checked against the
    caller's scope (403 without the permission to read schedules, 422 naming a bad parameter)."""
    require_permission(request, ContactState, "view")
    region, officer, errors = worklists.resolve_filters(request.auth_user, region_id, officer_id)
    if errors:
        raise ApiValidationError({name: [str(message)] for name, message in errors.items()})
    return region, officer


schedules_router = Router(tags=["联络计划与工作清单"])


@schedules_router.get("/schedules/{int:talent_id}", response=ScheduleOut, summary="人才的联络计划")
def get_schedule(request, talent_id: int):
    """A talent's schedule: last contact, failed attempts, interval and next due date."""
    state = get_in_scope(request, ContactState.objects.select_related(*SCHEDULE_RELATED), "view", talent_id=talent_id)
    _audit_schedules(request, [state])
    return state


class RegionSummaryOut(Schema):
    region: RegionRef
    week: int = Field(description="本周待联络")
    overdue: int = Field(description="已逾期")
    lost: int = Field(description="疑似失联")


class OfficerSummaryOut(Schema):
    officer: UserRef | None = Field(None, description="联络员；null 为未分配联络员")
    label: str
    week: int
    overdue: int
    lost: int


class SummaryQuery(Schema):
    region: int | None = Field(None, description="地区的 id：只计其下的县（市、区）；不填为您数据范围内的全部")


@schedules_router.get("/worklists/summary/regions", response=list[RegionSummaryOut], summary="各县工作清单统计")
def summarise_by_region(request, filters: Query[SummaryQuery]):
    """Per county of your scope: how many talents are due this week, overdue, probably lost."""
    user = request.auth_user
    within, _officer = _worklist_params(request, filters.region)
    counties = region_choices(user).filter(level=RegionLevel.COUNTY)
    if within is not None:
        counties = counties.filter(path__startswith=within.path)
    return [{"region": row.key, **row.counts} for row in worklists.summary_by_region(user, counties)]


@schedules_router.get("/worklists/summary/officers", response=list[OfficerSummaryOut], summary="各联络员工作清单统计")
def summarise_by_officer(request, filters: Query[SummaryQuery]):
    """Per liaison officer of the talents in your scope (and those nobody is assigned to)."""
    user = request.auth_user
    within, _officer = _worklist_params(request, filters.region)
    rows = worklists.summary_by_officer(user, region=within)
    officers = User.objects.in_bulk([row.key for row in rows if row.key != worklists.NO_OFFICER])
    return [{"officer": officers.get(row.key), "label": row.label, **row.counts} for row in rows]


@schedules_router.get("/worklists/{kind}", response=list[ScheduleOut], summary="工作清单")
@paginate(CountedKeysetPagination, ordering=worklists.ORDERING, on_page=_audit_schedules)
def list_worklist(request, kind: Literal["week", "overdue", "lost"], filters: Query[WorklistQuery]):
    """``week``: due from today to Sunday; ``overdue``: due before today; ``lost``: probably lost
    contact. Soonest due first, with a count."""
    user = request.auth_user
    region, officer = _worklist_params(request, filters.region, filters.officer)
    return worklists.worklist(user, kind, region=region, officer=officer).select_related(*SCHEDULE_RELATED)


# --- leads --------------------------------------------------------------------------------------------
class LeadOut(RecordSchema):
    id: int
    kind: str = Field(description="investment 回乡投资/创业意向、project 项目线索、referral 人才推荐、appeal 诉求")
    kind_label: str = Field(alias="get_kind_display")
    title: str
    description: str
    talent: TalentRef | None = Field(None, description="相关人才")
    contact: int | None = Field(None, alias="contact_id", description="来源联络记录的 id")
    owner: UserRef | None = Field(None, description="负责人")
    status: str = Field(description="new 新线索、following 跟进中、converted 已转化、closed 已关闭")
    status_label: str = Field(alias="get_status_display")
    due_date: dt.date | None = Field(None, description="办理期限")
    outcome: str
    region: RegionRef
    created_at: dt.datetime
    updated_at: dt.datetime


class LeadPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: LeadKind | None = None
    title: str | None = None
    description: str | None = None
    talent: int | None = Field(None, description="相关人才的 id，须在您的数据范围内")
    contact: int | None = Field(None, description="来源联络记录的 id，须在您的数据范围内")
    owner: str | None = Field(None, description="负责人的用户名；新线索默认为您本人")
    status: LeadStatus | None = None
    due_date: dt.date | None = None
    outcome: str | None = None
    region: str | None = Field(None, description="所属地区的区划代码；不填取相关人才（或联络记录）的地区")


class LeadIn(LeadPatch):
    kind: LeadKind
    title: str


LeadQuery = filter_query_schema(
    LeadFilterSet,
    descriptions={"q": "线索、详细情况或相关人才姓名包含", "owner": "负责人的用户 id", "region": "所属地区的 id（含其下级地区）",
                  "talent": "人才 id", "due_before": "办理期限不晚于（YYYY-MM-DD）"},
)
leads_router = Router(tags=["线索"])


def _leads():
    return Lead.objects.select_related("talent", "owner", "region")


def _save_lead(request, lead: Lead, payload) -> Lead:
    user = request.auth_user
    changes = payload.model_dump(exclude_unset=True)
    errors: dict[str, list[str]] = {}
    if "region" in changes:
        code = changes.pop("region")
        lead.region = writable_region(user, code, errors) if code else None
    if "owner" in changes:
        lead.owner = _staff(user, changes.pop("owner"), errors, "owner")
    for name in ("talent", "contact"):
        if name in changes:
            setattr(lead, f"{name}_id", changes.pop(name))  # the service checks they are in scope
    _set_fields(lead, changes, errors)
    return services.save_lead(lead, user=user)


@leads_router.get("/", response=list[LeadOut], summary="线索列表")
@paginate(KeysetPagination, ordering=("-created_at",))
def list_leads(request, filters: Query[LeadQuery]):
    return apply_filters(LeadFilterSet, filters, scoped(request, _leads()), request.auth_user)


add_record_endpoints(leads_router, Lead, out=LeadOut, create_in=LeadIn, patch_in=LeadPatch, read=_leads,
                     save=_save_lead, delete=services.delete_lead)


# --- cadence rules -------------------------------------------------------------------------------------
_KIND_OF_DICTIONARY = {dictionary: kind for kind, dictionary in CATEGORY_DICTIONARY.items()}


class CadenceRuleOut(RecordSchema):
    id: int
    name: str
    tier: DictionaryRef | None = Field(None, description="人才层次；null 为不限")
    category_kind: str | None = Field(None, description="人才分类所属的人才类别：native 或 local")
    category: DictionaryRef | None = Field(None, description="人才分类；null 为不限")
    database: DatabaseRef | None = Field(None, description="人才库；null 为不限")
    interval_days: int
    sort_order: int = Field(description="数字小的先匹配：人才适用第一条满足条件的启用规则")
    is_active: bool
    updated_at: dt.datetime

    @staticmethod
    def resolve_category_kind(obj) -> str | None:
        return _KIND_OF_DICTIONARY.get(obj.category.dictionary.code) if obj.category_id else None


class CadenceRulePatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    tier: str | None = Field(None, description="人才层次代码 A–E（字典 talent_tier）；null 为不限")
    category_kind: TalentKind | None = Field(None, description="category 所属的人才类别：native 或 local")
    category: str | None = Field(None, description="人才分类代码（须同时给出 category_kind）；null 为不限")
    database: str | None = Field(None, description="人才库代码；null 为不限")
    interval_days: int | None = Field(None, ge=1, description="联络间隔（天）")
    sort_order: int | None = Field(None, ge=0)
    is_active: bool | None = None


class CadenceRuleIn(CadenceRulePatch):
    name: str
    interval_days: int = Field(ge=1, description="联络间隔（天）")


rules_router = Router(tags=["联络周期"])


def _rules():
    return CadenceRule.objects.select_related("tier", "category__dictionary", "database")


def _save_rule(request, rule: CadenceRule, payload) -> CadenceRule:
    changes = payload.model_dump(exclude_unset=True)
    errors: dict[str, list[str]] = {}
    if "tier" in changes:
        code = changes.pop("tier")
        rule.tier = DictionaryItem.objects.filter(dictionary__code="talent_tier", code=code).first() if code else None
        if code and rule.tier is None:
            add_error(errors, "tier", unknown_code(code))
    kind = changes.pop("category_kind", None)
    if "category" in changes:
        code = changes.pop("category")
        rule.category = None
        if code and kind is None:
            add_error(errors, "category_kind", _("给出人才分类时须注明人才类别（native 或 local）。"))
        elif code:
            rule.category = DictionaryItem.objects.filter(dictionary__code=CATEGORY_DICTIONARY[kind], code=code).first()
            if rule.category is None:
                add_error(errors, "category", _("代码“%(code)s”不是%(kind)s的分类。") % {"code": code, "kind": kind.label})
    if "database" in changes:
        code = changes.pop("database")
        rule.database = TalentDatabase.objects.filter(code=code).first() if code else None
        if code and rule.database is None:
            add_error(errors, "database", unknown_code(code))
    _set_fields(rule, changes, errors)
    return services.save_cadence_rule(rule, user=request.auth_user)


@rules_router.get("/", response=list[CadenceRuleOut], summary="联络周期规则")
@paginate(KeysetPagination, ordering=("sort_order",))
def list_rules(request):
    """The cadence rules in the order they are tried."""
    return scoped(request, _rules())


add_record_endpoints(rules_router, CadenceRule, out=CadenceRuleOut, create_in=CadenceRuleIn, patch_in=CadenceRulePatch,
                     read=_rules, save=_save_rule, delete=services.delete_cadence_rule)

router.add_router("/contacts/", contacts_router)
router.add_router("/requests/", requests_router)
router.add_router("", schedules_router)
router.add_router("/leads/", leads_router)
router.add_router("/cadence-rules/", rules_router)
