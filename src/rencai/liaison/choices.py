"""Channels, statuses and kinds of the liaison area; topics are a dictionary (contact_topic)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    PHONE = "phone", _("电话回访")
    WECHAT = "wechat", _("微信")
    VISIT = "visit", _("走访")
    FORUM = "forum", _("座谈会")
    EMAIL = "email", _("邮件")
    SMS = "sms", _("短信")
    CALL_IN = "call_in", _("来访")
    OTHER = "other", _("其他")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("待办理")
    IN_PROGRESS = "in_progress", _("办理中")
    DONE = "done", _("已办结")
    DECLINED = "declined", _("无法办理")


REQUEST_CLOSED = (RequestStatus.DONE, RequestStatus.DECLINED)


class LeadKind(models.TextChoices):
    INVESTMENT = "investment", _("回乡投资/创业意向")
    PROJECT = "project", _("项目线索")
    REFERRAL = "referral", _("人才推荐")
    APPEAL = "appeal", _("诉求")


class LeadStatus(models.TextChoices):
    NEW = "new", _("新线索")
    FOLLOWING = "following", _("跟进中")
    CONVERTED = "converted", _("已转化")
    CLOSED = "closed", _("已关闭")


LEAD_OPEN = (LeadStatus.NEW, LeadStatus.FOLLOWING)
