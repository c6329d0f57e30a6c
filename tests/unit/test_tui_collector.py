"""The terminal app's hold on the garbage collector: no full collection while a turn holds it, young
collections go on; when the last holder lets go, the collection that waited runs (in a later turn of the
event loop when there is one), its survivors are frozen, and the collector's own thresholds come back."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from csvanalyst.tui import collector


@pytest.fixture(autouse=True)
def _unheld() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    while not collector.is_settled():
        collector.release()
    collector.thaw()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def _collections(generation: int) -> int:
    return int(gc.get_stats()[generation]["collections"])


def _enough_for_a_full_collection() -> int:
    """How many new long-lived objects make a full collection due, on whatever heap this process has.

    CPython makes a full collection only once the objects promoted since the last one exceed a quarter
    of those that survived it, so a fixed count is too few in a process with a big heap (a whole test
    run): collect now, then make a third more than the survivors, and more than the gen1 count needs.
    """
    gc.collect()
    return len(gc.get_objects(generation=2)) // 3 + 100_000


def _make_long_lived(count: int) -> list[list[object]]:
    """Objects that survive the young collections, so they count towards a full collection."""
    return [[] for _ in range(count)]


class _Cycle:
    """Garbage only a full collection frees once it is old: an object that refers to itself."""

    def __init__(self) -> None:
        self.me = self


def test_no_full_collection_while_held_but_young_ones_go_on() -> None:
    count = _enough_for_a_full_collection()
    full = _collections(2)
    unheld = _make_long_lived(count)
    assert _collections(2) > full  # the same allocations unheld end in a full collection
    count = _enough_for_a_full_collection()
    full, young = _collections(2), _collections(0)
    collector.hold()
    kept = _make_long_lived(count)
    assert _collections(2) == full
    assert _collections(0) > young + 100
    del unheld, kept


def test_release_collects_what_waited_and_freezes_what_survives() -> None:
    own = gc.get_threshold()
    collector.hold()
    garbage = _Cycle()
    gone = weakref.ref(garbage)
    _make_long_lived(50_000)  # young collections push the cycle to the oldest generation
    del garbage
    alive = _Cycle()
    collector.release()  # no event loop here: at once
    assert gone() is None and collector.is_settled() and gc.get_threshold() == own
    assert gc.get_freeze_count() > 0 and not any(o is alive for o in gc.get_objects())  # frozen: skipped


def test_thawed_objects_are_collected_again() -> None:
    collector.settle()
    cycle = _Cycle()
    gone = weakref.ref(cycle)
    collector.keep()
    del cycle
    gc.collect()
    assert gone() is not None  # frozen: a full collection skips it
    collector.thaw()
    gc.collect()
    assert gone() is None and gc.get_freeze_count() == 0


def test_on_an_event_loop_the_collection_runs_in_a_later_turn_of_the_loop() -> None:
    async def scenario() -> None:
        collector.hold()
        collector.release()
        assert not collector.is_settled()  # not in the frame that let go
        assert gc.get_threshold()[2] > 1000
        after_the_settle = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(collector.SETTLE_DELAY_S * 2, after_the_settle.set_result, None)
        await after_the_settle
        assert collector.is_settled()

    own = gc.get_threshold()
    asyncio.run(scenario())
    assert gc.get_threshold() == own


def test_a_holder_that_comes_before_the_settle_keeps_the_hold() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        collector.hold()
        collector.release()
        collector.hold()  # the next turn starts before the collection ran
        after_the_settle = loop.create_future()
        loop.call_later(collector.SETTLE_DELAY_S * 2, after_the_settle.set_result, None)
        await after_the_settle
        assert not collector.is_settled() and gc.get_threshold()[2] > 1000
        collector.release()
        done = loop.create_future()
        loop.call_later(collector.SETTLE_DELAY_S * 2, done.set_result, None)
        await done
        assert collector.is_settled()

    asyncio.run(scenario())


def test_nested_holders_keep_the_hold_until_the_last_lets_go() -> None:
    own = gc.get_threshold()
    collector.hold()
    held = gc.get_threshold()
    collector.hold()
    assert held[:2] == own[:2] and held[2] > own[2] and gc.get_threshold() == held
    collector.release()
    assert gc.get_threshold() == held
    collector.release()
    assert gc.get_threshold() == own
    collector.release()  # one release too many changes nothing
    assert gc.get_threshold() == own
