"""The terminal app's hold on the garbage collector: objects alive when a turn starts are left out of
collections until the last holder lets go, and then collected as usual (nothing leaks)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from csvanalyst.tui import collector


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


@pytest.fixture(autouse=True)
def _unheld() -> Iterator[None]:
    assert gc.get_freeze_count() == 0
    yield
    while gc.get_freeze_count():
        collector.release()


def test_nested_holders_keep_the_freeze_until_the_last_lets_go() -> None:
    collector.hold()
    frozen = gc.get_freeze_count()
    collector.hold()
    assert frozen > 0 and gc.get_freeze_count() == frozen  # the second holder freezes nothing more
    collector.release()
    assert gc.get_freeze_count() == frozen
    collector.release()
    assert gc.get_freeze_count() == 0
    collector.release()  # one release too many changes nothing
    assert gc.get_freeze_count() == 0


def test_garbage_among_the_frozen_objects_is_collected_once_released() -> None:
    node = _Node()
    alive = weakref.ref(node)
    with collector.held():
        del node
        gc.collect()
        assert alive() is not None  # left out of collections while held
    gc.collect()
    assert alive() is None
