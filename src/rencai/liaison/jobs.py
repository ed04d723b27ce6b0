"""Background jobs of the liaison area (found by the job registry's autodiscovery)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rencai.core.jobs import register_job
from rencai.liaison import schedule


@register_job("liaison.refresh", title=_("更新联络计划"), resumable=True)
def refresh_schedules(ctx):
    """Work out the liaison schedule again: of a range of talents, or of all (``all``)."""
    params = ctx.params

    def progress(done: int, total: int) -> None:
        ctx.check_cancelled()
        ctx.progress(done * 100 // max(total, 1), f"{done:,} / {total:,}")

    if params.get("all"):
        done = schedule.refresh_all(progress=progress)
    else:
        done = schedule.refresh_range(int(params["first"]), int(params["last"]), progress=progress)
    return {"summary": f"已更新 {done:,} 位人才的联络计划"}


# --- campaigns and greetings ---------------------------------------------------------------------------
def _may_prepare_greetings(user) -> bool:
    return user.has_perm("liaison.add_campaign")


@register_job("liaison.campaign_send", title=_("发送推送活动"), resumable=True)
def send_campaign(ctx):
    """Send a campaign's queued messages (resumable: only what is still queued is sent)."""
    from django.urls import reverse

    from rencai.liaison import campaigns
    from rencai.liaison.models import Campaign

    campaign = Campaign.objects.select_related("region", "created_by", "audience_by").get(pk=ctx.params["campaign"])

    def progress(done: int, total: int) -> None:
        ctx.progress(done * 100 // max(total, 1), f"{done:,} / {total:,}")

    counts = campaigns.send_campaign(campaign, progress=progress, should_stop=ctx.cancelled)
    return {
        "summary": "已发送 {sent:,}，失败 {failed:,}，已退订 {opted_out:,}，待发送 {queued:,}".format(**counts),
        **counts, "url": reverse("campaign_detail", kwargs={"pk": campaign.pk}), "url_label": "查看推送活动",
    }


@register_job("liaison.greetings", title=_("生成节日与生日问候草稿"), resumable=True, allowed=_may_prepare_greetings)
def prepare_greetings(ctx):
    """The drafts of the coming days' festivals and birthdays (run daily; running again adds nothing twice)."""
    import datetime as dt

    from rencai.liaison import greetings

    today = dt.date.fromisoformat(ctx.params["today"]) if ctx.params.get("today") else None
    # Started by a user (the page): within their scope. The daily command runs for the whole city.
    made = greetings.prepare_drafts(today, user=ctx.user)
    return {"summary": "新建问候草稿 {created:,} 份，补充名单 {updated:,} 份".format(**made), **made}
