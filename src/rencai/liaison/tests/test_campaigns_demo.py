"""Demo campaigns: ``rencai demo`` leaves a sent newsletter with its recipients, outbox and
opt-outs, two drafts that can be previewed and sent, and the greeting drafts of the coming days."""

from __future__ import annotations

import pytest

from rencai.core.jobs import Worker
from rencai.core.models import User
from rencai.core.testing import PASSWORD
from rencai.demo import run_demo
from rencai.liaison import campaigns
from rencai.liaison.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    OptOut,
    OutboxMessage,
    RecipientStatus,
)

pytestmark = pytest.mark.django_db


def test_the_demo_makes_campaigns_that_work(refdata, settings):
    settings.CAMPAIGN_SEND_PER_MINUTE = 100_000
    settings.PUBLIC_URL = "https://rencai.example.gov.cn"  # the 信息更新 campaign carries links
    context = run_demo(seed=1, password=PASSWORD)
    newsletter = Campaign.objects.get(kind=CampaignKind.NEWSLETTER)
    counts = campaigns.status_counts(newsletter)
    assert counts[RecipientStatus.OPTED_OUT] == OptOut.objects.count() == 4
    assert counts[RecipientStatus.SENT] == OutboxMessage.objects.count() > 40
    assert context.counts["outbox_messages"] == counts[RecipientStatus.SENT]
    message = OutboxMessage.objects.first()
    assert message.body.startswith(campaigns.salutation(message.talent)) and "{" not in message.body
    assert Campaign.objects.filter(kind__in=[CampaignKind.FESTIVAL, CampaignKind.BIRTHDAY]).count() == \
        context.counts["greeting_drafts"] > 0

    # The 信息更新 draft of 河津市 previews and sends within its maker's county.
    update = Campaign.objects.get(kind=CampaignKind.UPDATE)
    assert campaigns.preview(update) and all("[本人信息更新链接]" in row["body"] for row in campaigns.preview(update))
    campaigns.start_sending(update, user=User.objects.get(username="demo_hejin"))
    assert Worker("w").run_once() == "succeeded"
    update.refresh_from_db()
    assert update.status == CampaignStatus.SENT
    assert set(OutboxMessage.objects.filter(campaign=update).values_list("region__code", flat=True)) <= {"140882"}
