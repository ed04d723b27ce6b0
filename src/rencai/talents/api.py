"""The registry's API at /api/talents/: list (search, filters, cursor pages, counts), read, create,
change, delete.

The list filters through ``TalentFilterSet`` (the list page's) and searches through the term
index, keeping its ranking. Records carry dictionary values as ``{id, code, label}`` and regions
as ``{id, code, name}``; writes take codes (a category's code within its kind's dictionary, a
region's GB/T 2260 code). ID-card and mobile numbers are masked for roles without
「可查看完整个人信息」; a response carrying full values is audited. Writes go through
``talents.services`` like the web form: the same rules, duplicate checks and optimistic locking
(``ETag``/``If-Match``, or ``version`` in the body).

(No ``from __future__ import annotations``: ninja reads the annotations at import time.)
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import ConfigDict

from rencai.api.auth import audit_full_values, get_in_scope, personal_value, scoped
from rencai.api.errors import ApiValidationError
from rencai.api.filtering import apply_filters, filter_query_schema
from rencai.api.locking import check_if_match, etag
from rencai.api.pagination import CountedKeysetPagination
from rencai.api.parsing import unknown_code
from rencai.api.schemas import RecordSchema, Ref
from rencai.core.audit import MASKED_SECRET
from rencai.core.forms import region_choices
from rencai.core.models import DictionaryItem, Region
from rencai.core.models.base import related_rows
from rencai.core.models.regions import RegionLevel
from rencai.core.pagination import RankedPaginator
from rencai.talents import services
from rencai.talents.choices import CATEGORY_DICTIONARY, TalentKind
from rencai.talents.filters import TalentFilterSet
from rencai.talents.forms import MONTH, liaison_officer_queryset
from rencai.talents.models import Talent, TalentDatabase, TalentEducation, TalentWork
from rencai.talents.tables import age_on
from rencai.talents.views import DETAIL_RELATED, TALENT_RELATED, with_related

router = Router(tags=["人才"])

PERSONAL_FIELDS = ("id_card", "mobile", "other_phones")
LIST_ORDERING = ("region", "name", "id")


# --- shapes -------------------------------------------------------------------------------------------
class DictionaryRef(Ref):
    id: int
    code: str
    label: str


class RegionRef(Ref):
    id: int
    code: str
    name: str


class DatabaseRef(Ref):
    id: int
    code: str
    name: str


class UserRef(Ref):
    id: int
    username: str
    full_name: str


class EducationOut(Schema):
    id: int
    start: str
    end: str
    school: str
    major: str
    education: DictionaryRef | None = None
    degree: DictionaryRef | None = None


class WorkOut(Schema):
    id: int
    start: str
    end: str
    unit: str
    position: str


class TalentOut(RecordSchema):
    id: int
    name: str
    gender: str
    gender_label: str = Field(alias="get_gender_display")
    ethnicity: DictionaryRef | None = None
    birth_date: dt.date | None = None
    age: int | None = Field(None, description="周岁，按出生日期计算")
    id_card: str = Field(description="身份证号；无权查看完整个人信息的角色看到脱敏值")
    mobile: str = Field(description="手机号码；无权查看完整个人信息的角色看到脱敏值")
    other_phones: str = Field(description="其他电话；无权查看完整个人信息的角色看到 ******")
    email: str
    wechat: str
    political_status: DictionaryRef | None = None
    native_place: RegionRef | None = Field(None, description="籍贯（县级行政区）")
    region: RegionRef = Field(description="所属（管理）地区：数据范围按它划分")
    work_country: str
    work_province: RegionRef | None = None
    work_city: RegionRef | None = None
    kind: str
    kind_label: str = Field(alias="get_kind_display")
    category: DictionaryRef | None = None
    databases: list[DatabaseRef]
    tier: DictionaryRef | None = None
    tier_basis: str
    tags: list[str]
    work_unit: str
    unit_type: str
    unit_type_label: str = Field(alias="get_unit_type_display")
    position: str
    admin_rank: str
    admin_rank_label: str = Field(alias="get_admin_rank_display")
    title: str
    title_level: DictionaryRef | None = None
    education: DictionaryRef | None = None
    degree: DictionaryRef | None = None
    school: str
    major: str
    discipline: DictionaryRef | None = None
    research_fields: str
    skills: str
    honours: str
    liaison_officer: UserRef | None = None
    status: str
    status_label: str = Field(alias="get_status_display")
    consent_date: dt.date | None = None
    consent_scope: str
    consent_method: str
    source: str
    source_label: str = Field(alias="get_source_display")
    source_ref: str
    notes: str
    version: int = Field(description="版本号：修改时作为 If-Match 或请求体中的 version 发送")
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_age(obj, context) -> int | None:
        if not obj.birth_date:
            return None
        # Today once per response (4 µs a call): the context is the response's own.
        today = context.get("today") or context.setdefault("today", timezone.localdate())
        return age_on(obj.birth_date, today)

    @staticmethod
    def resolve_id_card(obj, context) -> str:
        return personal_value(context["request"].auth_user, obj, "id_card")

    @staticmethod
    def resolve_mobile(obj, context) -> str:
        return personal_value(context["request"].auth_user, obj, "mobile")

    @staticmethod
    def resolve_other_phones(obj, context) -> str:
        if not obj.other_phones:
            return ""
        return obj.other_phones if context["request"].auth_user.can_view_personal else MASKED_SECRET

    @staticmethod
    def resolve_databases(obj) -> list:
        return related_rows(obj, "databases")

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return [tag.name for tag in related_rows(obj, "tags")]


class TalentDetailOut(TalentOut):
    education_history: list[EducationOut]
    work_history: list[WorkOut]

    @staticmethod
    def resolve_education_history(obj) -> list:
        return list(obj.education_history.select_related("education", "degree"))

    @staticmethod
    def resolve_work_history(obj) -> list:
        return list(obj.work_history.all())


class EducationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    start: str = Field("", description="开始年月，如 2008-09")
    end: str = ""
    school: str
    major: str = ""
    education: str | None = Field(None, description="学历代码（字典 education）")
    degree: str | None = Field(None, description="学位代码（字典 degree）")


class WorkIn(Schema):
    model_config = ConfigDict(extra="forbid")

    start: str = ""
    end: str = Field("", description="留空表示至今")
    unit: str
    position: str = ""


_FIELD_DOCS = {
    "region": "所属地区的区划代码，须在您的数据范围内",
    "kind": "native（在外人才）或 local（本土人才）",
    "category": "人才分类代码，在人才类别对应的字典中（在外：talent_category_native；本土：talent_system_local）",
    "native_place": "籍贯：县级区划代码；在外人才须为本市的县（市、区）",
    "work_province": "工作所在省份的区划代码",
    "work_city": "工作所在城市（地级）的区划代码",
    "databases": "所属人才库的代码列表",
    "tags": "标签名称列表（没有的自动创建）",
    "liaison_officer": "联络员的用户名",
    "birth_date": "出生日期；填写身份证号时可省略（按身份证号填入）",
    "gender": "male 或 female；填写身份证号时可省略",
}


class TalentPatch(Schema):
    """Every field optional: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    gender: str | None = Field(None, description=_FIELD_DOCS["gender"])
    ethnicity: str | None = Field(None, description="民族代码（字典 ethnicity）")
    birth_date: dt.date | None = Field(None, description=_FIELD_DOCS["birth_date"])
    id_card: str | None = None
    mobile: str | None = None
    other_phones: str | None = None
    email: str | None = None
    wechat: str | None = None
    political_status: str | None = Field(None, description="政治面貌代码（字典 political_status）")
    native_place: str | None = Field(None, description=_FIELD_DOCS["native_place"])
    region: str | None = Field(None, description=_FIELD_DOCS["region"])
    work_country: str | None = None
    work_province: str | None = Field(None, description=_FIELD_DOCS["work_province"])
    work_city: str | None = Field(None, description=_FIELD_DOCS["work_city"])
    kind: str | None = Field(None, description=_FIELD_DOCS["kind"])
    category: str | None = Field(None, description=_FIELD_DOCS["category"])
    databases: list[str] | None = Field(None, description=_FIELD_DOCS["databases"])
    tier: str | None = Field(None, description="人才层次代码 A–E（字典 talent_tier）")
    tier_basis: str | None = None
    tags: list[str] | None = Field(None, description=_FIELD_DOCS["tags"])
    work_unit: str | None = None
    unit_type: str | None = None
    position: str | None = None
    admin_rank: str | None = None
    title: str | None = None
    title_level: str | None = Field(None, description="职称级别代码（字典 title_level）")
    education: str | None = Field(None, description="最高学历代码（字典 education）")
    degree: str | None = Field(None, description="最高学位代码（字典 degree）")
    school: str | None = None
    major: str | None = None
    discipline: str | None = Field(None, description="学科代码（字典 discipline）")
    research_fields: str | None = None
    skills: str | None = None
    honours: str | None = None
    liaison_officer: str | None = Field(None, description=_FIELD_DOCS["liaison_officer"])
    status: str | None = None
    consent_date: dt.date | None = None
    consent_scope: str | None = None
    consent_method: str | None = None
    source: str | None = None
    source_ref: str | None = None
    notes: str | None = None
    education_history: list[EducationIn] | None = Field(None, description="学习经历（整体替换）")
    work_history: list[WorkIn] | None = Field(None, description="工作经历（整体替换）")
    confirm_duplicates: bool = Field(False, description="已核对同名且出生日期或手机相同的记录，仍然保存")
    version: int | None = Field(None, description="读取时的版本号；记录已被他人修改则答 412")


