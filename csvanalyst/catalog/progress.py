"""Report a long DuckDB statement's progress from a side thread while it runs.

A caller that cannot pass a callback down (a front end calling the core, which resolves the data
itself) installs one for its context with `reporting`; reads without their own callback use it.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from csvanalyst.catalog.units import human_bytes

Progress = Callable[[str, float], None]
_AMBIENT: contextvars.ContextVar[Progress | None] = contextvars.ContextVar("ingest_progress", default=None)


@contextmanager
def reporting(progress: Progress) -> Iterator[None]:
    """Send the progress of every file read in this context to `progress`."""
    token = _AMBIENT.set(progress)
    try:
        yield
    finally:
        _AMBIENT.reset(token)


def ambient(progress: Progress | None) -> Progress | None:
    """`progress`, else the one installed with `reporting`."""
    return progress if progress is not None else _AMBIENT.get()


def in_bytes_and_rows(progress: Progress, size: int, bytes_per_row: float) -> Progress:
    """A callback that also says how many bytes of the file and (about) how many rows were read."""

    def report(label: str, fraction: float) -> None:
        done = fraction * size
        rows = int(done / bytes_per_row) if bytes_per_row > 0 else 0
        progress(f"{label}: {human_bytes(done)} of {human_bytes(size)}, ~{rows:,} rows", fraction)

    return report


def run_with_progress(con: Any, query: str, label: str, progress: Progress | None) -> None:
    """Execute `query` on `con`, polling DuckDB's query progress every 0.2 s for `progress`."""
    if progress is None:
        con.execute(query)
        return
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.2):
            percent = con.query_progress()
            if percent >= 0:
                progress(label, min(percent / 100.0, 1.0))

    watcher = threading.Thread(target=poll, daemon=True)
    progress(label, 0.0)
    watcher.start()
    try:
        con.execute(query)
    finally:
        done.set()
        watcher.join()
    progress(label, 1.0)
