"""The cooperation area's API at /api/cooperation/ (省校合作): universities and their contacts,
agreements and their documents, projects with their stage flow, milestones, supervision and
rectification, scheduling reports and the missing ones, bases, experts, achievements, visits and
their follow-ups, and the figures (落地率 and the amounts).

Endpoints parse, authorise (permission, then scope: out of scope is 404) and call
``cooperation.services``, like the web pages; lists filter through the area's FilterSets and page
by cursor. Writes take a region by its GB/T 2260 code, dictionary items by code (``university_tag``,
``cooperation_class``, ``cooperation_base``, ``discipline``), cooperation databases by code, and
records (universities, agreements, projects, talents …) by id; a record named that the caller may
not see is a 422 naming the field, as the web form would. A record's ``ETag`` goes back as
``If-Match`` with PATCH, DELETE or a stage move: 412 if it changed since it was read. A project's
stage changes only through ``POST /projects/{id}/move/``. University contacts carry their mobile
number masked for roles without 「可查看完整个人信息」 (a response with full numbers is audited).
Amounts are in 万元, as decimal strings.

(No ``from __future__ import annotations``: ninja reads the annotations at import time.)
"""

import datetime as dt
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Literal

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict, field_validator

from rencai.api.auth import audit_full_values, get_in_scope, personal_value, require_permission, scoped
from rencai.api.errors import ApiValidationError
from rencai.api.filtering import apply_filters, filter_query_schema
from rencai.api.locking import check_if_match
from rencai.api.pagination import KeysetPagination
from rencai.api.parsing import add_error, unknown_code, writable_region
from rencai.api.records import add_record_endpoints, respond_with
from rencai.api.schemas import RecordSchema, Ref
from rencai.cooperation import figures as cooperation_figures
from rencai.cooperation import services
from rencai.cooperation.choices import (
    BaseStatus,
    DatabaseKind,
    InstitutionKind,
    Maturity,
    PartnerKind,
    TransferMode,
    VisitKind,
)
from rencai.cooperation.filters import (
    AchievementFilterSet,
    AgreementFilterSet,
    BaseFilterSet,
    ExpertFilterSet,
    ProblemFilterSet,
    ProjectFilterSet,
    ReportFilterSet,
    SupervisionFilterSet,
    UniversityFilterSet,
    VisitFilterSet,
)
from rencai.cooperation.models import (
    Achievement,
    Agreement,
    AgreementDocument,
    Base,
    CooperationDatabase,
    Expert,
    FollowUp,
    Milestone,
    Problem,
    Project,
    Report,
    StageChange,
    Supervision,
    University,
    UniversityContact,
    Visit,
)
from rencai.core.models import DictionaryItem
from rencai.core.models.base import related_rows
from rencai.core.scope import region_in_scope
from rencai.liaison.api import LeadOut
from rencai.liaison.models import Lead
from rencai.talents.api import DatabaseRef, DictionaryRef, RegionRef, UserRef
from rencai.talents.models import Talent

router = Router()
CENT = Decimal("0.01")  # amounts are 万元 to two places, as the model fields keep them


# --- shared shapes and parsing ----------------------------------------------------------------------
class UniversityRef(Ref):
    id: int
    name: str


class AgreementRef(Ref):
    id: int
    title: str


class ProjectRef(Ref):
    id: int
    name: str


class LeadRef(Ref):
    id: int
    title: str


class TalentRef(Ref):
    id: int
    name: str


class ConflictOut(Schema):
    detail: str


def _unseen(model) -> str:
    return _("该%(noun)s不存在，或不在您的数据范围内。") % {"noun": model._meta.verbose_name}


def _visible(user, model, pk, errors: dict, name: str):
    """The ``model`` record ``pk`` if ``user`` may see it (else a field error); None for none."""
    if pk is None:
        return None
    found = model.objects.restrict(user, "view").filter(pk=pk).first()
    if found is None:
        add_error(errors, name, _unseen(model))
    return found


def _set_relation(obj, name: str, value) -> None:
    # By id when clearing: a required relation set to nothing is the model's "required" error.
    if value is None:
        setattr(obj, type(obj)._meta.get_field(name).attname, None)
    else:
        setattr(obj, name, value)


def _assign(request, obj, payload, *, records: dict | None = None, items: dict | None = None,
            many_items: dict | None = None, databases: str | None = None, control: tuple[str, ...] = ()) -> dict:
    """Set on ``obj`` the fields ``payload`` sent: ``region`` by code, ``records`` (name → model)
    by id among those the caller may see, ``items`` and ``many_items`` (name → dictionary) by
    code, ``databases`` (of that kind) by code, the rest as sent. Returns the many-to-many values
    to save; raises a 422 naming every field that fails."""
    user = request.auth_user
    changes = payload.model_dump(exclude_unset=True, exclude=set(control))
    errors: dict[str, list[str]] = {}
    if "region" in changes:
        code = changes.pop("region")
        _set_relation(obj, "region", writable_region(user, code, errors) if code else None)
    for name, model in (records or {}).items():
        if name in changes:
            _set_relation(obj, name, _visible(user, model, changes.pop(name), errors, name))
    for name, dictionary in (items or {}).items():
        if name in changes:
            code = changes.pop(name)
            item = DictionaryItem.objects.filter(dictionary__code=dictionary, code=code).first() if code else None
            if code and item is None:
                add_error(errors, name, unknown_code(code))
            _set_relation(obj, name, item)
    m2m = {}
    for name, dictionary in (many_items or {}).items():
        if name in changes:
            codes = changes.pop(name) or []
            found = list(DictionaryItem.objects.filter(dictionary__code=dictionary, code__in=codes))
            missing = sorted(set(codes) - {item.code for item in found})
            if missing:
                add_error(errors, name, unknown_code("、".join(missing)))
            m2m[name] = found
    if databases is not None and "databases" in changes:
        codes = changes.pop("databases") or []
        found = list(CooperationDatabase.objects.filter(kind=databases, code__in=codes))
        missing = sorted(set(codes) - {database.code for database in found})
        if missing:
            add_error(errors, "databases", unknown_code("、".join(missing)))
        m2m["databases"] = found
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
    return m2m


