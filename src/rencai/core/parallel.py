"""Work on a second core: a generator run in a forked child process, its items read in order.

An import of a million rows spends most of its time in Python (cleaning cells, hashing and
encrypting personal numbers, segmenting text), which one process runs on one core, while the
database writes must stay in the process that holds the transaction. ``forked`` runs the
Python part in a child while the parent writes what the child has already prepared.

The child is forked, so it starts with everything the parent has loaded (dictionaries, keys,
the sheet already read) without copying it, and it never touches the database: the parent's
connections are not used in the child, and it ends with ``os._exit`` (by ``multiprocessing``),
so nothing of the parent's is closed or flushed from it. Where ``fork`` does not exist, or
for small work, callers run the generator in their own process instead (``can_fork``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import multiprocessing
import pickle
from collections.abc import Callable, Iterator
from queue import Empty

log = logging.getLogger(__name__)

# How many items the child may prepare ahead of the parent: enough to smooth uneven chunks,
# few enough that a fast child does not fill the memory with waiting work.
DEPTH = 4


class ChildFailed(RuntimeError):
    """The child process died, or raised something that could not be sent back."""


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def give_back_freed_memory() -> None:
    """Return the memory freed since the last call to the system (glibc's ``malloc_trim``).

    Call it after freeing what a forked child still reads (a sheet read whole). Freeing many
    small blocks writes the allocator's bookkeeping into their pages, which copies each page the
    two processes shared: the child keeps the original, this process a copy that it neither uses
    nor gives back, so the sheet would be held twice (half a gigabyte more at a million rows).
    Trimming hands those copies back. Nothing happens where the C library has no such call.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, looked up once (``find_library`` runs a helper program)."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    return trim


def forked(produce: Callable[..., Iterator], *, depth: int = DEPTH, share: bool = False) -> Iterator:
    """Yield what ``produce()`` yields, computed in a forked child process.

    ``share``: ``produce`` is called with ``idle``, a function that tells the child whether the
    parent is waiting for its next item at that moment. A child whose work the parent can also
    do may then hand it over undone, so that the parent, when its own part is the lighter one,
    takes a share instead of waiting (the two processes balance themselves whichever is slower).

    An exception raised in the child is raised here (as it was, when it can be pickled; as
    ``ChildFailed`` otherwise). Stopping early — the caller's own error, a cancel, ``close()`` —
    kills the child.
    """
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=depth)
    waiting = context.Event() if share else None
    process = context.Process(target=_child, args=(produce, queue, waiting), daemon=True, name="rencai-forked")
    process.start()
    try:
        while True:
            try:
                kind, payload = queue.get_nowait()
            except Empty:
                if waiting is not None:
                    waiting.set()
                try:
                    kind, payload = queue.get(timeout=2)
                except Empty:
                    if not process.is_alive():
                        raise ChildFailed(f"the child process ended with code {process.exitcode}") from None
                    continue
                finally:
                    if waiting is not None:
                        waiting.clear()
            if kind == "item":
                yield payload
            elif kind == "done":
                return
            else:
                raise payload
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        queue.cancel_join_thread()
        queue.close()


def _child(produce: Callable[..., Iterator], queue, waiting) -> None:
    try:
        for item in (produce(waiting.is_set) if waiting is not None else produce()):
            queue.put(("item", item))
        queue.put(("done", None))
    except BaseException as exc:  # noqa: BLE001 (everything goes back to the parent)
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001
            # Only the type: a message may quote the data being worked on.
            log.error("forked work failed: %s", type(exc).__name__)
            exc = ChildFailed(type(exc).__name__)
        queue.put(("error", exc))
    queue.close()
    queue.join_thread()
