"""The talent registry (人才库): one record per person (一人一档), with their histories.

A talent is either a native of the city working elsewhere (在外人才) or local talent (本土人才).
The managing region (``region``) decides data scope: a county office sees the talents it manages.
Code tables (ethnicity, education, titles, categories, tiers …) are dictionary items, so an
office can extend them without a code change.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rencai.core.fields import EncryptedTextField, LookupHashField, ProtectedField
from rencai.core.models import RegionScopedModel, RencaiModel
from rencai.talents.choices import (
    AdministrativeRank,
    ConsentMethod,
    Gender,
    TalentKind,
    TalentSource,
    TalentStatus,
    UnitType,
)


def _dictionary(code: str) -> dict:
    return {"dictionary__code": code}


def dictionary_fk(verbose_name, code: str, **kwargs) -> models.ForeignKey:
    """A reference to an item of the dictionary ``code``."""
    return models.ForeignKey(
        "core.DictionaryItem", verbose_name=verbose_name, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", limit_choices_to=_dictionary(code), **kwargs,
    )


class TalentDatabase(RencaiModel):
    """A talent database (人才库) a person may belong to: 在外优秀人才库, 本土优秀人才库, and
    whatever else the office sets up (e.g. 乡村振兴人才库)."""

    city_configuration = True  # one set for the whole city: only the city administrator edits it

    code = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=64, unique=True)
    kind = models.CharField(_("适用人才类别"), max_length=16, choices=TalentKind.choices, blank=True,
                            help_text=_("留空表示在外、本土人才均可入库。"))
    description = models.TextField(_("说明"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("人才库")
        verbose_name_plural = _("人才库")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class Tag(RencaiModel):
    """A free label on talents (e.g. 乡贤, 博士, 返乡意向)."""

    name = models.CharField(_("标签"), max_length=32, unique=True)

    class Meta:
        verbose_name = _("标签")
        verbose_name_plural = _("标签")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Talent(RegionScopedModel):
    """One person in the registry (一人一档)."""

    # RegionScopedModel's, indexed by talents_region_id_idx, which leads with it.
    region = models.ForeignKey(
        "core.Region", verbose_name=_("所属地区"), on_delete=models.PROTECT, related_name="+", db_index=False,
    )

    # --- identity ---------------------------------------------------------------------------
    name = models.CharField(_("姓名"), max_length=64, db_index=True)
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices, blank=True)
    # No index of its own on the references nobody filters the list by (民族, 政治面貌, 学位,
    # 学科, 工作城市): each would be kept up to date on every write, and rebuilt at every large
    # import, for no query.
    ethnicity = dictionary_fk(_("民族"), "ethnicity", db_index=False)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_card = ProtectedField(_("身份证号"), kind="id_card")
    id_card_hash = LookupHashField(source="id_card")
    mobile = ProtectedField(_("手机号码"), kind="mobile")
    mobile_hash = LookupHashField(source="mobile")
    other_phones = EncryptedTextField(_("其他电话"), blank=True, default="")
    email = models.EmailField(_("电子邮箱"), blank=True)
    wechat = models.CharField(_("微信号"), max_length=64, blank=True)
    political_status = dictionary_fk(_("政治面貌"), "political_status", db_index=False)

    # --- origin and place -------------------------------------------------------------------
    native_place = models.ForeignKey(
        "core.Region", verbose_name=_("籍贯"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    work_country = models.CharField(_("工作所在国家（地区）"), max_length=64, default="中国", blank=True)
    work_province = models.ForeignKey(
        "core.Region", verbose_name=_("工作所在省份"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", limit_choices_to={"level": "province"},
    )
    work_city = models.ForeignKey(
        "core.Region", verbose_name=_("工作所在城市"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", limit_choices_to={"level": "prefecture"}, db_index=False,
    )

    # --- classification ---------------------------------------------------------------------
    kind = models.CharField(_("人才类别"), max_length=16, choices=TalentKind.choices)
    category = models.ForeignKey(
        "core.DictionaryItem", verbose_name=_("人才分类"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", limit_choices_to=Q(dictionary__code__in=["talent_category_native", "talent_system_local"]),
        help_text=_("在外人才按七类划分，本土人才按专业系统划分。"),
    )
    databases = models.ManyToManyField(TalentDatabase, verbose_name=_("所属人才库"), blank=True, related_name="talents")
    # Indexed by talents_tier_region_idx, which leads with it.
    tier = dictionary_fk(_("人才层次"), "talent_tier", db_index=False)
    tier_basis = models.CharField(_("层次认定依据"), max_length=200, blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("标签"), blank=True, related_name="talents")

    # --- career -----------------------------------------------------------------------------
    work_unit = models.CharField(_("工作单位"), max_length=128, blank=True)
    unit_type = models.CharField(_("单位性质"), max_length=32, choices=UnitType.choices, blank=True)
    position = models.CharField(_("职务"), max_length=128, blank=True)
    admin_rank = models.CharField(_("职级"), max_length=16, choices=AdministrativeRank.choices, blank=True)
    title = models.CharField(_("专业技术职称"), max_length=64, blank=True)
    title_level = dictionary_fk(_("职称级别"), "title_level")
    education = dictionary_fk(_("最高学历"), "education")
    degree = dictionary_fk(_("最高学位"), "degree", db_index=False)
    school = models.CharField(_("毕业院校"), max_length=128, blank=True)
    major = models.CharField(_("所学专业"), max_length=128, blank=True)
    discipline = dictionary_fk(_("学科领域"), "discipline", db_index=False)
    research_fields = models.TextField(_("研究方向"), blank=True)
    skills = models.TextField(_("专长技能"), blank=True)
    honours = models.TextField(_("荣誉称号"), blank=True)

    # --- work data --------------------------------------------------------------------------
    liaison_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("联络员"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="liaison_talents",
    )
    status = models.CharField(_("联络状态"), max_length=16, choices=TalentStatus.choices, default=TalentStatus.IN_CONTACT)
    consent_date = models.DateField(_("同意处理个人信息日期"), null=True, blank=True)
    consent_scope = models.CharField(_("同意范围"), max_length=200, blank=True)
    consent_method = models.CharField(_("同意方式"), max_length=16, choices=ConsentMethod.choices, blank=True)
    source = models.CharField(_("来源"), max_length=24, choices=TalentSource.choices, default=TalentSource.MANUAL)
    source_ref = models.CharField(_("来源批次"), max_length=64, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    audit_exclude = (*RegionScopedModel.audit_exclude, "version")

    class Meta:
        verbose_name = _("人才")
        verbose_name_plural = _("人才")
        ordering = ["region", "name", "id"]
        indexes = [
            models.Index(fields=["region", "name", "id"], name="talents_region_name_idx"),
            # A county's talents newest first (a broad search's page) and their ids for a count,
            # from the index alone. SQLite's index on the region alone holds the rowid too;
            # PostgreSQL's did not.
            models.Index(fields=["region", "id"], name="talents_region_id_idx"),
            models.Index(fields=["kind", "category"], name="talents_kind_category_idx"),
            # A tier within a county (and of a kind) is counted from the index alone.
            models.Index(fields=["tier", "region", "kind"], name="talents_tier_region_idx"),
            models.Index(fields=["birth_date"], name="talents_birth_idx"),
            models.Index(fields=["status"], name="talents_status_idx"),
            models.Index(fields=["updated_at"], name="talents_updated_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_card_hash"], condition=~Q(id_card_hash=""), name="talents_unique_id_card",
                violation_error_message=_("已有相同身份证号的人才记录。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TalentEducation(RencaiModel):
    """One stage of a talent's education (学习经历)."""

    region_scope_field = "talent__region"

    talent = models.ForeignKey(Talent, verbose_name=_("人才"), on_delete=models.CASCADE, related_name="education_history")
    start = models.CharField(_("开始年月"), max_length=7, blank=True, help_text=_("如 2008-09"))
    end = models.CharField(_("结束年月"), max_length=7, blank=True)
    school = models.CharField(_("学校"), max_length=128)
    major = models.CharField(_("专业"), max_length=128, blank=True)
    education = dictionary_fk(_("学历"), "education")
    degree = dictionary_fk(_("学位"), "degree")

    class Meta:
        verbose_name = _("学习经历")
        verbose_name_plural = _("学习经历")
        ordering = ["talent", "start", "id"]

    def __str__(self) -> str:
        return f"{self.start}–{self.end} {self.school}"