class TalentIn(TalentPatch):
    name: str
    kind: str = Field(description=_FIELD_DOCS["kind"])
    region: str = Field(description=_FIELD_DOCS["region"])


class DuplicateRef(Schema):
    id: int
    name: str
    birth_date: dt.date | None = None
    region: RegionRef


class DuplicateOut(Schema):
    detail: str
    code: str = Field(description="duplicate_id_card：身份证号已登记，不能保存；possible_duplicates：可能重复，"
                                  "核对后带 confirm_duplicates: true 重新提交")
    existing: DuplicateRef | None = Field(None, description="已登记该身份证号的记录（不在您的数据范围内时为 null）")
    duplicates: list[DuplicateRef] = []


# --- pages ------------------------------------------------------------------------------------------
class TalentPagination(CountedKeysetPagination):
    """Cursor pages with a count (capped): in (region, name, id) order, or by search rank when
    ``q`` is given."""

    def __init__(self, **kwargs):
        super().__init__(ordering=LIST_ORDERING, index="talents_region_name_idx", on_page=_audit_page, **kwargs)

    def paginator(self, queryset, per_page: int, request):
        if (request.GET.get("q") or "").strip():
            return RankedPaginator(queryset, per_page=per_page)
        return super().paginator(queryset, per_page, request)


