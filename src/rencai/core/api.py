"""The platform's API: who am I, reference data, organisation units and background jobs.

Mounted at the API root (``API_PREFIX = ""``): /api/me, /api/regions/, /api/dictionaries/,
/api/orgunits/, /api/jobs/. Endpoints parse, authorise (permission, then scope), call and
respond, like the web views; the rules themselves live in models, FilterSets and services.

(No ``from __future__ import annotations`` here: ninja reads the parameter annotations, such as
``Query[RegionFilters]``, at import time.)
"""

from datetime import datetime
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from rencai.api.auth import audit_full_values, get_in_scope, personal_value, scoped
from rencai.api.errors import ApiValidationError
from rencai.api.filtering import apply_filters, filter_query_schema
from rencai.api.locking import check_if_match, etag
from rencai.api.pagination import KeysetPagination
from rencai.core import jobs as job_service
from rencai.core.filters import (
    DictionaryFilterSet,
    DictionaryItemFilterSet,
    OrgUnitFilterSet,
    RegionFilterSet,
)
from rencai.core.models import Dictionary, DictionaryItem, Job, OrgUnit, Region
from rencai.core.scope import check_in_scope, region_in_scope

API_PREFIX = ""
router = Router()


# --- shared shapes --------------------------------------------------------------------------------------
# A choice's label and a parent's code are read straight off the model through a field alias:
# ninja calls ``get_<field>_display`` and follows ``parent.code`` (null when there is no parent).
class RegionRef(Schema):
    id: int
    code: str
    name: str


class OrgUnitRef(Schema):
    id: int
    name: str


# --- me -------------------------------------------------------------------------------------------------
class RoleOut(Schema):
    code: str
    name: str


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    email: str
    roles: list[RoleOut]
    regions: list[RegionRef]
    sees_all_regions: bool
    can_view_personal: bool
    permissions: list[str]


me_router = Router(tags=["账户"])


@me_router.get("", response=MeOut, summary="当前用户", url_name="api_me")
def me(request):
    """The token's user: roles, assigned regions, scope and permissions (what the UI would allow)."""
    user = request.auth_user
    return {
        "id": user.pk,
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "roles": user.role_list,
        "regions": list(user.regions.order_by("path")),
        "sees_all_regions": user.sees_all_regions,
        "can_view_personal": user.can_view_personal,
        "permissions": sorted(user.get_all_permissions()),
    }


# --- regions --------------------------------------------------------------------------------------------
class RegionOut(Schema):
    id: int
    code: str
    name: str
    level: str
    level_label: str = Field(alias="get_level_display")
    parent: str | None = Field(None, alias="parent.code", description="上级地区的区划代码")
    path: str
    is_standard: bool
    is_active: bool


RegionQuery = filter_query_schema(
    RegionFilterSet,
    descriptions={"q": "名称包含，或代码以此开头", "parent": "上级地区（省、市）的区划代码：只列其直属下级"},
)
regions_router = Router(tags=["行政区划"])


@regions_router.get("/", response=list[RegionOut], summary="行政区划列表")
@paginate(KeysetPagination, ordering=("path",))
def list_regions(request, filters: Query[RegionQuery]):
    queryset = scoped(request, Region).select_related("parent")
    return apply_filters(RegionFilterSet, filters, queryset, request.auth_user)


@regions_router.get("/{code}", response=RegionOut, summary="行政区划")
def get_region(request, code: str):
    return get_in_scope(request, Region.objects.select_related("parent"), "view", code=code)


# --- dictionaries -----------------------------------------------------------------------------------------
class DictionaryOut(Schema):
    id: int
    code: str
    name: str
    standard: str
    description: str
    item_count: int


class DictionaryItemOut(Schema):
    id: int
    code: str
    label: str
    synonyms: list[str]
    description: str
    parent: str | None = Field(None, alias="parent.code", description="上级字典项的代码")
    sort_order: int
    is_active: bool


DictionaryQuery = filter_query_schema(DictionaryFilterSet, descriptions={"q": "代码、名称或依据标准包含"})
DictionaryItemQuery = filter_query_schema(
    DictionaryItemFilterSet, descriptions={"q": "代码或名称包含", "is_active": "true：只列启用的项；false：只列停用的项"}
)
dictionaries_router = Router(tags=["数据字典"])


