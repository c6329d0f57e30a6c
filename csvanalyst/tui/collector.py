"""While a turn runs and its answer streams in, the garbage collector makes no full collection.

A full collection walks every object the collector tracks: on this app's heap (Textual, DuckDB, sqlglot,
pydantic and the conversation so far) that is 100-200 ms on a loaded two-core machine, in one frame, and
a long answer's drawing triggered several. Young collections go on (they are cheap and free most cyclic
garbage); the full ones wait until nothing holds, then run as they would have (nothing is leaked).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# gen1 collections before a full one: far more than a turn makes (CPython's default is 10)
_HELD_THRESHOLD = 1_000_000

_holders = 0
_thresholds: tuple[int, int, int] | None = None  # the collector's own, while held


def hold() -> None:
    """Hold off full collections, unless a holder already does."""
    global _holders, _thresholds
    if _holders == 0:
        _thresholds = gc.get_threshold()
        gc.set_threshold(_thresholds[0], _thresholds[1], _HELD_THRESHOLD)
    _holders += 1


def release() -> None:
    """Give the collector back its thresholds once the last holder lets go."""
    global _holders, _thresholds
    if _holders == 0:
        return
    _holders -= 1
    if _holders == 0 and _thresholds is not None:
        gc.set_threshold(*_thresholds)
        _thresholds = None


@contextmanager
def held() -> Iterator[None]:
    hold()
    try:
        yield
    finally:
        release()