def _audit_page(request, rows) -> None:
    audit_full_values(request.auth_user, rows, PERSONAL_FIELDS, label="身份证号、手机号码")


TalentQuery = filter_query_schema(
    TalentFilterSet,
    descriptions={
        "q": "搜索：姓名（汉字、全拼、首字母）、工作单位、研究方向等词语，或完整的身份证号、手机号；结果按相关度排序",
        "category": "人才分类字典项的 id", "tier": "人才层次字典项的 id", "education": "最高学历字典项的 id",
        "title_level": "职称级别字典项的 id", "databases": "人才库的 id", "tags": "标签的 id",
        "region": "所属地区的 id（含其下级地区）", "native_place": "籍贯地区的 id（含其下级地区）",
        "work_province": "工作所在省份的 id", "age_min": "年龄不小于（周岁）", "age_max": "年龄不大于（周岁）",
        "liaison_officer": "联络员的用户 id",
    },
)


# --- reading -----------------------------------------------------------------------------------------
def _read(pk: int) -> Talent:
    return with_related(Talent.objects.all(), DETAIL_RELATED).get(pk=pk)


@router.get("/", response=list[TalentOut], summary="人才列表")
@paginate(TalentPagination)
def list_talents(request, filters: Query[TalentQuery]):
    """Talents in your scope, filtered like the list page; ``q`` searches and ranks best first."""
    queryset = with_related(scoped(request, Talent), (*TALENT_RELATED, "ethnicity", "political_status", "discipline"))
    return apply_filters(TalentFilterSet, filters, queryset, request.auth_user)


