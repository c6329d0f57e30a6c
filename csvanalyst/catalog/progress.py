"""Report a long DuckDB statement's progress from a side thread while it runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

Progress = Callable[[str, float], None]


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