def _default_region(user, obj, preferred=None) -> None:
    """A new record sent without a region goes under ``preferred`` when the caller covers it,
    else under the caller's own county (``services.region_for``)."""
    if obj.pk is None and obj.region_id is None:
        region = preferred if preferred is not None and region_in_scope(user, preferred) else None
        region = region or services.region_for(user, None)
        if region is not None:
            obj.region = region


def _children(router: Router, parent_model, model, *, path: str, parent_field: str, out, create_in, read, save,
              ordering: tuple[str, ...], on_page=None) -> None:
    """``GET`` and ``POST /{parent_id}/<path>/``: the records of ``model`` under one parent
    record the caller may see, and a new one under it (``save(request, obj, payload)``)."""
    noun = str(model._meta.verbose_name)
    name = model._meta.model_name

    def list_children(request, parent_id: int):
        parent = get_in_scope(request, parent_model, "view", pk=parent_id)
        return scoped(request, read()).filter(**{parent_field: parent})

    def create_child(request, parent_id: int, payload: create_in, response: HttpResponse):
        scoped(request, model, "add")
        parent = get_in_scope(request, parent_model, "view", pk=parent_id)
        with transaction.atomic():
            obj = save(request, model(**{parent_field: parent}), payload)
        return Status(201, respond_with(response, read().get(pk=obj.pk)))

    list_children.__name__ = f"list_{name}s"
    create_child.__name__ = f"create_{name}"
    paged = paginate(KeysetPagination, ordering=ordering, on_page=on_page)(list_children)
    router.get(f"/{{int:parent_id}}/{path}/", response=list[out], summary=f"{noun}列表",
               operation_id=f"cooperation_list_{name}s")(paged)
    router.post(f"/{{int:parent_id}}/{path}/", response={201: out}, summary=f"新增{noun}",
                operation_id=f"cooperation_create_{name}")(create_child)


# --- universities and their contacts ---------------------------------------------------------------
class UniversityOut(RecordSchema):
    id: int
    name: str
    short_name: str
    kind: str = Field(description="university 高校、institute 科研院所")
    kind_label: str = Field(alias="get_kind_display")
    province: str
    city: str
    tags: list[DictionaryRef] = Field(description="院校标签（字典 university_tag）")
    website: str
    description: str
    is_active: bool = Field(description="合作中")
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_tags(obj) -> list:
        return related_rows(obj, "tags")


