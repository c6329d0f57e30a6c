"""A progress line on stderr (bytes and about how many rows read) while a file is read, on a terminal only."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def ingest_progress() -> Iterator[None]:
    """Show the progress of every file read inside this block; nothing when stderr is not a terminal."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from csvanalyst.catalog.progress import reporting

    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("reading", total=1.0, visible=False)

        def report(message: str, fraction: float) -> None:
            bar.update(task, description=message, completed=fraction, visible=True)

        with reporting(report):
            yield