@router.get("/{int:talent_id}", response=TalentDetailOut, summary="人才档案")
def get_talent(request, talent_id: int, response: HttpResponse):
    """One record with its histories; the ``ETag`` goes back as ``If-Match`` with PATCH or DELETE."""
    talent = get_in_scope(request, with_related(Talent.objects.all(), DETAIL_RELATED), "view", pk=talent_id)
    audit_full_values(request.auth_user, [talent], PERSONAL_FIELDS, label="身份证号、手机号码")
    response["ETag"] = etag(talent)
    return talent


# --- writing -----------------------------------------------------------------------------------------
DICTIONARY_FIELDS = {
    "ethnicity": "ethnicity", "political_status": "political_status", "tier": "talent_tier",
    "title_level": "title_level", "education": "education", "degree": "degree", "discipline": "discipline",
}
REGION_FIELDS = {"native_place": RegionLevel.COUNTY, "work_province": RegionLevel.PROVINCE, "work_city": RegionLevel.PREFECTURE}
RELATION_FIELDS = {"region", "category", "databases", "tags", "liaison_officer", *DICTIONARY_FIELDS, *REGION_FIELDS}
CONTROL_FIELDS = {"education_history", "work_history", "confirm_duplicates", "version"}


def _item(dictionary: str, code):
    return DictionaryItem.objects.filter(dictionary__code=dictionary, code=code).first() if code else None