class UniversityPatch(Schema):
    """Every field optional: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    short_name: str | None = None
    kind: InstitutionKind | None = None
    province: str | None = None
    city: str | None = None
    tags: list[str] | None = Field(None, description="院校标签代码列表（字典 university_tag）")
    website: str | None = None
    description: str | None = None
    is_active: bool | None = None


class UniversityIn(UniversityPatch):
    name: str
    province: str


UniversityQuery = filter_query_schema(
    UniversityFilterSet, descriptions={"q": "院校名称、简称或城市包含", "tag": "院校标签字典项的 id"})
universities_router = Router(tags=["合作院校"])


def _universities():
    return University.objects.fetch_references("tags")


def _save_university(request, university: University, payload) -> University:
    m2m = _assign(request, university, payload, many_items={"tags": "university_tag"})
    return services.save(university, user=request.auth_user, m2m=m2m)


@universities_router.get("/", response=list[UniversityOut], summary="合作院校列表")
@paginate(KeysetPagination, ordering=("name",))
def list_universities(request, filters: Query[UniversityQuery]):
    return apply_filters(UniversityFilterSet, filters, scoped(request, _universities()), request.auth_user)


add_record_endpoints(universities_router, University, out=UniversityOut, create_in=UniversityIn,
                     patch_in=UniversityPatch, read=_universities, save=_save_university, delete=services.delete)


class ContactOut(RecordSchema):
    id: int
    university: UniversityRef
    name: str
    department: str
    post: str
    mobile: str = Field(description="手机号码；无权查看完整个人信息的角色看到脱敏值")
    office_phone: str
    email: str
    updated_at: dt.datetime

    @staticmethod
    def resolve_mobile(obj, context) -> str:
        return personal_value(context["request"].auth_user, obj, "mobile")


class ContactPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    department: str | None = None
    post: str | None = None
    mobile: str | None = Field(None, description="手机号码（11 位）；须有查看完整个人信息的权限")
    office_phone: str | None = None
    email: str | None = None


class ContactIn(ContactPatch):
    name: str


def _contacts():
    return UniversityContact.objects.select_related("university")


def _audit_contacts(request, contacts) -> None:
    audit_full_values(request.auth_user, contacts, ("mobile",), label="手机号码")


def _save_contact(request, contact: UniversityContact, payload) -> UniversityContact:
    if "mobile" in payload.model_fields_set and not request.auth_user.can_view_personal:
        # A role that may not read a personal value may not overwrite it blind either.
        raise ApiValidationError({"mobile": [_("您的角色不能查看完整个人信息，也不能修改此项。")]})
    _assign(request, contact, payload)
    return services.save(contact, user=request.auth_user)


_children(universities_router, University, UniversityContact, path="contacts", parent_field="university",
          out=ContactOut, create_in=ContactIn, read=_contacts, save=_save_contact, ordering=("name", "id"),
          on_page=_audit_contacts)
contacts_router = Router(tags=["合作院校"])


@contacts_router.get("/{int:pk}", response=ContactOut, summary="院校联系人")
def get_contact(request, pk: int, response: HttpResponse):
    contact = get_in_scope(request, _contacts(), "view", pk=pk)
    _audit_contacts(request, [contact])
    return respond_with(response, contact)


add_record_endpoints(contacts_router, UniversityContact, out=ContactOut, patch_in=ContactPatch, read=_contacts,
                     save=_save_contact, delete=services.delete, verbs=("update", "delete"))


# --- agreements and their documents ----------------------------------------------------------------
class AgreementOut(RecordSchema):
    id: int
    title: str
    number: str
    university: UniversityRef
    partner_kind: str = Field(description="county 县（市、区）、department 市直部门、enterprise 企业、other 其他单位")
    partner_kind_label: str = Field(alias="get_partner_kind_display")
    partner: str
    signed_on: dt.date
    expires_on: dt.date | None = Field(None, description="到期日期；null 为长期有效")
    classes: list[DictionaryRef] = Field(description="合作内容（字典 cooperation_class）")
    amount: Decimal | None = Field(None, description="协议金额（万元）")
    status: str = Field(description="active 有效、expired 到期（按到期日期自动设置）、terminated 终止")
    status_label: str = Field(alias="get_status_display")
    content: str
    visit: int | None = Field(None, alias="visit_id", description="来源走访的 id")
    region: RegionRef
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_classes(obj) -> list:
        return related_rows(obj, "classes")


class AgreementPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    number: str | None = None
    university: int | None = Field(None, description="合作院校的 id")
    partner_kind: PartnerKind | None = None
    partner: str | None = None
    signed_on: dt.date | None = None
    expires_on: dt.date | None = Field(None, description="到期日期；null 为长期有效")
    classes: list[str] | None = Field(None, description="合作内容代码列表（字典 cooperation_class）")
    amount: Decimal | None = Field(None, max_digits=14, decimal_places=2, description="协议金额（万元）")
    status: Literal["active", "terminated"] | None = Field(
        None, description="terminated：终止协议；active：恢复（是否到期仍按到期日期）")
    content: str | None = None
    visit: int | None = Field(None, description="来源走访的 id，须在您的数据范围内")
    region: str | None = Field(None, description="所属地区的区划代码；县级专员不填为本县")


class AgreementIn(AgreementPatch):
    title: str
    university: int = Field(description="合作院校的 id")
    partner: str
    signed_on: dt.date


AgreementQuery = filter_query_schema(
    AgreementFilterSet,
    descriptions={"q": "协议名称、编号或签约方包含", "university": "院校的 id", "cooperation_class": "合作内容字典项的 id",
                  "region": "所属地区的 id（含其下级地区）", "expiring": "true：只列即将到期的有效协议（到期提醒）"},
)
agreements_router = Router(tags=["合作协议"])


def _agreements():
    return Agreement.objects.select_related("university", "region").fetch_references("classes")


def _save_agreement(request, agreement: Agreement, payload) -> Agreement:
    m2m = _assign(request, agreement, payload, records={"university": University, "visit": Visit},
                  many_items={"classes": "cooperation_class"})
    _default_region(request.auth_user, agreement)
    return services.save_agreement(agreement, user=request.auth_user, classes=m2m.get("classes"))


@agreements_router.get("/", response=list[AgreementOut], summary="合作协议列表")
@paginate(KeysetPagination, ordering=("-signed_on", "-id"))
def list_agreements(request, filters: Query[AgreementQuery]):
    return apply_filters(AgreementFilterSet, filters, scoped(request, _agreements()), request.auth_user)


add_record_endpoints(agreements_router, Agreement, out=AgreementOut, create_in=AgreementIn, patch_in=AgreementPatch,
                     read=_agreements, save=_save_agreement, delete=services.delete)


class DocumentOut(RecordSchema):
    id: int
    agreement: int = Field(alias="agreement_id")
    title: str
    file_name: str = Field(description="文件名（文件只在协议页面下载）")
    size: int = Field(description="大小（字节）")
    created_at: dt.datetime

    @staticmethod
    def resolve_file_name(obj) -> str:
        return PurePosixPath(obj.file.name or "").name


@agreements_router.get("/{int:agreement_id}/documents/", response=list[DocumentOut], summary="协议文件列表")
@paginate(KeysetPagination, ordering=("id",))
def list_documents(request, agreement_id: int):
    """The documents of an agreement (metadata only: they are uploaded and read on its page)."""
    agreement = get_in_scope(request, Agreement, "view", pk=agreement_id)
    return scoped(request, AgreementDocument).filter(agreement=agreement)


# --- projects, their stages and milestones ----------------------------------------------------------
class ProjectOut(RecordSchema):
    id: int
    name: str
    line: DictionaryRef | None = Field(None, description="合作类别（字典 cooperation_class）")
    agreement: AgreementRef | None = None
    university: UniversityRef | None = None
    enterprise: str
    amount: Decimal | None = Field(None, description="投资额（万元）")
    leader: str = Field(description="包联领导")
    responsible_unit: str
    description: str
    stage: str = Field(description="negotiating 洽谈、signed 签约、landed 落地、building 建设、completed 投产/完成、"
                                   "terminated 终止；只能通过 move 变更")
    stage_label: str = Field(alias="get_stage_display")
    stage_on: dt.date = Field(description="进入本阶段的日期")
    allowed_moves: list[str] = Field(description="当前阶段可转到的阶段")
    signed_on: dt.date | None = None
    landed_on: dt.date | None = None
    completed_on: dt.date | None = None
    terminated_on: dt.date | None = None
    termination_reason: str
    lead: LeadRef | None = Field(None, description="来源线索")
    visit: int | None = Field(None, alias="visit_id", description="来源走访的 id")
    databases: list[DatabaseRef]
    region: RegionRef
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_allowed_moves(obj) -> list[str]:
        return [str(stage) for stage in services.allowed_moves(obj)]

    @staticmethod
    def resolve_databases(obj) -> list:
        return related_rows(obj, "databases")


class ProjectPatch(Schema):
    """A project's own fields (its stage moves only through ``move``)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    line: str | None = Field(None, description="合作类别代码（字典 cooperation_class）")
    agreement: int | None = Field(None, description="所属协议的 id，须在您的数据范围内")
    university: int | None = Field(None, description="合作院校的 id；不填取所属协议的院校")
    enterprise: str | None = None
    amount: Decimal | None = Field(None, max_digits=14, decimal_places=2, description="投资额（万元）")
    leader: str | None = Field(None, description="包联领导")
    responsible_unit: str | None = None
    description: str | None = None
    visit: int | None = Field(None, description="来源走访的 id，须在您的数据范围内")
    databases: list[str] | None = Field(None, description="所属库代码列表；新项目不填为默认的项目库")
    region: str | None = Field(None, description="所属地区的区划代码；不填取所属协议的地区，县级专员为本县")


