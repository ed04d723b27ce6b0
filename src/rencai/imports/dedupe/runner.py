"""Dedupe against the database: the registry-wide run that fills the review queue, and the
look-up of one record's look-alikes that the import preview and manual entry use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from rencai.imports.dedupe import blocking, linkage, scoring
from rencai.imports.models import DuplicatePair, DuplicateStatus
from rencai.talents.models import Talent, TalentSearchTerm, TermKind


@dataclass
class RunResult:
    records: int
    compared: int
    pairs: int
    clusters: int
    threshold: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def run_dedupe(*, threshold: float = scoring.DEFAULT_THRESHOLD, progress: Callable[[int, str], None] | None = None,
               check_cancelled: Callable[[], None] | None = None) -> RunResult:
    """Score the whole registry and replace the pending pairs of the review queue with what this
    run found. Pairs already decided (「不是同一人」) stay as they are and are not proposed again."""
    def report(percent: int, message: str) -> None:
        if progress is not None:
            progress(percent, message)
        if check_cancelled is not None:
            check_cancelled()

    report(2, _("正在读取人才库"))
    records = list(Talent._base_manager.order_by("pk").values_list(*scoring.FIELDS))
    decided = set(
        DuplicatePair.objects.exclude(status=DuplicateStatus.PENDING).values_list("left_id", "right_id")
    )
    distinct = set(
        DuplicatePair.objects.filter(status=DuplicateStatus.DISTINCT).values_list("left_id", "right_id")
    )
    result = linkage.link(records, threshold=threshold, distinct=distinct, progress=report)
    report(92, _("正在保存疑似重复记录"))
    rows = result.rows
    position = {row.record.pk: row for row in rows}
    pairs = []
    for weight, a, b in result.pk_pairs():
        left, right = (a, b) if a < b else (b, a)
        if (left, right) in decided:
            continue
        pl, pr = position[left], position[right]
        pairs.append(DuplicatePair(
            left_id=left, right_id=right, score=scoring.probability(weight), weight=weight,
            evidence=scoring.evidence(pl, pr), left_version=pl.record.version, right_version=pr.record.version,
        ))
    with transaction.atomic():
        DuplicatePair.objects.filter(status=DuplicateStatus.PENDING).delete()
        DuplicatePair.objects.bulk_create(pairs, batch_size=2000)
    report(100, _("完成"))
    return RunResult(records=len(records), compared=result.compared, pairs=len(pairs),
                     clusters=len(result.clusters), threshold=threshold)


def _birth_variants(birth: dt.date) -> set[dt.date]:
    """The dates a typo could have made of ``birth`` (and it itself): swapped neighbouring digits,
    month and day transposed, one digit off."""
    digits = birth.strftime("%Y%m%d")
    texts = {digits, digits[:4] + digits[6:8] + digits[4:6]}
    for index in range(7):
        texts.add(digits[:index] + digits[index + 1] + digits[index] + digits[index + 2:])
    for index in range(2, 8):
        for digit in "0123456789":
            texts.add(digits[:index] + digit + digits[index + 1:])
    dates = set()
    for text in texts:
        try:
            dates.add(dt.date(int(text[:4]), int(text[4:6]), int(text[6:8])))
        except ValueError:
            continue
    return dates


def find_candidates_for(talent_values, *, user=None, threshold: float = scoring.DEFAULT_THRESHOLD,
                        exclude_pk: int | None = None, limit: int = 10) -> list[tuple[int, scoring.PairScore]]:
    """The registered talents that may be the same person as ``talent_values`` (a ``Talent`` not
    yet saved, or a dict of field values with plain ID and mobile numbers), best first, as
    ``(pk, PairScore)``. With ``user``, only records that user may see.

    The candidates are read with a few indexed look-ups (the same ID, mobile or e-mail; the same
    name or its pinyin, so homophones come too; a birth date or one a typo could have made) and
    scored with the registry-wide scorer, so a row of an import and a form being entered are
    judged exactly as the review queue judges pairs.
    """
    probe = scoring.prepare(talent_values)
    record = probe.record
    lookups = Q()
    if record.id_card_hash:
        lookups |= Q(id_card_hash=record.id_card_hash)
    if record.mobile_hash:
        lookups |= Q(mobile_hash=record.mobile_hash)
    if probe.email:
        lookups |= Q(email__iexact=probe.email)
    if probe.name:
        lookups |= Q(name=probe.name)
        pinyin = "".join(probe.pinyin)
        if pinyin.isascii() and pinyin:
            lookups |= Q(pk__in=TalentSearchTerm.objects.filter(term=pinyin, kind=TermKind.PINYIN).values("talent_id"))
    if record.birth_date:
        lookups |= Q(birth_date__in=sorted(_birth_variants(record.birth_date)))
    if not lookups:
        return []
    queryset = Talent.objects.restrict(user, "view") if user is not None else Talent._base_manager.all()
    queryset = queryset.filter(lookups)
    pk = exclude_pk or record.pk
    if pk:
        queryset = queryset.exclude(pk=pk)
    cutoff = scoring.weight_for(threshold)
    found = []
    for values in queryset.values_list(*scoring.FIELDS)[:5000]:
        other = scoring.prepare(values)
        weight = scoring.score_prepared(probe, other)
        if weight >= cutoff:
            found.append((values[0], scoring.PairScore(scoring.probability(weight), weight,
                                                       scoring.evidence(probe, other))))
    found.sort(key=lambda item: -item[1].weight)
    return found[:limit]


def find_candidates_bulk(rows, *, user=None, threshold: float = scoring.DEFAULT_THRESHOLD,
                         progress: Callable[[int, str], None] | None = None) -> dict[int, list[tuple[int, float]]]:
    """For many incoming records at once (an import's rows: dicts, ``Talent`` objects or tuples),
    the registered look-alikes of each, as ``{row index: [(pk, score), …]}`` best first; rows
    without any are left out. The registry (what ``user`` may see) is read once with
    ``values_list`` and blocked like a registry-wide run, so a sheet of 100,000 rows costs one
    pass, not 100,000 look-ups."""
    queryset = Talent.objects.restrict(user, "view") if user is not None else Talent._base_manager.all()
    existing = [scoring.prepare(values) for values in queryset.order_by("pk").values_list(*scoring.FIELDS)]
    if progress is not None:
        progress(40, _("已读取 %(count)d 条在库记录") % {"count": len(existing)})
    index: dict[tuple, list[int]] = {}
    for position, row in enumerate(existing):
        for key in blocking.keys_of(row):
            index.setdefault(key, []).append(position)
    cutoff = scoring.weight_for(threshold)
    found: dict[int, list[tuple[int, float]]] = {}
    for number, values in enumerate(rows):
        probe = scoring.prepare(values)
        seen: set[int] = set()
        matches = []
        for key in blocking.keys_of(probe):
            members = index.get(key, ())
            if len(members) > blocking.MAX_BLOCK:
                continue
            for position in members:
                if position in seen:
                    continue
                seen.add(position)
                other = existing[position]
                if probe.record.pk is not None and other.record.pk == probe.record.pk:
                    continue
                weight = scoring.score_prepared(probe, other)
                if weight >= cutoff:
                    matches.append((weight, other.record.pk))
        if matches:
            matches.sort(reverse=True)
            found[number] = [(pk, scoring.probability(weight)) for weight, pk in matches]
    return found
