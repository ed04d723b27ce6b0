"""Kinds and statuses of the registry; code tables with a national standard live in dictionaries."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TalentKind(models.TextChoices):
    NATIVE = "native", _("在外人才")
    LOCAL = "local", _("本土人才")


# The dictionary that holds the categories of each kind.
CATEGORY_DICTIONARY = {TalentKind.NATIVE: "talent_category_native", TalentKind.LOCAL: "talent_system_local"}


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class TalentStatus(models.TextChoices):
    IN_CONTACT = "in_contact", _("在联")
    LOST = "lost", _("失联")
    DECEASED = "deceased", _("已故")
    TRANSFERRED = "transferred", _("已调出")
    RETIRED = "retired", _("已退休")


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", _("书面签字")
    ONLINE = "online", _("线上勾选")
    VERBAL = "verbal", _("口头（电话）并记录")
    UNIT = "unit", _("经所在单位征得")


class TalentSource(models.TextChoices):
    MANUAL = "manual", _("手工录入")
    IMPORT = "import", _("批量导入")
    SELF_REGISTRATION = "self_registration", _("自主登记")


class UnitType(models.TextChoices):
    PARTY_GOVERNMENT = "party_government", _("党政机关")
    INSTITUTION = "institution", _("事业单位")
    UNIVERSITY = "university", _("高等院校")
    RESEARCH = "research", _("科研院所")
    HOSPITAL = "hospital", _("医疗卫生机构")
    STATE_ENTERPRISE = "state_enterprise", _("国有企业")
    PRIVATE_ENTERPRISE = "private_enterprise", _("民营企业")
    FOREIGN_ENTERPRISE = "foreign_enterprise", _("外资企业")
    MILITARY = "military", _("军队")
    SOCIAL = "social", _("社会组织")
    OTHER = "other", _("其他")


class AdministrativeRank(models.TextChoices):
    PROVINCIAL = "provincial", _("省部级")
    BUREAU = "bureau", _("厅局级")
    DIVISION = "division", _("县处级")
    SECTION = "section", _("乡科级")
    NONE = "none", _("无")