class ProjectIn(ProjectPatch):
    name: str
    stage: str = Field("negotiating", description="录入时的阶段：negotiating 洽谈（默认）或 signed 签约")
    stage_on: dt.date | None = Field(None, description="进入该阶段的日期，不能晚于今天；默认今天")


class MoveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    to_stage: str = Field(description="新阶段，须为当前阶段可转到的阶段（见 allowed_moves）")
    on: dt.date | None = Field(None, description="日期：不早于进入当前阶段的日期，不晚于今天；默认今天")
    note: str = Field("", description="说明；终止项目时必填（终止原因）")


class StageChangeOut(RecordSchema):
    id: int
    from_stage: str = Field(description="原阶段；录入时为空")
    from_stage_label: str = Field(alias="get_from_stage_display")
    to_stage: str
    to_stage_label: str = Field(alias="get_to_stage_display")
    on: dt.date
    note: str
    by: UserRef | None = Field(None, description="操作人")
    recorded_at: dt.datetime


ProjectQuery = filter_query_schema(
    ProjectFilterSet,
    descriptions={"q": "项目名称、企业、包联领导或责任单位包含", "stage": "项目阶段（可多选）", "university": "院校的 id",
                  "line": "合作类别字典项的 id", "region": "所属地区的 id（含其下级地区）", "agreement": "协议的 id",
                  "database": "所属库的 id", "landed": "true：只列已落地（含之后终止）的项目"},
)
projects_router = Router(tags=["合作项目"])
PROJECT_RELATED = ("line", "agreement", "university", "lead", "region")


def _projects():
    return Project.objects.select_related(*PROJECT_RELATED).fetch_references("databases")


def _save_project(request, project: Project, payload) -> Project:
    """A new project is entered at its start stage (洽谈 or 签约) through ``create_project``; an
    existing one's own fields are saved through ``update_project``."""
    user = request.auth_user
    m2m = _assign(request, project, payload, records={"agreement": Agreement, "university": University, "visit": Visit},
                  items={"line": "cooperation_class"}, databases=DatabaseKind.PROJECT, control=("stage", "stage_on"))
    if project.pk is not None:
        return services.update_project(project, user=user, databases=m2m.get("databases"))
    _default_region(user, project, project.agreement.region if project.agreement_id else None)
    return services.create_project(project, user=user, stage=payload.stage, on=payload.stage_on,
                                   databases=m2m.get("databases"))


@projects_router.get("/", response=list[ProjectOut], summary="合作项目列表")
@paginate(KeysetPagination, ordering=("-stage_on", "-id"))
def list_projects(request, filters: Query[ProjectQuery]):
    """Projects in your scope, the latest to change stage first."""
    return apply_filters(ProjectFilterSet, filters, scoped(request, _projects()), request.auth_user)


add_record_endpoints(projects_router, Project, out=ProjectOut, create_in=ProjectIn, patch_in=ProjectPatch,
                     read=_projects, save=_save_project, delete=services.delete)


@projects_router.post("/{int:pk}/move/", response=ProjectOut, summary="变更项目阶段")
def move_project(request, pk: int, payload: MoveIn, response: HttpResponse):
    """One step of the stage flow (洽谈 → 签约 → 落地 → 建设 → 投产/完成, 终止 from any unfinished
    stage), dated and kept in the history; a step not allowed is a 422 naming ``to_stage``, a
    date before the current stage's ``on``, 终止 without a reason ``note``."""
    with transaction.atomic():
        project = get_in_scope(request, Project.objects.select_for_update(), "change", pk=pk)
        check_if_match(request, project)
        services.move(project, payload.to_stage, user=request.auth_user, on=payload.on, note=payload.note)
    return respond_with(response, _projects().get(pk=pk))


@projects_router.get("/{int:pk}/stages/", response=list[StageChangeOut], summary="项目阶段变更记录")
@paginate(KeysetPagination, ordering=("on", "id"))
def list_stage_changes(request, pk: int):
    """A project's stage history, oldest first (the first row is how it was entered)."""
    project = get_in_scope(request, Project, "view", pk=pk)
    return scoped(request, StageChange.objects.select_related("by")).filter(project=project)


class MilestoneOut(RecordSchema):
    id: int
    project: int = Field(alias="project_id")
    title: str
    due_on: dt.date
    done_on: dt.date | None = None
    updated_at: dt.datetime


class MilestonePatch(Schema):
    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    due_on: dt.date | None = None
    done_on: dt.date | None = Field(None, description="实际完成日期；null 为未完成")


class MilestoneIn(MilestonePatch):
    title: str
    due_on: dt.date


def _milestones():
    return Milestone.objects.all()


def _save_milestone(request, milestone: Milestone, payload) -> Milestone:
    _assign(request, milestone, payload)
    return services.save(milestone, user=request.auth_user)


_children(projects_router, Project, Milestone, path="milestones", parent_field="project", out=MilestoneOut,
          create_in=MilestoneIn, read=_milestones, save=_save_milestone, ordering=("due_on", "id"))
milestones_router = Router(tags=["合作项目"])
add_record_endpoints(milestones_router, Milestone, out=MilestoneOut, patch_in=MilestonePatch, read=_milestones,
                     save=_save_milestone, delete=services.delete, verbs=("read", "update", "delete"))


# --- leads become projects ---------------------------------------------------------------------------
class ConvertIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", description="项目名称；不填取线索标题")
    university: int | None = Field(None, description="合作院校的 id")
    on: dt.date | None = Field(None, description="进入洽谈阶段的日期；默认今天")


