"""Demo campaigns (imported by ``liaison.demo``): one sent newsletter with its recipients and
outbox, drafts of a policy push and an information-update request, a few opt-outs, and the
greeting drafts of the coming days.

The sent newsletter goes to a sample of 盐湖区's talents listed on the campaign (an audience
that does not grow with ``--size``); its outcome — mostly sent, a few failed, the opted-out
skipped — is written directly, as the sending job would have left it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from rencai.core.models import Region, User
from rencai.demo import DemoContext, register
from rencai.liaison import campaigns, greetings
from rencai.liaison.models_campaigns import (
    Campaign,
    CampaignChannel,
    CampaignKind,
    CampaignRecipient,
    CampaignStatus,
    OptOut,
    OptOutSource,
    OutboxMessage,
    RecipientStatus,
)
from rencai.talents.models import Talent

NEWSLETTER_SIZE = 60
OPT_OUTS = 4
NEWSLETTER = (
    "{称谓}：您好！\n家乡运城近来新建成了盐湖生态修复工程、关公故里文化旅游区，回乡创业扶持政策也有新变化。"
    "欢迎您回乡看看，也欢迎把您身边的人才推荐给我们。\n{地区}人才工作办公室"
)


def _has_campaigns() -> bool:
    return Campaign.objects.exists()


@register("liaison_campaigns", order=45, has_data=_has_campaigns)
def generate_campaigns(context: DemoContext) -> None:
    yanhu = Region.objects.get(code="140802")
    hejin = Region.objects.get(code="140882")
    city = Region.objects.get(code=settings.CITY_CODE)
    officer = User.objects.filter(username="demo_yanhu").first()
    admin = User.objects.filter(username="demo_city_admin").first()
    # A sample drawn from the first ids: cheap at any size, the same for a seed.
    pool = list(Talent.objects.filter(region=yanhu).exclude(mobile="").order_by("pk").values_list("pk", flat=True)[:1000])
    sample = sorted(context.random.sample(pool, min(NEWSLETTER_SIZE, len(pool))))
    now = timezone.now()

    opted = set(sample[:OPT_OUTS])
    OptOut.objects.bulk_create([
        OptOut(talent_id=pk, channel=CampaignChannel.SMS if n % 2 else "", created_by=officer,
               source=OptOutSource.LINK if n % 2 else OptOutSource.STAFF, note="" if n % 2 else "电话回访时要求不再接收")
        for n, pk in enumerate(sorted(opted))
    ])

    newsletter = Campaign.objects.create(
        name="家乡通讯 2026年第3期", kind=CampaignKind.NEWSLETTER, channel=CampaignChannel.SMS, body=NEWSLETTER,
        region=yanhu, audience_name="盐湖区在外人才（抽样）", status=CampaignStatus.SENT, created_by=officer,
        sent_by=officer, started_at=now - timedelta(days=12), finished_at=now - timedelta(days=12, hours=-1),
        recipients_ready=True,
    )
    newsletter.talents.set(sample)
    talents = Talent.objects.in_bulk(sample)
    recipients, outbox = [], []
    for pk in sample:
        if pk in opted:
            recipients.append(CampaignRecipient(campaign=newsletter, talent_id=pk, status=RecipientStatus.OPTED_OUT))
        elif context.random.random() < 0.05:
            recipients.append(CampaignRecipient(campaign=newsletter, talent_id=pk, status=RecipientStatus.FAILED,
                                                attempts=settings.CAMPAIGN_MAX_ATTEMPTS, error="网关繁忙"))
        else:
            talent = talents[pk]
            recipients.append(CampaignRecipient(campaign=newsletter, talent_id=pk, status=RecipientStatus.SENT,
                                                attempts=1, sent_at=newsletter.started_at))
            outbox.append(OutboxMessage(channel=CampaignChannel.SMS, region=yanhu, campaign=newsletter, talent=talent,
                                        address=talent.mobile, body=campaigns.render(NEWSLETTER, talent, newsletter)))
    CampaignRecipient.objects.bulk_create(recipients)
    OutboxMessage.objects.bulk_create(outbox)

    Campaign.objects.create(
        name="回乡创业扶持政策推送", kind=CampaignKind.POLICY, channel=CampaignChannel.EMAIL, region=city,
        subject="{称谓}，运城市回乡创业扶持政策", audience_name="在外人才", audience_query="kind=native", created_by=admin,
        body="{称谓}：您好！运城市出台了回乡创业扶持政策，含场地、贷款贴息和人才公寓等支持。\n如需了解详情，请回复本邮件。",
    )
    Campaign.objects.create(
        name="在外人才信息核对", kind=CampaignKind.UPDATE, channel=CampaignChannel.SMS, region=hejin,
        audience_name="河津市在外人才", audience_query="kind=native", created_by=User.objects.filter(username="demo_hejin").first(),
        body="{称谓}您好，河津市人才办请您核对本人信息（链接限时有效）：{更新链接}",
    )
    made = greetings.prepare_drafts()
    context.count("campaigns", Campaign.objects.count())
    context.count("campaign_recipients", len(recipients))
    context.count("outbox_messages", len(outbox))
    context.count("opt_outs", len(opted))
    context.count("greeting_drafts", made["created"])