def _apply_changes(request, talent: Talent, changes: dict) -> dict:
    """Set the submitted fields on ``talent``; return the relations to save. Raises a 422 naming
    every field that fails (codes that do not exist, scope, the model's own rules)."""
    user = request.auth_user
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name in PERSONAL_FIELDS:
        if name in changes and not user.can_view_personal:
            # A role that may not read a personal value may not overwrite it blind either.
            changes.pop(name)
            fail(name, _("您的角色不能查看完整个人信息，也不能修改此项。"))
    if "region" in changes:
        code = changes.pop("region")
        region = region_choices(user).filter(code=code or "").first()
        if region is None:
            fail("region", _("所选地区不存在，或不在您的数据范围内。"))
        else:
            talent.region = region
    for name, dictionary in DICTIONARY_FIELDS.items():
        if name in changes:
            code = changes.pop(name)
            item = _item(dictionary, code)
            if code and item is None:
                fail(name, unknown_code(code))
            setattr(talent, name, item)
    for name, level in REGION_FIELDS.items():
        if name in changes:
            code = changes.pop(name)
            region = Region.objects.filter(code=code, level=level).first() if code else None
            if code and region is None:
                fail(name, unknown_code(code))
            setattr(talent, name, region)
    if "liaison_officer" in changes:
        username = changes.pop("liaison_officer")
        officer = liaison_officer_queryset(user).filter(username=username).first() if username else None
        if username and officer is None:
            fail("liaison_officer", _("用户“%(name)s”不存在，或不能担任您数据范围内的联络员。") % {"name": username})
        talent.liaison_officer = officer
    category_sent = "category" in changes
    category = changes.pop("category", None)
    databases = changes.pop("databases", None)
    tags = changes.pop("tags", None)
    for name, value in changes.items():
        field = Talent._meta.get_field(name)
        setattr(talent, name, value if value is not None or field.null else "")
    if category_sent:
        # A category code means an item of the dictionary of the talent's kind (01 is 党政机关
        # for 在外人才, 科技专家 for 本土人才).
        dictionary = CATEGORY_DICTIONARY.get(talent.kind) if talent.kind in TalentKind.values else None
        talent.category = _item(dictionary, category) if dictionary else None
        if category and talent.category is None:
            fail("category", _("代码“%(code)s”不是%(kind)s的分类。") % {
                "code": category, "kind": TalentKind(talent.kind).label if talent.kind in TalentKind.values else "",
            })
    relations = {}
    if databases is not None:
        found = {d.code: d for d in TalentDatabase.objects.filter(code__in=databases)}
        missing = [code for code in databases if code not in found]
        if missing:
            fail("databases", unknown_code("、".join(missing)))
        relations["databases"] = list(found.values())
    if tags is not None:
        relations["tags"] = services.tags_from_names(tags)
    services.fill_from_id_card(talent)
    try:
        talent.full_clean(exclude=[*errors, "id_card_hash", "mobile_hash"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ApiValidationError(errors)
    return relations


def _history(payload_rows, model) -> list[dict] | None:
    if payload_rows is None:
        return None
    rows, errors = [], {}
    for number, row in enumerate(payload_rows, 1):
        values = row.model_dump()
        if model is TalentEducation:
            for name in ("education", "degree"):
                code = values.get(name)
                values[name] = _item(name, code)
                if code and values[name] is None:
                    errors[f"{number}.{name}"] = [unknown_code(code)]
        instance = model(**{k: v for k, v in values.items() if v is not None})
        try:
            instance.full_clean(exclude=["talent"])
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors[f"{number}.{name}"] = messages
        for name in ("start", "end"):
            if values.get(name):
                try:
                    MONTH(values[name])
                except ValidationError as exc:
                    errors.setdefault(f"{number}.{name}", []).extend(exc.messages)
        if values.get("start") and values.get("end") and values["end"] < values["start"] and f"{number}.end" not in errors:
            errors[f"{number}.end"] = [_("结束年月不能早于开始年月。")]
        rows.append(values)
    if errors:
        label = "education_history" if model is TalentEducation else "work_history"
        raise ApiValidationError({f"{label}.{key}": value for key, value in errors.items()})
    return rows


def _duplicate_ref(talent: Talent) -> dict:
    return {"id": talent.pk, "name": talent.name, "birth_date": talent.birth_date, "region": talent.region}


def _save(request, talent: Talent, payload, *, expected_version=None):
    """Run the service; a duplicate answers 409 with what it duplicates, a stale version 412."""
    changes = payload.model_dump(exclude_unset=True, exclude=CONTROL_FIELDS)
    relations = _apply_changes(request, talent, changes)
    try:
        services.save_talent(
            talent, user=request.auth_user, expected_version=expected_version,
            education=_history(payload.education_history, TalentEducation),
            work=_history(payload.work_history, TalentWork),
            confirm_duplicates=payload.confirm_duplicates, **relations,
        )
    except services.DuplicateIdCard as exc:
        transaction.set_rollback(True)
        return Status(409, {"detail": exc.messages[0], "code": "duplicate_id_card",
                            "existing": _duplicate_ref(exc.existing) if exc.visible else None})
    except services.PossibleDuplicates as exc:
        transaction.set_rollback(True)
        return Status(409, {"detail": exc.messages[0], "code": "possible_duplicates",
                            "duplicates": [_duplicate_ref(t) for t in exc.similar]})
    except services.StaleTalent as exc:
        raise HttpError(412, "stale") from exc
    return None


@router.post("/", response={201: TalentDetailOut, 409: DuplicateOut}, summary="新增人才")
def create_talent(request, payload: TalentIn, response: HttpResponse):
    """Refused with 409 when the ID-card number is registered, or when records with the same name
    and birth date or mobile exist (send ``confirm_duplicates: true`` after checking them)."""
    scoped(request, Talent, "add")
    with transaction.atomic():
        talent = Talent()
        refused = _save(request, talent, payload)
        if refused is not None:
            return refused
    talent = _read(talent.pk)
    response["ETag"] = etag(talent)
    return Status(201, talent)


@router.patch("/{int:talent_id}", response={200: TalentDetailOut, 409: DuplicateOut}, summary="修改人才")
def update_talent(request, talent_id: int, payload: TalentPatch, response: HttpResponse):
    """Changes only the fields sent; refused with 412 if the record changed since it was read."""
    with transaction.atomic():
        talent = get_in_scope(request, Talent.objects.select_for_update(of=("self",)), "change", pk=talent_id)
        check_if_match(request, talent, version=payload.version)
        refused = _save(request, talent, payload, expected_version=talent.version)
        if refused is not None:
            return refused
    talent = _read(talent.pk)
    response["ETag"] = etag(talent)
    return talent


@router.delete("/{int:talent_id}", response={204: None}, summary="删除人才")
def delete_talent(request, talent_id: int):
    with transaction.atomic():
        talent = get_in_scope(request, Talent.objects.select_for_update(of=("self",)), "delete", pk=talent_id)
        check_if_match(request, talent)
        services.delete_talent(talent, user=request.auth_user)
    return Status(204, None)