leads_router = Router(tags=["合作项目"])


@leads_router.post("/{int:lead_id}/convert/", response={201: ProjectOut, 409: ConflictOut}, summary="线索转为合作项目")
def convert_lead(request, lead_id: int, payload: ConvertIn, response: HttpResponse):
    """A liaison lead becomes a project (洽谈) of its region; the lead is marked 已转化. A lead
    converted before answers 409."""
    require_permission(request, Project, "add")
    errors: dict[str, list[str]] = {}
    university = _visible(request.auth_user, University, payload.university, errors, "university")
    if errors:
        raise ApiValidationError(errors)
    with transaction.atomic():
        lead = get_in_scope(request, Lead.objects.select_for_update(), "change", pk=lead_id)
        if Project.objects.filter(lead=lead).exists():
            return Status(409, {"detail": _("该线索已转为合作项目。")})
        project = services.convert_lead(lead, user=request.auth_user, name=payload.name, university=university,
                                        on=payload.on)
    return Status(201, respond_with(response, _projects().get(pk=project.pk)))


# --- supervision and rectification ---------------------------------------------------------------------
class ProblemOut(RecordSchema):
    id: int
    supervision: int = Field(alias="supervision_id")
    description: str
    deadline: dt.date = Field(description="整改期限")
    closed_on: dt.date | None = Field(None, description="整改完成日期；null 为未整改")
    closure: str = Field(description="整改情况")
    updated_at: dt.datetime


class SupervisionOut(RecordSchema):
    id: int
    project: ProjectRef
    region: RegionRef = Field(description="项目的所属地区")
    on: dt.date
    inspector: str
    findings: str
    problems: list[ProblemOut]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_region(obj):
        return obj.project.region

    @staticmethod
    def resolve_problems(obj) -> list:
        return related_rows(obj, "problems")


class SupervisionPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    on: dt.date | None = None
    inspector: str | None = None
    findings: str | None = None


class SupervisionIn(SupervisionPatch):
    project: int = Field(description="项目的 id，须在您的数据范围内")
    on: dt.date
    inspector: str


SupervisionQuery = filter_query_schema(
    SupervisionFilterSet,
    descriptions={"q": "项目名称、督导人员或督导情况包含", "region": "项目所属地区的 id（含其下级地区）", "project": "项目的 id"},
)
supervisions_router = Router(tags=["项目督导"])


def _supervisions():
    return Supervision.objects.select_related("project__region").prefetch_related("problems")


def _save_supervision(request, supervision: Supervision, payload) -> Supervision:
    _assign(request, supervision, payload, records={"project": Project})
    return services.save(supervision, user=request.auth_user)


@supervisions_router.get("/", response=list[SupervisionOut], summary="项目督导列表")
@paginate(KeysetPagination, ordering=("-on", "-id"))
def list_supervisions(request, filters: Query[SupervisionQuery]):
    return apply_filters(SupervisionFilterSet, filters, scoped(request, _supervisions()), request.auth_user)


add_record_endpoints(supervisions_router, Supervision, out=SupervisionOut, create_in=SupervisionIn,
                     patch_in=SupervisionPatch, read=_supervisions, save=_save_supervision, delete=services.delete)


class ProblemPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    deadline: dt.date | None = None


class ProblemIn(ProblemPatch):
    description: str
    deadline: dt.date


class CloseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    on: dt.date | None = Field(None, description="整改完成日期：不早于督导日期，不晚于今天；默认今天")
    closure: str = Field(description="整改情况")


def _problems():
    return Problem.objects.all()


def _save_problem(request, problem: Problem, payload) -> Problem:
    _assign(request, problem, payload)
    return services.save(problem, user=request.auth_user)


_children(supervisions_router, Supervision, Problem, path="problems", parent_field="supervision", out=ProblemOut,
          create_in=ProblemIn, read=_problems, save=_save_problem, ordering=("deadline", "id"))
ProblemQuery = filter_query_schema(
    ProblemFilterSet,
    descriptions={"q": "问题或项目名称包含", "state": "open 未整改、overdue 逾期未整改、closed 已整改",
                  "region": "项目所属地区的 id（含其下级地区）"},
)
problems_router = Router(tags=["项目督导"])


@problems_router.get("/", response=list[ProblemOut], summary="整改问题列表")
@paginate(KeysetPagination, ordering=("deadline", "id"))
def list_problems(request, filters: Query[ProblemQuery]):
    """The problems supervision found in your scope, the earliest deadline first."""
    return apply_filters(ProblemFilterSet, filters, scoped(request, _problems()), request.auth_user)


add_record_endpoints(problems_router, Problem, out=ProblemOut, patch_in=ProblemPatch, read=_problems,
                     save=_save_problem, delete=services.delete, verbs=("read", "update", "delete"))


@problems_router.post("/{int:pk}/close/", response=ProblemOut, summary="整改完成")
def close_problem(request, pk: int, payload: CloseIn, response: HttpResponse):
    with transaction.atomic():
        problem = get_in_scope(request, Problem.objects.select_for_update(), "change", pk=pk)
        check_if_match(request, problem)
        try:
            services.close_problem(problem, user=request.auth_user, on=payload.on, closure=payload.closure)
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise
            # The service names the model's field; the request's is ``on``.
            raise ApiValidationError({"on" if name == "closed_on" else name: messages
                                      for name, messages in exc.message_dict.items()}) from exc
    return respond_with(response, _problems().get(pk=pk))


# --- scheduling reports (调度) ------------------------------------------------------------------------
class ReportOut(RecordSchema):
    id: int
    project: ProjectRef
    region: RegionRef = Field(description="项目的所属地区")
    period: dt.date = Field(description="报告期的第一天")
    percent_done: int = Field(description="完成进度（%）")
    work: str
    blockers: str
    next_steps: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_region(obj):
        return obj.project.region


class ReportPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    period: dt.date | None = Field(None, description="报告期的第一天（按月调度为当月 1 日）")
    percent_done: int | None = Field(None, ge=0, le=100)
    work: str | None = None
    blockers: str | None = None
    next_steps: str | None = None


