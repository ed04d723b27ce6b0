"""Figures of province–university cooperation: agreements, projects by stage, the landing rate and
the amounts, by university, by county or by year.

The landing rate (落地率) is the share of signed projects that have landed: a project counts as
signed once it reached 签约 and as landed once it reached 落地, by the dates kept on it, so a
project stopped after it landed still counts as landed. Amounts are in 万元. Every figure is one
GROUP BY over what the viewer may see (cooperation records number in the thousands, not millions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext_lazy as _

from rencai.cooperation.choices import Stage
from rencai.cooperation.models import Agreement, Project

GROUPINGS = {
    "university": (_("院校"), "university", "university__name"),
    "region": (_("县（市、区）"), "region", "region__name"),
    "year": (_("年度"), None, None),
}
NONE_LABEL = {"university": _("未关联院校"), "region": "—", "year": _("未签约")}


@dataclass
class Row:
    """One line of the figures: a university, a county or a year."""

    key: object
    label: str
    agreements: int = 0
    agreement_amount: Decimal = Decimal(0)
    projects: int = 0
    by_stage: dict = field(default_factory=dict)
    signed: int = 0
    landed: int = 0
    project_amount: Decimal = Decimal(0)
    landed_amount: Decimal = Decimal(0)

    @property
    def landing_rate(self) -> float | None:
        """Landed ÷ signed, in per cent; None when nothing was signed."""
        return round(100 * self.landed / self.signed, 1) if self.signed else None


def _key(grouping: str, date_field: str):
    if grouping == "year":
        return {"k": ExtractYear(date_field)}, None
    _label, key, label = GROUPINGS[grouping]
    return {"k": F(key)}, label


def figures(projects, agreements, grouping: str = "university") -> tuple[list[Row], Row]:
    """The rows of ``grouping`` and their total, from ``projects`` and ``agreements`` (querysets
    already restricted to what the viewer may see, and filtered as the page asks)."""
    if grouping not in GROUPINGS:
        raise ValueError(grouping)
    rows: dict = {}

    def row(key, label) -> Row:
        if key not in rows:
            rows[key] = Row(key, str(label) if label is not None else str(NONE_LABEL[grouping]))
        return rows[key]

    key, label = _key(grouping, "signed_on")
    values = ("k", label) if label else ("k",)
    for item in agreements.order_by().annotate(**key).values(*values).annotate(n=Count("id"), money=Sum("amount")):
        r = row(item["k"], item.get(label, item["k"]))
        r.agreements, r.agreement_amount = item["n"], item["money"] or Decimal(0)
    stage_counts = {f"stage_{s}": Count("id", filter=Q(stage=s)) for s in Stage.values}
    landed = Q(landed_on__isnull=False)
    for item in projects.order_by().annotate(**key).values(*values).annotate(
            n=Count("id"), signed=Count("id", filter=Q(signed_on__isnull=False)), landed=Count("id", filter=landed),
            money=Sum("amount"), landed_money=Sum("amount", filter=landed), **stage_counts):
        r = row(item["k"], item.get(label, item["k"]))
        r.projects, r.signed, r.landed = item["n"], item["signed"], item["landed"]
        r.project_amount, r.landed_amount = item["money"] or Decimal(0), item["landed_money"] or Decimal(0)
        r.by_stage = {s: item[f"stage_{s}"] for s in Stage.values}
    ordered = sorted(rows.values(), key=_order(grouping))
    total = Row(None, str(_("合计")))
    for r in ordered:
        total.agreements += r.agreements
        total.agreement_amount += r.agreement_amount
        total.projects += r.projects
        total.signed += r.signed
        total.landed += r.landed
        total.project_amount += r.project_amount
        total.landed_amount += r.landed_amount
        for s, n in r.by_stage.items():
            total.by_stage[s] = total.by_stage.get(s, 0) + n
    for r in (*ordered, total):
        for s in Stage.values:
            r.by_stage.setdefault(s, 0)
    return ordered, total


def _order(grouping: str):
    if grouping == "year":
        return lambda r: (r.key is None, -(r.key or 0))
    return lambda r: (r.key is None, -r.landed, -r.projects, -r.agreements, r.label)


def scoped(user):
    """The projects and agreements ``user`` may see."""
    return Project.objects.restrict(user, "view"), Agreement.objects.restrict(user, "view")
