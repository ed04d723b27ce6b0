"""From scored pairs to clusters (one cluster, one person), without chaining strangers together.

Plain connected components chain: 张伟(1985) ~ 张伟(1985, no ID) ~ 张伟(1985, another ID) would put
two people with different ID numbers in one cluster. Here pairs are joined strongest first
(Kruskal-style), and two clusters are joined only if

- they do not hold two different ID numbers (two valid numbers are two people),
- no pair across them was decided 「不是同一人」, and
- when the result has more than two records, every pair across them still scores at least
  ``floor`` (complete linkage at a softer threshold): a chain of look-alikes whose ends differ
  stays apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


def cluster(
    edges: Iterable[tuple[float, int, int]],
    *,
    id_of: Callable[[int], str],
    cross_weight: Callable[[int, int], float],
    floor: float,
    distinct: set[tuple[int, int]] = frozenset(),
    max_size: int = 50,
) -> tuple[dict[int, list[int]], list[tuple[float, int, int]]]:
    """Clusters (root → members) and the edges that joined them, from ``(weight, a, b)`` edges."""
    parent: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    ids: dict[int, str] = {}
    kept: list[tuple[float, int, int]] = []
    not_same: dict[int, set[int]] = {}
    for a, b in distinct:
        not_same.setdefault(a, set()).add(b)
        not_same.setdefault(b, set()).add(a)

    def find(x: int) -> int:
        root = parent.get(x, x)
        if root == x:
            return x
        root = find(root)
        parent[x] = root
        return root

    def group(root: int) -> list[int]:
        return members.get(root) or [root]

    for weight, a, b in sorted(edges, key=lambda edge: -edge[0]):
        ra, rb = find(a), find(b)
        if ra == rb:
            kept.append((weight, a, b))
            continue
        ga, gb = group(ra), group(rb)
        ida = ids.get(ra, id_of(ra) if ra not in members else "")
        idb = ids.get(rb, id_of(rb) if rb not in members else "")
        if ida and idb and ida != idb:
            continue
        if len(ga) + len(gb) > max_size:
            continue
        if not_same and any(y in not_same.get(x, ()) for x in ga for y in gb):
            continue
        if len(ga) + len(gb) > 2 and any(
            cross_weight(x, y) < floor for x in ga for y in gb if (x, y) != (a, b) and (y, x) != (a, b)
        ):
            continue
        if len(ga) < len(gb):
            ra, rb, ga, gb = rb, ra, gb, ga
        parent[rb] = ra
        members[ra] = ga + gb
        members.pop(rb, None)
        ids[ra] = ida or idb
        kept.append((weight, a, b))
    clusters = {root: group_ for root, group_ in members.items() if find(root) == root}
    return clusters, kept