class ReportIn(ReportPatch):
    project: int = Field(description="项目的 id，须在您的数据范围内且已签约")
    period: dt.date = Field(description="报告期的第一天（按月调度为当月 1 日）")
    percent_done: int = Field(ge=0, le=100)
    work: str


class MissingReportOut(Schema):
    project: ProjectRef
    region: RegionRef
    period: dt.date = Field(description="欠报的报告期（第一天）")
    deadline: dt.date = Field(description="该期报告的截止日期")


ReportQuery = filter_query_schema(
    ReportFilterSet,
    descriptions={"q": "项目名称、本期工作或存在问题包含", "region": "项目所属地区的 id（含其下级地区）", "project": "项目的 id"},
)
reports_router = Router(tags=["调度报告"])


def _reports():
    return Report.objects.select_related("project__region")


def _save_report(request, report: Report, payload) -> Report:
    _assign(request, report, payload, records={"project": Project})
    return services.save_report(report, user=request.auth_user)


@reports_router.get("/", response=list[ReportOut], summary="调度报告列表")
@paginate(KeysetPagination, ordering=("-period", "-id"))
def list_reports(request, filters: Query[ReportQuery]):
    return apply_filters(ReportFilterSet, filters, scoped(request, _reports()), request.auth_user)


@reports_router.get("/missing/", response=list[MissingReportOut], summary="欠报的调度报告")
def list_missing_reports(request, filters: Query[ProjectQuery], latest_only: bool = False):
    """The reports the projects of your scope (filtered like the project list) owe and have not
    submitted, by period; ``latest_only``: only each project's latest period (the 调度会's list)."""
    require_permission(request, Report, "view")
    projects = apply_filters(ProjectFilterSet, filters, scoped(request, Project), request.auth_user)
    return [{"project": row.project, "region": row.project.region, "period": row.period, "deadline": row.deadline}
            for row in services.missing_reports(projects, latest_only=latest_only)]


add_record_endpoints(reports_router, Report, out=ReportOut, create_in=ReportIn, patch_in=ReportPatch, read=_reports,
                     save=_save_report, delete=services.delete)


# --- bases, experts, achievements ----------------------------------------------------------------------
class BaseOut(RecordSchema):
    id: int
    name: str
    kind: DictionaryRef | None = Field(None, description="基地类型（字典 cooperation_base）")
    host_unit: str
    university: UniversityRef
    agreement: AgreementRef | None = None
    established_on: dt.date | None = Field(None, description="挂牌日期")
    status: str = Field(description="planned 筹建、running 运行、suspended 暂停、revoked 撤销")
    status_label: str = Field(alias="get_status_display")
    description: str
    region: RegionRef
    created_at: dt.datetime
    updated_at: dt.datetime


class BasePatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    kind: str | None = Field(None, description="基地类型代码（字典 cooperation_base）")
    host_unit: str | None = None
    university: int | None = Field(None, description="合作院校的 id")
    agreement: int | None = Field(None, description="所属协议的 id，须在您的数据范围内")
    established_on: dt.date | None = None
    status: BaseStatus | None = None
    description: str | None = None
    region: str | None = Field(None, description="所属地区的区划代码；县级专员不填为本县")


class BaseIn(BasePatch):
    name: str
    kind: str = Field(description="基地类型代码（字典 cooperation_base）")
    host_unit: str
    university: int = Field(description="合作院校的 id")


BaseQuery = filter_query_schema(
    BaseFilterSet,
    descriptions={"q": "基地名称或承建单位包含", "kind": "基地类型字典项的 id", "university": "院校的 id",
                  "region": "所属地区的 id（含其下级地区）"},
)
bases_router = Router(tags=["合作基地"])


def _bases():
    return Base.objects.select_related("kind", "university", "agreement", "region")


def _save_base(request, base: Base, payload) -> Base:
    _assign(request, base, payload, records={"university": University, "agreement": Agreement},
            items={"kind": "cooperation_base"})
    _default_region(request.auth_user, base, base.agreement.region if base.agreement_id else None)
    return services.save(base, user=request.auth_user)


@bases_router.get("/", response=list[BaseOut], summary="合作基地列表")
@paginate(KeysetPagination, ordering=("name", "id"))
def list_bases(request, filters: Query[BaseQuery]):
    return apply_filters(BaseFilterSet, filters, scoped(request, _bases()), request.auth_user)


add_record_endpoints(bases_router, Base, out=BaseOut, create_in=BaseIn, patch_in=BasePatch, read=_bases,
                     save=_save_base, delete=services.delete)


class ExpertOut(RecordSchema):
    id: int
    talent: TalentRef = Field(description="人才库中的人才")
    region: RegionRef = Field(description="人才的所属地区：数据范围按它划分")
    university: UniversityRef
    expertise: str = Field(description="专长领域")
    discipline: DictionaryRef | None = Field(None, description="学科（字典 discipline）")
    available: bool = Field(description="可对接服务")
    databases: list[DatabaseRef]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_region(obj):
        return obj.talent.region

    @staticmethod
    def resolve_databases(obj) -> list:
        return related_rows(obj, "databases")


class ExpertPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    university: int | None = Field(None, description="所在院校的 id")
    expertise: str | None = None
    discipline: str | None = Field(None, description="学科代码（字典 discipline）")
    available: bool | None = None
    databases: list[str] | None = Field(None, description="所属库代码列表；新专家不填为默认的专家库")


class ExpertIn(ExpertPatch):
    talent: int = Field(description="人才的 id，须在您的数据范围内")
    university: int = Field(description="所在院校的 id")
    expertise: str


ExpertQuery = filter_query_schema(
    ExpertFilterSet,
    descriptions={"q": "姓名、专长领域或工作单位包含", "university": "院校的 id", "database": "所属库的 id",
                  "available": "true：只列可对接服务的", "region": "人才所属地区的 id（含其下级地区）"},
)
experts_router = Router(tags=["专家库"])


