"""Kinds, statuses and stages of province–university cooperation (省校合作).

Type tags of universities, the content classes of agreements and the kinds of bases are
dictionaries (``university_tag``, ``cooperation_class``, ``cooperation_base``), kept by the
city administrator; what the code itself must reason about (stages, statuses) is here.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class InstitutionKind(models.TextChoices):
    UNIVERSITY = "university", _("高校")
    INSTITUTE = "institute", _("科研院所")


class PartnerKind(models.TextChoices):
    COUNTY = "county", _("县（市、区）")
    DEPARTMENT = "department", _("市直部门")
    ENTERPRISE = "enterprise", _("企业")
    OTHER = "other", _("其他单位")


class AgreementStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    EXPIRED = "expired", _("到期")
    TERMINATED = "terminated", _("终止")


class Stage(models.TextChoices):
    """A project's stage (项目阶段), 洽谈 → 签约 → 落地 → 建设 → 投产/完成, or 终止."""

    NEGOTIATING = "negotiating", _("洽谈")
    SIGNED = "signed", _("签约")
    LANDED = "landed", _("落地")
    BUILDING = "building", _("建设")
    COMPLETED = "completed", _("投产/完成")
    TERMINATED = "terminated", _("终止")


# The steps a project may take from each stage. A talent or platform project has nothing to
# build, so 落地 may go straight to 投产/完成; 终止 is open from every stage not yet finished.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Stage.NEGOTIATING: (Stage.SIGNED, Stage.TERMINATED),
    Stage.SIGNED: (Stage.LANDED, Stage.TERMINATED),
    Stage.LANDED: (Stage.BUILDING, Stage.COMPLETED, Stage.TERMINATED),
    Stage.BUILDING: (Stage.COMPLETED, Stage.TERMINATED),
    Stage.COMPLETED: (),
    Stage.TERMINATED: (),
}
# The stages in which the responsible county reports progress (定期调度).
REPORTING_STAGES = (Stage.SIGNED, Stage.LANDED, Stage.BUILDING)
# A project counts as signed, landed or finished once it has reached that stage (and keeps the
# date it did, even if it is terminated later).
STAGE_DATE_FIELDS = {Stage.SIGNED: "signed_on", Stage.LANDED: "landed_on", Stage.COMPLETED: "completed_on",
                     Stage.TERMINATED: "terminated_on"}


class BaseStatus(models.TextChoices):
    PLANNED = "planned", _("筹建")
    RUNNING = "running", _("运行")
    SUSPENDED = "suspended", _("暂停")
    REVOKED = "revoked", _("撤销")


class Maturity(models.TextChoices):
    LAB = "lab", _("实验室阶段")
    PILOT = "pilot", _("小试")
    SCALE_UP = "scale_up", _("中试")
    INDUSTRIAL = "industrial", _("可产业化")


class TransferMode(models.TextChoices):
    TRANSFER = "transfer", _("转让")
    LICENSE = "license", _("许可")
    EQUITY = "equity", _("作价入股")
    JOINT = "joint", _("合作开发")
    OTHER = "other", _("其他")


class VisitKind(models.TextChoices):
    OUTGOING = "outgoing", _("访名校")
    RETURN = "return", _("回访来访")


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("待落实")
    AGREEMENT = "agreement", _("已签协议")
    PROJECT = "project", _("已立项目")
    LEAD = "lead", _("已转线索")
    DROPPED = "dropped", _("不再推进")


class DatabaseKind(models.TextChoices):
    EXPERT = "expert", _("专家")
    ACHIEVEMENT = "achievement", _("科技成果")
    PROJECT = "project", _("项目")
