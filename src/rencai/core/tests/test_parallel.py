"""core.parallel: a generator run in a forked child, its items read in order, its errors raised
in the parent, and the child gone when the parent stops early."""

from __future__ import annotations

import os
import signal
import time

import pytest

from rencai.core.parallel import ChildFailed, can_fork, forked

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork")


def test_it_yields_what_the_child_makes_in_order_from_another_process():
    def produce():
        for i in range(50):
            yield i, os.getpid()

    items = list(forked(produce))
    assert [i for i, _pid in items] == list(range(50))
    assert {pid for _i, pid in items} != {os.getpid()}


def test_an_exception_in_the_child_is_raised_in_the_parent():
    def produce():
        yield 1
        raise ValueError("bad cell")

    stages = forked(produce)
    assert next(stages) == 1
    with pytest.raises(ValueError, match="bad cell"):
        next(stages)


def test_an_exception_that_cannot_be_pickled_comes_back_by_its_type_alone():
    class Local(Exception):  # a class pickle cannot find by name
        pass

    def produce():
        raise Local("身份证号 140802198503120031")
        yield

    with pytest.raises(ChildFailed) as caught:
        list(forked(produce))
    assert "Local" in str(caught.value) and "1408" not in str(caught.value)


def test_a_child_that_dies_is_reported():
    def produce():
        yield 1
        os.kill(os.getpid(), signal.SIGKILL)
        yield 2

    with pytest.raises(ChildFailed, match="ended"):
        list(forked(produce))


def test_stopping_early_kills_the_child(tmp_path):
    marker = tmp_path / "pid"

    def produce():
        marker.write_text(str(os.getpid()))
        yield from range(10**9)

    stages = forked(produce, depth=2)
    assert next(stages) == 0
    stages.close()
    pid = int(marker.read_text())
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the child is still running")


def test_a_sharing_child_is_told_whether_the_parent_waits_for_it():
    def produce(idle):
        deadline = time.monotonic() + 20
        while not idle():  # the parent waits for the first item
            assert time.monotonic() < deadline, "never told that the parent waits"
            time.sleep(0.01)
        yield "first"
        time.sleep(0.2)
        yield idle()  # the parent is busy with "first" (below)

    stages = forked(produce, share=True)
    assert next(stages) == "first"
    time.sleep(3)
    assert next(stages) is False