class TalentWork(RencaiModel):
    """One position in a talent's work history (工作经历)."""

    region_scope_field = "talent__region"

    talent = models.ForeignKey(Talent, verbose_name=_("人才"), on_delete=models.CASCADE, related_name="work_history")
    start = models.CharField(_("开始年月"), max_length=7, blank=True)
    end = models.CharField(_("结束年月"), max_length=7, blank=True, help_text=_("留空表示至今"))
    unit = models.CharField(_("单位"), max_length=128)
    position = models.CharField(_("职务"), max_length=128, blank=True)

    class Meta:
        verbose_name = _("工作经历")
        verbose_name_plural = _("工作经历")
        ordering = ["talent", "start", "id"]

    def __str__(self) -> str:
        return f"{self.start}–{self.end or '至今'} {self.unit}"


class TermKind(models.IntegerChoices):
    """What a search term was taken from; the lower, the better a match ranks."""

    ID_EXACT = 0, _("证件号")
    NAME = 1, _("姓名")
    PINYIN = 2, _("姓名全拼")
    INITIALS = 3, _("姓名首字母")
    UNIT = 4, _("工作单位")
    FIELD = 5, _("研究方向与专长")
    OTHER = 6, _("其他")


class TalentSearchTerm(models.Model):
    """The search index of the registry: one row per (term, talent).

    Terms are the name, its pinyin and initials, and the words (jieba segmentation) of the work
    unit, research fields, skills, major and school. A query is a prefix range on ``term``, which
    a B-tree answers in milliseconds on SQLite and PostgreSQL alike, for one- and two-character
    queries too (where trigram indexes see nothing). Kept in step by ``talents.search``.
    """

    term = models.CharField(max_length=64)
    # No index of its own: (talent, term, kind) below serves the foreign key too.
    talent = models.ForeignKey(Talent, on_delete=models.CASCADE, related_name="+", db_constraint=True, db_index=False)
    kind = models.PositiveSmallIntegerField(choices=TermKind.choices)
    # The talent's own region, copied: a county's share of a range is then one stretch of
    # (region, term, talent), which counts a county's matches without reading the talents of
    # every other county. Written with the terms, which every change of a talent rewrites; the
    # search only ever narrows by it, never widens (see ``talents.search``).
    region = models.ForeignKey(
        "core.Region", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False,
        verbose_name=_("所属地区"),
    )

    class Meta:
        verbose_name = _("检索词")
        default_permissions = ()
        indexes = [
            models.Index(fields=["term", "kind", "talent"], name="talents_term_idx"),
            # Does one talent have a term in this range, and of which kind: one index seek.
            models.Index(fields=["talent", "term", "kind"], name="talents_term_talent_idx"),
            # The talents of a few regions with a term in this range (see ``region`` above).
            models.Index(fields=["region", "term", "talent"], name="talents_term_region_idx"),
        ]

    def __str__(self) -> str:
        return self.term
