"""Which talent fields an import can fill, and which sheet column is which field.

``FIELDS`` lists the importable fields in the order the wizard shows them, each with its Chinese
label and the header spellings counties use for it (姓名/名字, 身份证号/证件号码/公民身份号码 …).
``suggest`` maps a sheet's headers to fields from those spellings; a saved ``ImportMapping``
remembers a source's own headers for next time.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from rencai.talents.choices import AdministrativeRank, ConsentMethod, TalentKind, TalentStatus, UnitType


@dataclass(frozen=True)
class FieldSpec:
    """One importable field: how it is cleaned (``kind``) and how headers name it."""

    name: str
    label: str
    kind: str = "text"  # text, name, date, id_card, mobile, email, gender, dictionary, choice, region, category
    synonyms: tuple[str, ...] = ()
    required: bool = False
    dictionary: str = ""  # for kind "dictionary"
    choices: type | None = None  # TextChoices, for kind "choice"
    region_level: str = ""  # for kind "region": county (managed or native place), province, prefecture
    choice_synonyms: dict = field(default_factory=dict)  # extra spellings of choice values

    @property
    def choices_hint(self) -> str:
        """What the cell may hold, for the wizard and the template's instructions."""
        if self.choices is not None:
            return "、".join(str(label) for _value, label in self.choices.choices)
        if self.kind == "dictionary":
            return str(_("数据字典“%(code)s”中的名称、代码或同义词")) % {"code": self.dictionary}
        if self.kind == "category":
            return str(_("在外人才七类或本土人才专业系统的名称或代码"))
        if self.kind == "region":
            return str(_("行政区划名称或 6 位代码"))
        if self.kind == "date":
            return str(_("如 1985-03-12、1985.03、1985年3月、198503"))
        return ""


def _spec(name, label, kind="text", synonyms=(), **kwargs) -> tuple[str, FieldSpec]:
    return name, FieldSpec(name=name, label=label, kind=kind, synonyms=tuple(synonyms), **kwargs)


FIELDS: dict[str, FieldSpec] = dict([
    _spec("name", _("姓名"), "name", ("名字", "姓 名", "人才姓名", "人员姓名", "专家姓名"), required=True),
    _spec("gender", _("性别"), "gender", ("男/女",)),
    _spec("id_card", _("身份证号"), "id_card", ("身份证号码", "身份证", "证件号码", "证件号", "公民身份号码",
                                               "公民身份证号码", "居民身份证号码", "身份证件号码")),
    _spec("birth_date", _("出生日期"), "date", ("出生年月", "出生年月日", "生日", "出生时间", "出生日期（年月）")),
    _spec("ethnicity", _("民族"), "dictionary", dictionary="ethnicity"),
    _spec("political_status", _("政治面貌"), "dictionary", ("党派",), dictionary="political_status"),
    _spec("mobile", _("手机号码"), "mobile", ("手机", "手机号", "联系电话", "联系方式", "电话", "移动电话", "手机号码（必填）")),
    _spec("other_phones", _("其他电话"), synonyms=("办公电话", "座机", "固定电话", "单位电话")),
    _spec("email", _("电子邮箱"), "email", ("邮箱", "电子邮件", "Email", "E-mail", "邮件")),
    _spec("wechat", _("微信号"), synonyms=("微信",)),
    _spec("kind", _("人才类别"), "choice", ("类别", "人才类型"), choices=TalentKind,
          choice_synonyms={"在外": TalentKind.NATIVE, "在外优秀人才": TalentKind.NATIVE, "外出人才": TalentKind.NATIVE,
                           "本土": TalentKind.LOCAL, "本土优秀人才": TalentKind.LOCAL, "本地人才": TalentKind.LOCAL}),
    _spec("category", _("人才分类"), "category", ("分类", "专业系统", "所属系统", "人才分类（七类）", "类型")),
    _spec("tier", _("人才层次"), "dictionary", ("层次", "人才等级", "层级", "高层次人才类别"), dictionary="talent_tier"),
    _spec("tier_basis", _("层次认定依据"), synonyms=("认定依据",)),
    _spec("region", _("所属地区"), "region", ("所属县（市、区）", "县（市、区）", "县市区", "管理地区", "所属县区", "地区", "区县", "县区"),
          region_level="managed"),
    _spec("native_place", _("籍贯"), "region", ("籍贯（县）", "原籍", "老家"), region_level="county"),
    _spec("work_country", _("工作所在国家（地区）"), synonyms=("工作国家", "所在国家", "国家（地区）", "国别")),
    _spec("work_province", _("工作所在省份"), "region", ("工作省份", "所在省份", "省份", "工作地（省）"),
          region_level="province"),
    _spec("work_city", _("工作所在城市"), "region", ("工作城市", "所在城市", "城市", "工作地（市）", "工作地"),
          region_level="prefecture"),
    _spec("work_unit", _("工作单位"), synonyms=("单位", "现工作单位", "工作单位及职务", "所在单位", "单位名称", "现单位")),
    _spec("unit_type", _("单位性质"), "choice", ("单位类型",), choices=UnitType,
          choice_synonyms={"机关": UnitType.PARTY_GOVERNMENT, "高校": UnitType.UNIVERSITY, "国企": UnitType.STATE_ENTERPRISE,
                           "民企": UnitType.PRIVATE_ENTERPRISE, "外企": UnitType.FOREIGN_ENTERPRISE,
                           "医院": UnitType.HOSPITAL}),
    _spec("position", _("职务"), synonyms=("现任职务", "职位", "行政职务")),
    _spec("admin_rank", _("职级"), "choice", ("行政级别", "级别"), choices=AdministrativeRank,
          choice_synonyms={"正厅": AdministrativeRank.BUREAU, "副厅": AdministrativeRank.BUREAU,
                           "正处": AdministrativeRank.DIVISION, "副处": AdministrativeRank.DIVISION,
                           "正科": AdministrativeRank.SECTION, "副科": AdministrativeRank.SECTION}),
    _spec("title", _("专业技术职称"), synonyms=("职称", "技术职称", "专业技术职务")),
    _spec("title_level", _("职称级别"), "dictionary", ("职称等级",), dictionary="title_level"),
    _spec("education", _("最高学历"), "dictionary", ("学历", "文化程度", "最终学历"), dictionary="education"),
    _spec("degree", _("最高学位"), "dictionary", ("学位",), dictionary="degree"),
    _spec("school", _("毕业院校"), synonyms=("毕业学校", "院校", "毕业院校及专业")),
    _spec("major", _("所学专业"), synonyms=("专业",)),
    _spec("discipline", _("学科领域"), "dictionary", ("学科", "学科门类"), dictionary="discipline"),
    _spec("research_fields", _("研究方向"), synonyms=("研究领域", "专业方向", "主要研究方向")),
    _spec("skills", _("专长技能"), synonyms=("专长", "特长", "技能")),
    _spec("honours", _("荣誉称号"), synonyms=("荣誉", "获得荣誉", "主要荣誉")),
    _spec("status", _("联络状态"), "choice", ("状态",), choices=TalentStatus),
    _spec("consent_date", _("同意处理个人信息日期"), "date", ("同意日期", "授权日期")),
    _spec("consent_scope", _("同意范围"), synonyms=("授权范围",)),
    _spec("consent_method", _("同意方式"), "choice", ("授权方式",), choices=ConsentMethod),
    _spec("notes", _("备注"), synonyms=("说明", "其他")),
])


