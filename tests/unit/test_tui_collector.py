"""The terminal app's hold on the garbage collector: no full collection while a turn holds it, young
collections go on, and the collector's own thresholds come back when the last holder lets go."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from csvanalyst.tui import collector


@pytest.fixture(autouse=True)
def _unheld() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    while gc.get_threshold() != before:
        collector.release()


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


def test_no_full_collection_while_held_but_young_ones_go_on() -> None:
    count = _enough_for_a_full_collection()
    full = _collections(2)
    unheld = _make_long_lived(count)
    assert _collections(2) > full  # the same allocations unheld end in a full collection
    count = _enough_for_a_full_collection()
    full, young = _collections(2), _collections(0)
    with collector.held():
        kept = _make_long_lived(count)
        assert _collections(2) == full
        assert _collections(0) > young + 100
    del unheld, kept


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