def _experts():
    return Expert.objects.select_related("talent__region", "university", "discipline").fetch_references("databases")


def _save_expert(request, expert: Expert, payload) -> Expert:
    m2m = _assign(request, expert, payload, records={"talent": Talent, "university": University},
                  items={"discipline": "discipline"}, databases=DatabaseKind.EXPERT)
    if expert.pk is None and "databases" not in m2m:
        m2m["databases"] = services.default_databases(DatabaseKind.EXPERT)
    return services.save(expert, user=request.auth_user, m2m=m2m)


@experts_router.get("/", response=list[ExpertOut], summary="专家列表")
@paginate(KeysetPagination, ordering=("id",))
def list_experts(request, filters: Query[ExpertQuery]):
    """The experts whose talent record you may see."""
    return apply_filters(ExpertFilterSet, filters, scoped(request, _experts()), request.auth_user)


add_record_endpoints(experts_router, Expert, out=ExpertOut, create_in=ExpertIn, patch_in=ExpertPatch, read=_experts,
                     save=_save_expert, delete=services.delete)


class AchievementOut(RecordSchema):
    id: int
    title: str
    university: UniversityRef | None = Field(None, description="完成单位")
    owners: str = Field(description="完成人")
    field: str = Field(description="技术领域")
    summary: str
    maturity: str = Field(description="lab 实验室阶段、pilot 小试、scale_up 中试、industrial 可产业化")
    maturity_label: str = Field(alias="get_maturity_display")
    transfer_mode: str = Field(description="transfer 转让、license 许可、equity 作价入股、joint 合作开发、other 其他")
    transfer_mode_label: str = Field(alias="get_transfer_mode_display")
    price_low: Decimal | None = Field(None, description="意向价格下限（万元）")
    price_high: Decimal | None = Field(None, description="意向价格上限（万元）")
    databases: list[DatabaseRef]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_databases(obj) -> list:
        return related_rows(obj, "databases")


class AchievementPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    university: int | None = Field(None, description="完成单位（院校）的 id")
    owners: str | None = None
    field: str | None = None
    summary: str | None = None
    maturity: Maturity | None = None
    transfer_mode: TransferMode | None = None
    price_low: Decimal | None = Field(None, max_digits=14, decimal_places=2)
    price_high: Decimal | None = Field(None, max_digits=14, decimal_places=2)
    databases: list[str] | None = Field(None, description="所属库代码列表；新成果不填为默认的成果库")


class AchievementIn(AchievementPatch):
    title: str
    field: str


AchievementQuery = filter_query_schema(
    AchievementFilterSet,
    descriptions={"q": "成果名称、技术领域、完成人或简介包含", "university": "院校的 id", "database": "所属库的 id",
                  "price_max": "意向价格下限不高于（万元）"},
)
achievements_router = Router(tags=["成果库"])


def _achievements():
    return Achievement.objects.select_related("university").fetch_references("databases")


def _save_achievement(request, achievement: Achievement, payload) -> Achievement:
    m2m = _assign(request, achievement, payload, records={"university": University}, databases=DatabaseKind.ACHIEVEMENT)
    if achievement.pk is None and "databases" not in m2m:
        m2m["databases"] = services.default_databases(DatabaseKind.ACHIEVEMENT)
    return services.save(achievement, user=request.auth_user, m2m=m2m)


@achievements_router.get("/", response=list[AchievementOut], summary="科技成果列表")
@paginate(KeysetPagination, ordering=("-created_at", "-id"))
def list_achievements(request, filters: Query[AchievementQuery]):
    return apply_filters(AchievementFilterSet, filters, scoped(request, _achievements()), request.auth_user)


add_record_endpoints(achievements_router, Achievement, out=AchievementOut, create_in=AchievementIn,
                     patch_in=AchievementPatch, read=_achievements, save=_save_achievement, delete=services.delete)


# --- visits and their follow-ups -------------------------------------------------------------------------
class FollowUpOut(RecordSchema):
    id: int
    visit: int = Field(alias="visit_id")
    description: str
    due_on: dt.date | None = Field(None, description="落实期限")
    status: str = Field(description="open 待落实、agreement 已签协议、project 已立项目、lead 已转线索、dropped 不再推进")
    status_label: str = Field(alias="get_status_display")
    agreement: AgreementRef | None = Field(None, description="形成的协议")
    project: ProjectRef | None = Field(None, description="形成的项目")
    lead: LeadRef | None = Field(None, description="形成的线索")
    updated_at: dt.datetime


class VisitOut(RecordSchema):
    id: int
    kind: str = Field(description="outgoing 访名校、return 回访来访")
    kind_label: str = Field(alias="get_kind_display")
    university: UniversityRef
    on: dt.date
    delegation: str = Field(description="出访（来访）人员")
    met: str = Field(description="会见人员")
    agreed: str = Field(description="商定事项")
    region: RegionRef
    follow_ups: list[FollowUpOut]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_follow_ups(obj) -> list:
        return related_rows(obj, "follow_ups")


class VisitPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: VisitKind | None = None
    university: int | None = Field(None, description="院校的 id")
    on: dt.date | None = None
    delegation: str | None = None
    met: str | None = None
    agreed: str | None = None
    region: str | None = Field(None, description="所属地区的区划代码；县级专员不填为本县")


class VisitIn(VisitPatch):
    university: int = Field(description="院校的 id")
    on: dt.date
    delegation: str


class FollowUpPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    due_on: dt.date | None = None
    status: Literal["open", "agreement", "dropped"] | None = Field(
        None, description="open、agreement 或 dropped；转为项目、线索请用 to-project、to-lead")
    agreement: int | None = Field(None, description="形成的协议的 id，须在您的数据范围内")


class FollowUpIn(FollowUpPatch):
    description: str


class ToProjectIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", description="项目名称；不填取跟进事项")


