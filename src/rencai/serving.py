"""A serving process made ready before its first request: its code loaded, its heap settled;
and a job worker made ready before its first job.

Python's cycle collector, in a full collection, walks every container object alive. A worker
holds a few hundred thousand from start-up on (Django, every view module, pypinyin's tables),
none of which will ever be garbage; each full collection spent about 50 ms walking them, inside
whichever request set it off, and that was most of the p95 of a 30 ms search. ``gc.freeze()``
puts what start-up leaves out of the collector's sight for good, so a full collection walks only
what requests left behind. The young generation is collected every ``YOUNG_THRESHOLD`` net new
objects rather than 700: a page of 50 talents allocates that many several times over, almost
all freed by reference counting before any collection could matter.
"""

from __future__ import annotations

import gc
import logging
import threading

logger = logging.getLogger(__name__)

YOUNG_THRESHOLD = 10_000


def prepare() -> None:
    """Load what every request would otherwise load on first use, then freeze the heap."""
    from importlib import import_module

    from django.conf import settings

    from rencai.talents import search

    import_module(settings.ROOT_URLCONF)  # the URLconf, and with it every view module
    search.name_terms("王军")  # pypinyin's phrase tables, which the first save would load
    if settings.COCKPIT_COLUMNS:
        threading.Thread(target=load_cockpit_columns, name="cockpit-columns", daemon=True).start()
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def load_cockpit_columns() -> None:
    """Read the cockpit's in-memory columns now rather than in the first cockpit request, which
    at a million talents would wait a minute for them (a request that comes sooner waits for the
    rest of this read)."""
    from django.db import connections

    from rencai.dashboards import replica

    try:
        replica.replica().current()
        gc.freeze()  # what the copy holds (its text values) is never garbage either
    except Exception:  # a database not migrated yet: the first request will try again
        logger.exception("cockpit columns not loaded at start")
    finally:
        connections.close_all()


def prepare_worker() -> None:
    """What a job worker loads before its first job: the word segmenter's dictionary and the
    pinyin tables, which every import, re-index and dedupe run needs. Loaded on first use, they
    would add a second or two to the first job after every start (a tenth of a 10,000-row
    import's time); here they cost the worker's start instead."""
    from rencai.talents import search

    search.prepare_segmenter()
    search.name_terms("王军")
