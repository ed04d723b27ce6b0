"""Background jobs of the dedupe part: the registry-wide run that fills the review queue."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rencai.core.jobs import JobContext, register_job
from rencai.imports.dedupe import scoring


def may_run_dedupe(user) -> bool:
    """Anyone who may change talents across the whole city: a run replaces the city's queue."""
    return bool(user and user.is_authenticated and user.has_perm("talents.change_talent")
                and user.has_perm("imports.add_duplicatepair") and user.sees_all_regions)


@register_job("imports.dedupe", title=gettext_lazy("人才库查重"), resumable=True, allowed=may_run_dedupe)
def dedupe_registry(ctx: JobContext) -> dict:
    """Score the whole registry and refresh the review queue (read-mostly and replacing its own
    output, so running it again after a restart is harmless)."""
    from rencai.imports.dedupe.runner import run_dedupe

    threshold = float(ctx.job.params.get("threshold") or scoring.DEFAULT_THRESHOLD)
    result = run_dedupe(threshold=threshold, progress=ctx.progress, check_cancelled=ctx.check_cancelled)
    summary = _("查重完成：%(records)d 条记录，比对 %(compared)d 对，发现疑似重复 %(pairs)d 对（%(clusters)d 组）。") % {
        "records": result.records, "compared": result.compared, "pairs": result.pairs, "clusters": result.clusters,
    }
    return {"summary": summary, **result.as_dict()}
