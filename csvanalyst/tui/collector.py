"""While an answer streams in, the garbage collector skips the objects that were alive before it.

A full collection walks every object the collector tracks: on this app's heap (Textual, DuckDB, sqlglot,
pydantic and the conversation so far) that is 100-200 ms on a loaded two-core machine, all in one frame,
and a long answer's drawing triggers several. gc.freeze moves the objects alive now into a generation
that collections leave alone, so a collection meanwhile walks only what the turn made; gc.unfreeze puts
them back once nothing holds the freeze, so garbage among them is collected later, not leaked.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_holders = 0


def hold() -> None:
    """Freeze the objects alive now, unless a holder already did."""
    global _holders
    if _holders == 0:
        gc.freeze()
    _holders += 1


def release() -> None:
    """Give the frozen objects back to the collector once the last holder lets go."""
    global _holders
    if _holders == 0:
        return
    _holders -= 1
    if _holders == 0:
        gc.unfreeze()


@contextmanager
def held() -> Iterator[None]:
    hold()
    try:
        yield
    finally:
        release()