@dictionaries_router.get("/", response=list[DictionaryOut], summary="数据字典列表")
@paginate(KeysetPagination, ordering=("code",))
def list_dictionaries(request, filters: Query[DictionaryQuery]):
    queryset = scoped(request, Dictionary).annotate(item_count=Count("items"))
    return apply_filters(DictionaryFilterSet, filters, queryset, request.auth_user)


@dictionaries_router.get("/{code}/items", response=list[DictionaryItemOut], summary="字典项")
@paginate(KeysetPagination, ordering=("sort_order", "code"))
def list_dictionary_items(request, code: str, filters: Query[DictionaryItemQuery]):
    dictionary = get_in_scope(request, Dictionary, "view", code=code)
    queryset = scoped(request, DictionaryItem).filter(dictionary=dictionary).select_related("parent")
    return apply_filters(DictionaryItemFilterSet, filters, queryset, request.auth_user)


# --- organisation units -----------------------------------------------------------------------------------
class OrgUnitOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    region: RegionRef
    parent: OrgUnitRef | None = Field(None, description="上级机构（不在您的数据范围内时为 null）")
    contact_name: str
    contact_mobile: str = Field(description="联系人手机；无权查看完整个人信息的角色看到脱敏值")
    address: str
    notes: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_parent(obj, context):
        parent = obj.parent
        if parent is None or not region_in_scope(context["request"].auth_user, parent.region):
            return None
        return parent

    @staticmethod
    def resolve_contact_mobile(obj, context) -> str:
        return personal_value(context["request"].auth_user, obj, "contact_mobile")


class OrgUnitIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="名称")
    kind: str = Field("other", description="类型代码：talent_office、party、government、institution、enterprise、other")
    region: str = Field(description="所属地区的区划代码，须在您的数据范围内")
    parent: int | None = Field(None, description="上级机构的 id")
    contact_name: str = ""
    contact_mobile: str = ""
    address: str = ""
    notes: str = ""


class OrgUnitPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    kind: str | None = None
    region: str | None = Field(None, description="所属地区的区划代码，须在您的数据范围内")
    parent: int | None = None
    contact_name: str | None = None
    contact_mobile: str | None = None
    address: str | None = None
    notes: str | None = None


OrgUnitQuery = filter_query_schema(
    OrgUnitFilterSet, descriptions={"region": "所属地区的 id（见 /api/regions/），含其下级地区"}
)
ORGUNIT_DETAIL = ("region", "parent__region")
orgunits_router = Router(tags=["组织机构"])


def _apply_orgunit_changes(request, unit: OrgUnit, changes: dict) -> None:
    """Set the submitted fields on ``unit`` and validate it, naming every field that fails."""
    user = request.auth_user
    errors: dict[str, list[str]] = {}
    if "region" in changes:
        region = user.scope_regions().filter(code=changes.pop("region") or "").first()
        if region is None:
            errors["region"] = [_("所选地区不存在，或不在您的数据范围内。")]
        else:
            unit.region = region
    if "parent" in changes:
        parent_id = changes.pop("parent")
        parent = None
        if parent_id is not None:
            parent = OrgUnit.objects.restrict(user, "view").filter(pk=parent_id).first()
            if parent is None:
                errors["parent"] = [_("所选上级机构不存在，或不在您的数据范围内。")]
            elif unit.pk is not None and _is_within(parent, unit):
                errors["parent"] = [_("上级机构不能是本机构或其下级机构。")]
        if "parent" not in errors:
            unit.parent = parent
    for name, value in changes.items():
        setattr(unit, name, value if value is not None else "")
    try:
        unit.full_clean(exclude=list(errors))
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ApiValidationError(errors)


def _is_within(candidate: OrgUnit, unit: OrgUnit) -> bool:
    """Whether ``candidate`` is ``unit`` or lies under it (it would make a loop as its parent)."""
    seen = set()
    node = candidate
    while node is not None and node.pk not in seen:
        if node.pk == unit.pk:
            return True
        seen.add(node.pk)
        node = node.parent
    return False


def _audit_orgunit_page(request, units) -> None:
    audit_full_values(request.auth_user, units, ("contact_mobile",), label="联系人手机")


@orgunits_router.get("/", response=list[OrgUnitOut], summary="组织机构列表")
@paginate(KeysetPagination, ordering=("region__path", "name"), on_page=_audit_orgunit_page)
def list_orgunits(request, filters: Query[OrgUnitQuery]):
    queryset = scoped(request, OrgUnit).select_related(*ORGUNIT_DETAIL)
    return apply_filters(OrgUnitFilterSet, filters, queryset, request.auth_user)