def normalize_header(text: str) -> str:
    """A header as compared: NFKC (full-width → half-width), no spaces or line breaks, marks
    such as ``*`` and ``（必填）`` removed, Latin letters lower-case."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"\((必填|选填|必填项)\)|[*＊※]", "", text)
    return text.lower()


def _build_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for spec in FIELDS.values():
        for spelling in (spec.name, str(spec.label), *spec.synonyms):
            index.setdefault(normalize_header(spelling), spec.name)
    return index


_INDEX: dict[str, str] | None = None


def field_for_header(header: str) -> str | None:
    """The field a header names, or None. Exact spellings first; then a header with a note in
    brackets (出生年月（格式：1985.03）) by the part before the bracket."""
    global _INDEX
    if _INDEX is None:
        _INDEX = _build_index()
    key = normalize_header(header)
    if not key:
        return None
    found = _INDEX.get(key)
    if found is None:
        bare = re.split(r"[(\[【]", key, maxsplit=1)[0]
        found = _INDEX.get(bare) if bare else None
    return found


def suggest(headers: list[str]) -> list[str | None]:
    """For each column, the suggested field or None; a field named by two columns is suggested
    for the first only (see ``ambiguous`` for the others)."""
    seen: set[str] = set()
    out: list[str | None] = []
    for header in headers:
        field_name = field_for_header(header)
        if field_name in seen:
            field_name = None
        elif field_name:
            seen.add(field_name)
        out.append(field_name)
    return out


def ambiguous(headers: list[str]) -> dict[str, list[int]]:
    """Fields that more than one column names: field → column indexes."""
    columns: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        field_name = field_for_header(header)
        if field_name:
            columns.setdefault(field_name, []).append(index)
    return {name: cols for name, cols in columns.items() if len(cols) > 1}


def columns_from_mapping(mapping, headers: list[str]) -> dict[int, str]:
    """A saved mapping's {header text: field} applied to this sheet's headers (by the header as
    normalised, so a stray space or full-width bracket does not break it)."""
    wanted = {normalize_header(text): name for text, name in (mapping.columns or {}).items() if name in FIELDS}
    return {index: wanted[normalize_header(h)] for index, h in enumerate(headers) if normalize_header(h) in wanted}


def save_mapping(*, name: str, source: str, headers: list[str], columns: dict[int, str], fixed: dict,
                 header_row: int, user):
    """Save (or replace, by name) the mapping of this sheet's headers for its source."""
    from rencai.imports.models import ImportMapping

    by_header = {headers[index]: field_name for index, field_name in columns.items()
                 if index < len(headers) and headers[index] and field_name in FIELDS}
    mapping, _created = ImportMapping.objects.update_or_create(
        name=name.strip()[:64],
        defaults={"source": source, "columns": by_header, "fixed": dict(fixed or {}), "header_row": header_row,
                  "updated_by": user},
    )
    return mapping
