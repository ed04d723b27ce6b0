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