@orgunits_router.get("/{int:unit_id}", response=OrgUnitOut, summary="组织机构")
def get_orgunit(request, unit_id: int, response: HttpResponse):
    """The response's ``ETag`` can be sent back as ``If-Match`` with a PATCH or DELETE."""
    unit = get_in_scope(request, OrgUnit.objects.select_related(*ORGUNIT_DETAIL), "view", pk=unit_id)
    audit_full_values(request.auth_user, [unit], ("contact_mobile",), label="联系人手机")
    response["ETag"] = etag(unit)
    return unit


@orgunits_router.post("/", response={201: OrgUnitOut}, summary="新增组织机构")
def create_orgunit(request, payload: OrgUnitIn):
    user = request.auth_user
    scoped(request, OrgUnit, "add")
    with transaction.atomic():
        unit = OrgUnit()
        _apply_orgunit_changes(request, unit, payload.model_dump())
        check_in_scope(user, unit, "add")
        unit.save()
    return Status(201, OrgUnit.objects.select_related(*ORGUNIT_DETAIL).get(pk=unit.pk))


@orgunits_router.patch("/{int:unit_id}", response=OrgUnitOut, summary="修改组织机构")
def update_orgunit(request, unit_id: int, payload: OrgUnitPatch, response: HttpResponse):
    """Changes only the fields sent; with ``If-Match`` only if the record is unchanged (else 412)."""
    user = request.auth_user
    with transaction.atomic():
        unit = get_in_scope(request, OrgUnit.objects.select_for_update(), "change", pk=unit_id)
        check_if_match(request, unit)
        _apply_orgunit_changes(request, unit, payload.model_dump(exclude_unset=True))
        # Re-checked inside the transaction: a unit cannot be moved into a region the user lacks.
        check_in_scope(user, unit, "change")
        unit.save()
    unit = OrgUnit.objects.select_related(*ORGUNIT_DETAIL).get(pk=unit.pk)
    response["ETag"] = etag(unit)
    return unit


@orgunits_router.delete("/{int:unit_id}", response={204: None}, summary="删除组织机构")
def delete_orgunit(request, unit_id: int):
    with transaction.atomic():
        unit = get_in_scope(request, OrgUnit.objects.select_for_update(), "delete", pk=unit_id)
        check_if_match(request, unit)
        unit.delete()
    return Status(204, None)


# --- jobs -----------------------------------------------------------------------------------------------
class JobOut(Schema):
    id: UUID
    kind: str
    title: str
    status: str
    status_label: str = Field(alias="get_status_display")
    progress: int
    message: str
    result: dict
    error: str
    created_by: str | None = Field(None, description="提交人的用户名")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested: bool

    @staticmethod
    def resolve_created_by(obj) -> str | None:
        return obj.created_by.username if obj.created_by_id else None


jobs_router = Router(tags=["后台任务"])


@jobs_router.get("/", response=list[JobOut], summary="后台任务列表")
@paginate(KeysetPagination, ordering=("-created_at",))
def list_jobs(request):
    """Your own jobs (everyone's, for roles with 「查看后台任务」 over all regions)."""
    return job_service.visible_jobs(request.auth_user)


@jobs_router.get("/{uuid:job_id}", response=JobOut, summary="后台任务状态")
def get_job(request, job_id: UUID):
    try:
        return job_service.visible_jobs(request.auth_user).get(pk=job_id)
    except Job.DoesNotExist as exc:
        raise Http404 from exc


@jobs_router.post("/{uuid:job_id}/cancel", response=JobOut, summary="取消后台任务")
def cancel_job(request, job_id: UUID):
    try:
        job = job_service.visible_jobs(request.auth_user).get(pk=job_id)
    except Job.DoesNotExist as exc:
        raise Http404 from exc
    if not job_service.can_cancel(request.auth_user, job):
        if job.is_finished:
            raise ApiValidationError({"__all__": [_("任务已经结束，不能取消。")]})
        raise PermissionDenied
    job_service.request_cancel(job, request.auth_user)
    return job_service.visible_jobs(request.auth_user).get(pk=job.pk)


router.add_router("/me", me_router)
router.add_router("/regions/", regions_router)
router.add_router("/dictionaries/", dictionaries_router)
router.add_router("/orgunits/", orgunits_router)
router.add_router("/jobs/", jobs_router)
