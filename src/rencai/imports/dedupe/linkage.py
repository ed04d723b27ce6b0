"""The whole registry at once, on plain tuples: prepare, block, score, cluster.

Kept free of the ORM so the benchmark and the background job run the very same code: the job
reads ``values_list(*FIELDS)`` and stores what ``link`` returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from rencai.imports.dedupe import blocking, clustering, scoring

# A cluster of three or more holds together only if each pair in it reaches this probability.
FLOOR_PROBABILITY = 0.5


@dataclass
class Linkage:
    """What a run found: the pairs to review (positions, weight) and the clusters they form."""

    rows: list[scoring.Prepared]
    pairs: list[tuple[float, int, int]] = field(default_factory=list)
    clusters: list[list[int]] = field(default_factory=list)
    compared: int = 0

    def pk_pairs(self) -> list[tuple[float, int, int]]:
        return [(weight, self.rows[a].record.pk, self.rows[b].record.pk) for weight, a, b in self.pairs]

    def pk_clusters(self) -> list[list[int]]:
        return [[self.rows[i].record.pk for i in members] for members in self.clusters]


def link(
    records: Iterable,
    *,
    threshold: float = scoring.DEFAULT_THRESHOLD,
    distinct: Iterable[tuple[int, int]] = (),
    progress: Callable[[int, str], None] | None = None,
    max_block: int = blocking.MAX_BLOCK,
) -> Linkage:
    """Find the duplicates among ``records`` (tuples in ``scoring.FIELDS`` order, or anything
    ``scoring.as_record`` takes). ``distinct`` are pk pairs decided 「不是同一人」: never joined."""
    def report(percent: int, message: str) -> None:
        if progress is not None:
            progress(percent, message)

    rows = [scoring.prepare(record) for record in records]
    report(20, _("已读取 %(count)d 条记录，正在分块") % {"count": len(rows)})
    n = len(rows)
    codes = blocking.candidate_pairs(rows, max_block=max_block)
    report(35, _("正在比对 %(count)d 对候选记录") % {"count": len(codes)})
    cutoff = scoring.weight_for(threshold)
    floor = scoring.weight_for(FLOOR_PROBABILITY)
    score = scoring.score_prepared
    edges = []
    step = max(1, len(codes) // 10)
    for count, code in enumerate(codes):
        a, b = divmod(code, n)
        weight = score(rows[a], rows[b])
        if weight >= cutoff:
            edges.append((weight, a, b))
        if count % step == 0 and count:
            report(35 + 50 * count // len(codes), _("正在比对候选记录"))
    position = {row.record.pk: index for index, row in enumerate(rows)}
    distinct_positions = {
        (position[a], position[b]) for a, b in distinct if a in position and b in position
    }
    edges = [edge for edge in edges if (edge[1], edge[2]) not in distinct_positions
             and (edge[2], edge[1]) not in distinct_positions]
    report(88, _("正在聚类"))
    clusters, kept = clustering.cluster(
        edges,
        id_of=lambda i: rows[i].record.id_card_hash,
        cross_weight=lambda i, j: score(rows[i], rows[j]),
        floor=floor,
        distinct=distinct_positions,
    )
    return Linkage(rows=rows, pairs=kept, clusters=list(clusters.values()), compared=len(codes))


def pairwise_quality(predicted: Iterable[Iterable], truth: dict) -> tuple[float, float, int, int, int]:
    """Pairwise precision and recall of predicted clusters against ``truth`` (record → entity):
    every two records put in one cluster count as one predicted pair. Returns (precision,
    recall, true positives, predicted pairs, true pairs)."""
    predicted_pairs = set()
    for members in predicted:
        members = sorted(members)
        for x, a in enumerate(members):
            for b in members[x + 1:]:
                predicted_pairs.add((a, b))
    entities: dict = {}
    for record, entity in truth.items():
        entities.setdefault(entity, []).append(record)
    true_pairs = set()
    for members in entities.values():
        members = sorted(members)
        for x, a in enumerate(members):
            for b in members[x + 1:]:
                true_pairs.add((a, b))
    hits = len(predicted_pairs & true_pairs)
    precision = hits / len(predicted_pairs) if predicted_pairs else 1.0
    recall = hits / len(true_pairs) if true_pairs else 1.0
    return precision, recall, hits, len(predicted_pairs), len(true_pairs)
