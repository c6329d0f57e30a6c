"""Keep full garbage collections off the frames of a streaming answer, and keep them short.

A full collection walks every object the collector tracks: on this app's heap (Textual, DuckDB, sqlglot,
pydantic and the conversation so far) that is 100-200 ms on a loaded two-core machine, in one frame, and
a long answer's drawing triggered several. So:

* while a turn runs and its answer is drawn, no full collection happens (`hold`); young collections go
  on (they are cheap and free most cyclic garbage);
* when the last holder lets go, one full collection runs in a frame of its own, and whatever survives it
  is frozen (`settle`, CPython's `gc.freeze`): later full collections skip it, so the one at the end of
  the next turn walks only what that turn made, not the start-up heap and every earlier answer;
* the start-up heap (modules, classes, the first screen) is frozen once the start-up work is done (`keep`);
* frozen objects are still freed when their last reference goes; only a cycle among them waits, so the
  app gives them back to the collector (`thaw`) when it removes a conversation, and when it exits.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from contextlib import contextmanager

# gen1 collections before a full one: far more than a turn makes (CPython's default is 10)
_HELD_THRESHOLD = 1_000_000
# The collection that waited runs this long after the last holder lets go, in a frame of its own: run at
# once, it landed in the frame that lays out the answer's last lines and the two added up.
SETTLE_DELAY_S = 0.05

_holders = 0
_thresholds: tuple[int, int, int] | None = None  # the collector's own, while held or not yet settled


def hold() -> None:
    """Hold off full collections, unless a holder already does."""
    global _holders, _thresholds
    if _thresholds is None:
        _thresholds = gc.get_threshold()
        gc.set_threshold(_thresholds[0], _thresholds[1], _HELD_THRESHOLD)
    _holders += 1


def release() -> None:
    """When the last holder lets go: the full collection that waited, soon (on the running event loop)
    or at once (without one), then the collector's own thresholds."""
    global _holders
    if _holders == 0:
        return
    _holders -= 1
    if _holders > 0:
        return
    try:
        asyncio.get_running_loop().call_later(SETTLE_DELAY_S, _settle_unless_held)
    except RuntimeError:  # no event loop in this thread
        _settle_unless_held()


def _settle_unless_held() -> None:
    global _thresholds
    if _holders > 0 or _thresholds is None:
        return  # a new holder came first: its release settles
    settle()
    gc.set_threshold(*_thresholds)
    _thresholds = None


def is_settled() -> bool:
    """Nothing holds, and the collection that waited has run."""
    return _holders == 0 and _thresholds is None


def settle() -> None:
    """Collect what is garbage now, and keep every survivor out of later full collections."""
    gc.collect()
    keep()


def keep() -> None:
    """Keep every object alive now out of later full collections, without walking them first (cheap,
    and a garbage cycle among them waits for `thaw`): for the start-up heap, modules and classes."""
    gc.freeze()


def thaw() -> None:
    """Give every frozen object back to the collector (the next full collection walks them again)."""
    gc.unfreeze()


def reset() -> None:
    """The collector as it was before any hold: its thresholds, nothing frozen (an app that exits leaves
    no hold behind, even one whose collection was still to run on a loop that has stopped)."""
    global _holders, _thresholds
    _holders = 0
    if _thresholds is not None:
        gc.set_threshold(*_thresholds)
        _thresholds = None
    thaw()


@contextmanager
def held() -> Iterator[None]:
    hold()
    try:
        yield
    finally:
        release()
