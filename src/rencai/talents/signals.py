"""Signals of the registry for the areas built on it.

``talents_changed`` is sent, inside the writing transaction, after any write that creates
talents or changes their fields or memberships: one talent saved through the form or the API,
a bulk edit, an import, a merge and its undo. ``ids`` holds the talents' ids (a ``range`` for
the rows an import created). Areas that keep something derived from talents (the liaison
schedule) listen to it rather than to each write path. Deletions need no signal: rows that
point at a talent go with it.
"""

from django.dispatch import Signal

talents_changed = Signal()  # sender=Talent, ids: Collection[int]


def send_changed(ids) -> None:
    from rencai.talents.models import Talent

    if ids:
        talents_changed.send(sender=Talent, ids=ids)


def derived_models() -> list:
    """Models of other areas whose rows are worked out from a talent (``derived_from_talent =
    True``, keyed by ``talent``): never moved by a merge or counted as a talent's records, but
    rebuilt on ``talents_changed`` and removed with the talent."""
    from rencai.talents.models import Talent

    return [rel.related_model for rel in Talent._meta.related_objects
            if getattr(rel.related_model, "derived_from_talent", False)]
