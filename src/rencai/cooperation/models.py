"""Province–university cooperation (省校合作): universities, agreements, projects and how they are
followed (包联领导, 督导, 调度), the cooperation bases, experts, achievements and visits.

Agreements, projects, bases and visits belong to a region like every business record: the county
(or the city) that signed, carries or hosts them; the records under a project (its stage history,
milestones, supervision, reports) follow the project's region. Universities, their contacts and
achievements are the city's shared reference (no region): every business role sees them.

A project moves through its stages only by ``cooperation.stages.move`` (valid steps only, each
dated and kept in ``StageChange``); the date it first reached 签约, 落地 and 投产/完成 stays on
the project, so the landing rate counts what did land even when it was stopped later.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.signals import setting_changed
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _

from rencai.cooperation.choices import (
    AgreementStatus,
    BaseStatus,
    DatabaseKind,
    FollowUpStatus,
    InstitutionKind,
    Maturity,
    PartnerKind,
    Stage,
    TransferMode,
    VisitKind,
)
from rencai.core.fields import ProtectedField
from rencai.core.models import RegionScopedModel, RencaiModel
from rencai.core.models.base import RestrictedManager
from rencai.talents.models import dictionary_fk

AMOUNT = {"max_digits": 14, "decimal_places": 2}  # 万元


def _dictionary_items(verbose_name, code: str, **kwargs) -> models.ManyToManyField:
    return models.ManyToManyField("core.DictionaryItem", verbose_name=verbose_name, blank=True, related_name="+",
                                  limit_choices_to={"dictionary__code": code}, **kwargs)


class _DocumentStorage(LazyObject):
    """Agreement documents under ``settings.DOCUMENT_DIR`` (read at first use, so tests may move it)."""

    def _setup(self):
        self._wrapped = FileSystemStorage(location=settings.DOCUMENT_DIR)


_document_storage = _DocumentStorage()


def document_storage():
    """The storage of agreement documents (a callable, so migrations name it rather than a path)."""
    return _document_storage


@receiver(setting_changed)
def _document_dir_changed(setting, **kwargs):
    if setting == "DOCUMENT_DIR":
        _document_storage._wrapped = empty


class CooperationDatabase(RencaiModel):
    """A cooperation database (库): 专家库, 成果库, 项目库 and whatever else the office sets up
    (e.g. 新材料专家库). Each expert, achievement or project is in its kind's default 库 and in
    any others it is put in."""

    city_configuration = True

    code = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=64, unique=True)
    kind = models.CharField(_("收录对象"), max_length=16, choices=DatabaseKind.choices)
    description = models.TextField(_("说明"), blank=True)
    is_default = models.BooleanField(_("默认入库"), default=False,
                                     help_text=_("新录入的同类记录自动收入此库。"))
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("合作资源库")
        verbose_name_plural = _("合作资源库")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


def _databases(kind: str) -> models.ManyToManyField:
    return models.ManyToManyField(CooperationDatabase, verbose_name=_("所属库"), blank=True, related_name="+",
                                  limit_choices_to={"kind": kind})


class University(RencaiModel):
    """A university or research institute the city works with (合作院校)."""

    city_wide = True  # shared by every county; written by city-level users (core.scope.user_can)

    name = models.CharField(_("名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=32, blank=True)
    kind = models.CharField(_("类型"), max_length=16, choices=InstitutionKind.choices, default=InstitutionKind.UNIVERSITY)
    province = models.CharField(_("所在省份"), max_length=32)
    city = models.CharField(_("所在城市"), max_length=32, blank=True)
    tags = _dictionary_items(_("院校标签"), "university_tag")
    website = models.CharField(_("网址"), max_length=200, blank=True)
    description = models.TextField(_("简介"), blank=True)
    is_active = models.BooleanField(_("合作中"), default=True)

    class Meta:
        verbose_name = _("合作院校")
        verbose_name_plural = _("合作院校")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UniversityContact(RencaiModel):
    """A contact person at a university (对接联系人)."""

    city_wide = True  # shared by every county; written by city-level users (core.scope.user_can)

    university = models.ForeignKey(University, verbose_name=_("院校"), on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("姓名"), max_length=64)
    department = models.CharField(_("部门"), max_length=100, blank=True)
    post = models.CharField(_("职务"), max_length=64, blank=True)
    mobile = ProtectedField(_("手机号码"), kind="mobile")
    office_phone = models.CharField(_("办公电话"), max_length=32, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)

    class Meta:
        verbose_name = _("院校联系人")
        verbose_name_plural = _("院校联系人")
        ordering = ["university", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.university}）"


class Agreement(RegionScopedModel):
    """A cooperation agreement (合作协议) between a university and a county, department or enterprise."""

    title = models.CharField(_("协议名称"), max_length=200)
    number = models.CharField(_("协议编号"), max_length=64, blank=True)
    university = models.ForeignKey(University, verbose_name=_("合作院校"), on_delete=models.PROTECT,
                                   related_name="agreements")
    partner_kind = models.CharField(_("签约方类型"), max_length=16, choices=PartnerKind.choices, default=PartnerKind.COUNTY)
    partner = models.CharField(_("签约方"), max_length=200, help_text=_("县（市、区）、市直部门或企业的名称。"))
    signed_on = models.DateField(_("签约日期"))
    expires_on = models.DateField(_("到期日期"), null=True, blank=True, help_text=_("留空表示长期有效。"))
    classes = _dictionary_items(_("合作内容"), "cooperation_class")
    amount = models.DecimalField(_("协议金额（万元）"), null=True, blank=True, **AMOUNT)
    status = models.CharField(_("状态"), max_length=16, choices=AgreementStatus.choices, default=AgreementStatus.ACTIVE)
    content = models.TextField(_("主要内容"), blank=True)
    visit = models.ForeignKey("Visit", verbose_name=_("来源走访"), null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="agreements")

    class Meta:
        verbose_name = _("合作协议")
        verbose_name_plural = _("合作协议")
        ordering = ["-signed_on", "-id"]
        indexes = [models.Index(fields=["region", "signed_on"], name="coop_agreement_region_idx"),
                   models.Index(fields=["status", "expires_on"], name="coop_agreement_expiry_idx")]
        constraints = [models.CheckConstraint(
            condition=models.Q(expires_on__isnull=True) | models.Q(expires_on__gte=models.F("signed_on")),
            name="coop_agreement_term", violation_error_message=_("到期日期不能早于签约日期。"))]

    def __str__(self) -> str:
        return self.title


class AgreementDocument(RencaiModel):
    """A document of an agreement (协议文本、附件), kept outside the web root and served only to
    those who may see the agreement."""

    region_scope_field = "agreement__region"

    agreement = models.ForeignKey(Agreement, verbose_name=_("协议"), on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("文件名称"), max_length=200)
    file = models.FileField(_("文件"), storage=document_storage, upload_to="agreements/%Y/%m/", max_length=255)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0, editable=False)

    class Meta:
        verbose_name = _("协议文件")
        verbose_name_plural = _("协议文件")
        ordering = ["agreement", "id"]

    def __str__(self) -> str:
        return self.title


class Project(RegionScopedModel):
    """A cooperation project (合作项目), followed from 洽谈 to 投产/完成."""

    name = models.CharField(_("项目名称"), max_length=200)
    line = dictionary_fk(_("合作类别"), "cooperation_class")
    agreement = models.ForeignKey(Agreement, verbose_name=_("所属协议"), null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="projects")
    university = models.ForeignKey(University, verbose_name=_("合作院校"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="projects")
    enterprise = models.CharField(_("承接企业"), max_length=200, blank=True)
    amount = models.DecimalField(_("投资额（万元）"), null=True, blank=True, **AMOUNT)
    leader = models.CharField(_("包联领导"), max_length=64, blank=True)
    responsible_unit = models.CharField(_("责任单位"), max_length=200, blank=True)
    description = models.TextField(_("项目内容"), blank=True)
    stage = models.CharField(_("项目阶段"), max_length=16, choices=Stage.choices, default=Stage.NEGOTIATING,
                             editable=False)
    stage_on = models.DateField(_("进入本阶段日期"), editable=False)
    signed_on = models.DateField(_("签约日期"), null=True, blank=True, editable=False)
    landed_on = models.DateField(_("落地日期"), null=True, blank=True, editable=False)
    completed_on = models.DateField(_("投产/完成日期"), null=True, blank=True, editable=False)
    terminated_on = models.DateField(_("终止日期"), null=True, blank=True, editable=False)
    termination_reason = models.TextField(_("终止原因"), blank=True, editable=False)
    lead = models.OneToOneField("liaison.Lead", verbose_name=_("来源线索"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="project", editable=False)
    visit = models.ForeignKey("Visit", verbose_name=_("来源走访"), null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="projects")
    databases = _databases(DatabaseKind.PROJECT)

    class Meta:
        verbose_name = _("合作项目")
        verbose_name_plural = _("合作项目")
        ordering = ["-stage_on", "-id"]
        indexes = [models.Index(fields=["region", "stage"], name="coop_project_region_idx"),
                   models.Index(fields=["stage", "stage_on"], name="coop_project_stage_idx")]

    def __str__(self) -> str:
        return self.name


class StageChange(models.Model):
    """One step of a project's stage flow: from, to, on which day, why, by whom (never edited)."""

    region_scope_field = "project__region"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(_("原阶段"), max_length=16, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("新阶段"), max_length=16, choices=Stage.choices)
    on = models.DateField(_("日期"))
    note = models.TextField(_("说明"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("阶段变更")
        verbose_name_plural = _("阶段变更")
        ordering = ["project", "on", "id"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.get_from_stage_display() or '—'} → {self.get_to_stage_display()}"


class Milestone(RencaiModel):
    """A milestone of a project (节点) with its due date."""

    region_scope_field = "project__region"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("节点"), max_length=200)
    due_on = models.DateField(_("计划完成日期"))
    done_on = models.DateField(_("实际完成日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("项目节点")
        verbose_name_plural = _("项目节点")
        ordering = ["project", "due_on", "id"]

    def __str__(self) -> str:
        return self.title


class Supervision(RencaiModel):
    """A supervision visit or check of a project (项目督导)."""

    region_scope_field = "project__region"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="supervisions")
    on = models.DateField(_("督导日期"))
    inspector = models.CharField(_("督导人员"), max_length=100)
    findings = models.TextField(_("督导情况"), blank=True)

    class Meta:
        verbose_name = _("项目督导")
        verbose_name_plural = _("项目督导")
        ordering = ["-on", "-id"]

    def __str__(self) -> str:
        return f"{self.project} {self.on:%Y-%m-%d}"


class Problem(RencaiModel):
    """A problem a supervision found, to be put right by its deadline (整改问题)."""

    region_scope_field = "supervision__project__region"

    supervision = models.ForeignKey(Supervision, verbose_name=_("督导记录"), on_delete=models.CASCADE,
                                    related_name="problems")
    description = models.TextField(_("问题"))
    deadline = models.DateField(_("整改期限"))
    closed_on = models.DateField(_("整改完成日期"), null=True, blank=True)
    closure = models.TextField(_("整改情况"), blank=True)

    class Meta:
        verbose_name = _("整改问题")
        verbose_name_plural = _("整改问题")
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["closed_on", "deadline"], name="coop_problem_open_idx")]

    def __str__(self) -> str:
        return self.description[:30]

    def clean(self):
        supervision = self.supervision if self.supervision_id else None
        if supervision is not None and self.deadline and self.deadline < supervision.on:
            raise ValidationError({"deadline": [_("整改期限不能早于督导日期。")]})
        if supervision is not None and self.closed_on and self.closed_on < supervision.on:
            raise ValidationError({"closed_on": [_("整改完成日期不能早于督导日期。")]})


