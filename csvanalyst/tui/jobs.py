"""The work done off the UI thread. Each function runs in a Textual thread worker and only posts
messages (see messages.py); it never touches a widget, so the UI keeps drawing while the model thinks
or the sandbox runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from textual.message import Message

from csvanalyst.core.query import DataScope, QueryOutcome
from csvanalyst.errors import CsvAnalystError
from csvanalyst.events import Event, RunFinished
from csvanalyst.tui import messages as msg

Post = Callable[[Message], Any]


def guarded(post: Post, job: Callable[[], None]) -> None:
    """Run a job; an error of the tree (or a bug) becomes an inline message, never a crashed app."""
    try:
        job()
    except CsvAnalystError as exc:
        post(msg.ActionFailed(exc.code, exc.message, exc.hint or ""))
    except Exception as exc:  # a bug must not take the analyst's screen down with it
        post(msg.ActionFailed("internal", f"{type(exc).__name__}: {exc}", "Set CSVANALYST_DEBUG=1 and retry."))


def run_turn(post: Post, stream: Iterator[Event], turn: int, cancel: threading.Event) -> None:
    """Forward a turn's events until it ends or Esc sets `cancel`.

    Closing the generator marks the turn cancelled in the thread. A sandbox run already in flight is not
    interrupted: its result is simply not shown.
    """
    try:
        for event in stream:
            if cancel.is_set():
                break
            post(msg.TurnEvent(turn, event))
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
        post(msg.TurnEnded(turn))


def rerun(sql: str, scope: DataScope, session: Any) -> QueryOutcome:
    """Every row of a run, by running its SQL again (events and capsules keep only a preview)."""
    from csvanalyst.core.query import execute

    return execute("sql", sql, scope, settings=session.settings, executor=session.executor)


def full_result(post: Post, run_id: str, sql: str, scope: DataScope, session: Any) -> None:
    outcome = rerun(sql, scope, session)
    columns = [c.model_dump() for c in outcome.result.columns]
    post(msg.FullResult(run_id, columns, outcome.result.rows))


def replay(post: Post, run_id: str, session: Any) -> None:
    from csvanalyst.core.replay import replay_run

    outcome, original = replay_run(run_id, settings=session.settings)
    result = outcome.result
    event = RunFinished(
        run_id=outcome.run_id,
        status=result.status,
        sql=outcome.sql,
        columns=[c.model_dump() for c in result.columns],
        rows=result.rows,
        row_count=result.row_count,
        truncated=result.truncated,
        timings=result.timings,
    )
    post(msg.Replayed(original.id, event))


def export(post: Post, path: Path, columns: list[dict[str, str]], rows: list[list[Any]]) -> None:
    from csvanalyst.tui.export import write_result

    write_result(path, columns, rows)
    post(msg.Exported(path, len(rows)))


def load_dataset(post: Post, scope: DataScope, *, switch: bool) -> None:
    post(msg.DatasetReady(scope.resolve(), switch=switch))


def add_dataset(post: Post, path: Path, name: str | None) -> None:
    """Register a CSV or a folder of CSVs, reporting each stage, then switch to it."""
    from csvanalyst.catalog.registry import add_dataset as register

    info = register(path, name=name, progress=lambda stage, fraction: post(msg.DatasetProgress(stage, fraction)))
    post(msg.DatasetReady(info, switch=True))
