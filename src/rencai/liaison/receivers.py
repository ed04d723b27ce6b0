"""What keeps the liaison schedule in step with the registry and the cadence rules, and seeds
the default rules once the tiers they name are loaded."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from rencai.core.refdata import reference_data_loaded
from rencai.liaison import schedule
from rencai.liaison.models import CadenceRule
from rencai.talents.signals import talents_changed

# (name, tier code or None, interval in days): A and B every 30 days, C every 60, others every 90.
DEFAULT_RULES = (
    ("A类人才每30天联络一次", "A", 30),
    ("B类人才每30天联络一次", "B", 30),
    ("C类人才每60天联络一次", "C", 60),
    ("其他人才每90天联络一次", None, 90),
)


@receiver(talents_changed)
def refresh_changed_talents(sender, ids, **kwargs):
    schedule.talents_changed(ids)


@receiver(post_save, sender=CadenceRule)
@receiver(post_delete, sender=CadenceRule)
def refresh_after_rule_change(sender, instance, raw=False, **kwargs):
    if raw:
        return
    transaction.on_commit(schedule.queue_refresh_all)


@receiver(reference_data_loaded)
def seed_default_rules(sender, **kwargs):
    """The default cadence, when there is no rule at all (a new installation)."""
    from rencai.core.models import DictionaryItem

    if CadenceRule.objects.exists():
        return
    tiers = dict(DictionaryItem.objects.filter(dictionary__code="talent_tier").values_list("code", "pk"))
    rules = []
    for order, (name, tier, days) in enumerate(DEFAULT_RULES, 1):
        if tier is not None and tier not in tiers:
            continue
        rules.append(CadenceRule(name=name, tier_id=tiers.get(tier), interval_days=days, sort_order=order * 10))
    CadenceRule.objects.bulk_create(rules)  # no talents yet to refresh on a new installation
