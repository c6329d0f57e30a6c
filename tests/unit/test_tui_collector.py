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


def _make_long_lived(count: int = 300_000) -> list[list[object]]:
    """Objects that survive the young collections: enough of them makes a full collection due."""
    return [[] for _ in range(count)]


def test_no_full_collection_while_held_but_young_ones_go_on() -> None:
    full = _collections(2)
    unheld = _make_long_lived()
    assert _collections(2) > full  # the same allocations unheld end in a full collection
    full, young = _collections(2), _collections(0)
    with collector.held():
        kept = _make_long_lived()
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