class Report(RencaiModel):
    """A scheduling report (调度报告): the responsible county's progress on a project for one period."""

    region_scope_field = "project__region"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="reports")
    period = models.DateField(_("报告期"), help_text=_("报告期的第一天（按月调度为当月 1 日）。"))
    percent_done = models.PositiveSmallIntegerField(
        _("完成进度（%）"), validators=[MinValueValidator(0), MaxValueValidator(100)])
    work = models.TextField(_("本期工作"))
    blockers = models.TextField(_("存在问题"), blank=True)
    next_steps = models.TextField(_("下步计划"), blank=True)

    class Meta:
        verbose_name = _("调度报告")
        verbose_name_plural = _("调度报告")
        ordering = ["-period", "project", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "period"], name="coop_report_one_per_period",
                                    violation_error_message=_("该项目本期已有调度报告。")),
            models.CheckConstraint(condition=models.Q(percent_done__lte=100), name="coop_report_percent"),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.period:%Y-%m}"


class Base(RegionScopedModel):
    """A cooperation base (合作基地) of one of the plan's kinds, hosted by a unit of the city."""

    name = models.CharField(_("基地名称"), max_length=200)
    kind = dictionary_fk(_("基地类型"), "cooperation_base")
    host_unit = models.CharField(_("承建单位"), max_length=200)
    university = models.ForeignKey(University, verbose_name=_("合作院校"), on_delete=models.PROTECT, related_name="bases")
    agreement = models.ForeignKey(Agreement, verbose_name=_("所属协议"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="bases")
    established_on = models.DateField(_("挂牌日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=BaseStatus.choices, default=BaseStatus.PLANNED)
    description = models.TextField(_("基本情况"), blank=True)

    class Meta:
        verbose_name = _("合作基地")
        verbose_name_plural = _("合作基地")
        ordering = ["kind", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Expert(RencaiModel):
    """A talent of the registry linked to a university, with their expertise (专家库)."""

    region_scope_field = "talent__region"

    talent = models.ForeignKey("talents.Talent", verbose_name=_("人才"), on_delete=models.CASCADE, related_name="experts")
    university = models.ForeignKey(University, verbose_name=_("所在院校"), on_delete=models.PROTECT, related_name="experts")
    expertise = models.TextField(_("专长领域"), help_text=_("多个领域用顿号或分号分隔。"))
    discipline = dictionary_fk(_("学科"), "discipline")
    available = models.BooleanField(_("可对接服务"), default=True)
    databases = _databases(DatabaseKind.EXPERT)

    class Meta:
        verbose_name = _("专家")
        verbose_name_plural = _("专家")
        ordering = ["university", "id"]
        constraints = [models.UniqueConstraint(fields=["talent", "university"], name="coop_expert_once",
                                               violation_error_message=_("该人才已是这所院校的专家。"))]

    def __str__(self) -> str:
        return f"{self.talent}（{self.university}）"


class Achievement(RencaiModel):
    """A scientific and technological achievement offered for transfer (科技成果, 成果库)."""

    city_wide = True  # shared by every county; written by city-level users (core.scope.user_can)

    title = models.CharField(_("成果名称"), max_length=200)
    university = models.ForeignKey(University, verbose_name=_("完成单位"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="achievements")
    owners = models.CharField(_("完成人"), max_length=200, blank=True)
    field = models.CharField(_("技术领域"), max_length=200)
    summary = models.TextField(_("成果简介"), blank=True)
    maturity = models.CharField(_("成熟度"), max_length=16, choices=Maturity.choices, default=Maturity.LAB)
    transfer_mode = models.CharField(_("转化方式"), max_length=16, choices=TransferMode.choices,
                                     default=TransferMode.TRANSFER)
    price_low = models.DecimalField(_("意向价格下限（万元）"), null=True, blank=True, **AMOUNT)
    price_high = models.DecimalField(_("意向价格上限（万元）"), null=True, blank=True, **AMOUNT)
    databases = _databases(DatabaseKind.ACHIEVEMENT)

    class Meta:
        verbose_name = _("科技成果")
        verbose_name_plural = _("科技成果")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(
            condition=models.Q(price_low__isnull=True) | models.Q(price_high__isnull=True)
            | models.Q(price_high__gte=models.F("price_low")),
            name="coop_achievement_price", violation_error_message=_("价格上限不能低于下限。"))]

    def __str__(self) -> str:
        return self.title


class Visit(RegionScopedModel):
    """A visit (书记、县长访名校) or a return visit by a university, and what was agreed."""

    kind = models.CharField(_("类型"), max_length=16, choices=VisitKind.choices, default=VisitKind.OUTGOING)
    university = models.ForeignKey(University, verbose_name=_("院校"), on_delete=models.PROTECT, related_name="visits")
    on = models.DateField(_("日期"))
    delegation = models.CharField(_("出访（来访）人员"), max_length=300)
    met = models.CharField(_("会见人员"), max_length=300, blank=True)
    agreed = models.TextField(_("商定事项"), blank=True)

    class Meta:
        verbose_name = _("走访名校")
        verbose_name_plural = _("走访名校")
        ordering = ["-on", "-id"]

    def __str__(self) -> str:
        return f"{self.university} {self.on:%Y-%m-%d}"


class FollowUp(RencaiModel):
    """An item a visit agreed on, followed until it becomes an agreement, a project or a lead."""

    region_scope_field = "visit__region"

    visit = models.ForeignKey(Visit, verbose_name=_("走访"), on_delete=models.CASCADE, related_name="follow_ups")
    description = models.TextField(_("跟进事项"))
    due_on = models.DateField(_("落实期限"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN)
    agreement = models.ForeignKey(Agreement, verbose_name=_("形成协议"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    project = models.ForeignKey(Project, verbose_name=_("形成项目"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    lead = models.ForeignKey("liaison.Lead", verbose_name=_("形成线索"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("跟进事项")
        verbose_name_plural = _("跟进事项")
        ordering = ["visit", "id"]

    def __str__(self) -> str:
        return self.description[:30]
