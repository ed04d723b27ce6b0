"""One person one record (一人一档): find duplicate talents, review them, merge and undo.

The entry points other parts use:

- ``score_pair(a, b)``: how likely two talents (objects, dicts or tuples) are one person, with
  the evidence per field (``scoring``);
- ``find_candidates_for(values, user=…)``: the registered look-alikes of one record, for the
  manual-entry warning (``runner``); ``find_candidates_bulk(rows, user=…)`` the same for all the
  rows of an import at once, for its preview;
- ``run_dedupe()``: the registry-wide run that fills the review queue (``runner``, ``linkage``);
- ``merge_talents``, ``undo_merge``, ``decide_distinct`` (``merge``).
"""

from rencai.imports.dedupe.scoring import DEFAULT_THRESHOLD, PairScore, score_pair

__all__ = ["DEFAULT_THRESHOLD", "PairScore", "find_candidates_bulk", "find_candidates_for", "run_dedupe", "score_pair"]


def find_candidates_for(talent_values, **kwargs):
    from rencai.imports.dedupe.runner import find_candidates_for as find

    return find(talent_values, **kwargs)


def find_candidates_bulk(rows, **kwargs):
    from rencai.imports.dedupe.runner import find_candidates_bulk as find

    return find(rows, **kwargs)


def run_dedupe(**kwargs):
    from rencai.imports.dedupe.runner import run_dedupe as run

    return run(**kwargs)