VisitQuery = filter_query_schema(
    VisitFilterSet,
    descriptions={"q": "院校、人员或商定事项包含", "university": "院校的 id", "region": "所属地区的 id（含其下级地区）",
                  "follow_up": "有该状态跟进事项的走访"},
)
visits_router = Router(tags=["走访名校"])
_FOLLOW_UPS = Prefetch("follow_ups", queryset=FollowUp.objects.select_related("agreement", "project", "lead"))


def _visits():
    return Visit.objects.select_related("university", "region").prefetch_related(_FOLLOW_UPS)


def _follow_ups():
    return FollowUp.objects.select_related("agreement", "project", "lead")


def _save_visit(request, visit: Visit, payload) -> Visit:
    _assign(request, visit, payload, records={"university": University})
    _default_region(request.auth_user, visit)
    return services.save(visit, user=request.auth_user)


def _save_follow_up(request, follow_up: FollowUp, payload) -> FollowUp:
    _assign(request, follow_up, payload, records={"agreement": Agreement})
    return services.save_follow_up(follow_up, user=request.auth_user)


@visits_router.get("/", response=list[VisitOut], summary="走访名校列表")
@paginate(KeysetPagination, ordering=("-on", "-id"))
def list_visits(request, filters: Query[VisitQuery]):
    return apply_filters(VisitFilterSet, filters, scoped(request, _visits()), request.auth_user)


add_record_endpoints(visits_router, Visit, out=VisitOut, create_in=VisitIn, patch_in=VisitPatch, read=_visits,
                     save=_save_visit, delete=services.delete)
_children(visits_router, Visit, FollowUp, path="follow-ups", parent_field="visit", out=FollowUpOut,
          create_in=FollowUpIn, read=_follow_ups, save=_save_follow_up, ordering=("id",))
follow_ups_router = Router(tags=["走访名校"])
add_record_endpoints(follow_ups_router, FollowUp, out=FollowUpOut, patch_in=FollowUpPatch, read=_follow_ups,
                     save=_save_follow_up, delete=services.delete, verbs=("read", "update", "delete"))


def _follow_up_for_change(request, pk: int) -> FollowUp:
    return get_in_scope(request, FollowUp.objects.select_for_update(), "change", pk=pk)


@follow_ups_router.post("/{int:pk}/to-project/", response={201: ProjectOut, 409: ConflictOut},
                        summary="跟进事项转为合作项目")
def follow_up_to_project(request, pk: int, payload: ToProjectIn, response: HttpResponse):
    """The item becomes a project (洽谈) of the visited university and the visiting county; an item
    that already became one answers 409."""
    require_permission(request, Project, "add")
    with transaction.atomic():
        follow_up = _follow_up_for_change(request, pk)
        if follow_up.project_id is not None:
            return Status(409, {"detail": _("该事项已形成项目。")})
        project = services.follow_up_to_project(follow_up, user=request.auth_user, name=payload.name)
    return Status(201, respond_with(response, _projects().get(pk=project.pk)))


@follow_ups_router.post("/{int:pk}/to-lead/", response={201: LeadOut, 409: ConflictOut}, summary="跟进事项转为线索")
def follow_up_to_lead(request, pk: int, response: HttpResponse):
    """The item becomes a liaison lead (项目线索) of the visiting county; an item that already
    became one answers 409."""
    require_permission(request, Lead, "add")
    with transaction.atomic():
        follow_up = _follow_up_for_change(request, pk)
        if follow_up.lead_id is not None:
            return Status(409, {"detail": _("该事项已转为线索。")})
        lead = services.follow_up_to_lead(follow_up, user=request.auth_user)
    return Status(201, respond_with(response, Lead.objects.select_related("talent", "owner", "region").get(pk=lead.pk)))


# --- figures -------------------------------------------------------------------------------------------
class FigureRowOut(Schema):
    key: int | None = Field(None, description="院校或地区的 id，或年度；null 为未关联院校（地区）、未签约，或合计")
    label: str
    agreements: int = Field(description="协议数")
    agreement_amount: Decimal = Field(description="协议金额（万元）")
    projects: int = Field(description="项目数")
    by_stage: dict[str, int] = Field(description="各阶段的项目数")
    signed: int = Field(description="已签约的项目数（含之后落地、终止的）")
    landed: int = Field(description="已落地的项目数（含之后终止的）")
    landing_rate: float | None = Field(None, description="落地率（%）：已落地 ÷ 已签约；无签约为 null")
    project_amount: Decimal = Field(description="项目投资额（万元）")
    landed_amount: Decimal = Field(description="已落地项目的投资额（万元）")

    @field_validator("agreement_amount", "project_amount", "landed_amount")
    @classmethod
    def _to_the_fen(cls, value: Decimal) -> Decimal:
        # SQLite's SUM drops the scale (580, not 580.00): amounts read alike on either database.
        return value.quantize(CENT)


class FiguresOut(Schema):
    by: str
    rows: list[FigureRowOut]
    total: FigureRowOut


figures_router = Router(tags=["合作统计"])


@figures_router.get("/", response=FiguresOut, summary="合作统计")
def get_figures(request, by: Literal["university", "region", "year"] = "university"):
    """Agreements, projects by stage, the landing rate and the amounts of your scope, by
    university, by county or by year (of signing), with their total."""
    projects, agreements = scoped(request, Project), scoped(request, Agreement)
    rows, total = cooperation_figures.figures(projects, agreements, by)
    return {"by": by, "rows": rows, "total": total}


router.add_router("/universities/", universities_router)
router.add_router("/contacts/", contacts_router)
router.add_router("/agreements/", agreements_router)
router.add_router("/projects/", projects_router)
router.add_router("/milestones/", milestones_router)
router.add_router("/leads/", leads_router)
router.add_router("/supervisions/", supervisions_router)
router.add_router("/problems/", problems_router)
router.add_router("/reports/", reports_router)
router.add_router("/bases/", bases_router)
router.add_router("/experts/", experts_router)
router.add_router("/achievements/", achievements_router)
router.add_router("/visits/", visits_router)
router.add_router("/follow-ups/", follow_ups_router)
router.add_router("/figures/", figures_router)
