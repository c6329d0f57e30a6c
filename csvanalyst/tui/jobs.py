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
from csvanalyst.tui import collector
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


def ask(
    post: Post, session: Any, text: str, scope: DataScope, thread_id: str | None, turn: int, cancel: threading.Event
) -> None:
    """One turn. A new conversation's thread is created first and announced, so that a turn cancelled
    before its first event is still recorded in the thread the app goes on with."""
    try:
        if thread_id is None:
            thread_id = session.create_thread(text, scope)
            post(msg.ThreadStarted(turn, thread_id))
        run_turn(post, session.ask(text, scope, thread_id=thread_id, cancel=cancel), turn, cancel)
    finally:  # the app leaves its running state even when the turn failed before its first event
        post(msg.TurnEnded(turn))


def run_turn(post: Post, stream: Iterator[Event], turn: int, cancel: threading.Event) -> None:
    """Forward a turn's events until it ends or Esc sets `cancel`.

    The Session hands `cancel` to the sandbox, which kills a run in flight at once (the run is recorded
    as `cancelled`); closing the generator marks the turn cancelled in the thread.
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
    """Resolve `scope`; a file read (a new file, or a stale cache) reports its progress to the status bar."""
    from csvanalyst.catalog.progress import reporting

    with reporting(lambda stage, fraction: post(msg.DatasetProgress(stage, fraction))):
        info = scope.resolve()
    post(msg.DatasetReady(info, switch=switch))


def add_dataset(post: Post, path: Path, name: str | None) -> None:
    """Register a CSV or a folder of CSVs, reporting each stage, then switch to it."""
    from csvanalyst.catalog.registry import add_dataset as register

    info = register(path, name=name, progress=lambda stage, fraction: post(msg.DatasetProgress(stage, fraction)))
    post(msg.DatasetReady(info, switch=True))


def startup(post: Post, session: Any, scope: DataScope) -> None:
    """Everything the first frame does not need, in the order the eye wants it: the sidebar (store
    reads), the active dataset's tables and columns; then the modules the first answer and chart will
    need, imported here so that the first turn does not pay for them on the UI thread."""
    from csvanalyst.catalog.registry import list_datasets

    names = [d.name for d in list_datasets()]
    records = session.records.recent_threads(limit=30)
    post(msg.SidebarLoaded(names, records))
    try:
        load_dataset(post, scope, switch=False)
    finally:
        preload()
        collector.keep()  # the start-up heap is done: later full collections skip it


def describe_model(post: Post, session: Any) -> None:
    """Provider and model for the status bar; a misconfigured provider is shown, not raised."""
    try:
        client = session.client
        provider, model = client.provider, client.model
    except Exception as exc:
        provider, model = session.provider, f"unavailable ({type(exc).__name__})"
    post(msg.ModelDescribed(provider, model))


def preload() -> None:
    """Import what the first answer (Markdown), the first result (syntax highlighting) and the first
    chart (plotext) need, off the UI thread."""
    import contextlib
    import importlib

    for module in ("textual.widgets._markdown", "rich.syntax", "pygments.lexers.sql", "textual_plotext"):
        with contextlib.suppress(ImportError):  # an optional speed-up only
            importlib.import_module(module)
    try:  # the SQL lexer compiles its regular expressions on first use (~50 ms)
        from pygments.lexers import get_lexer_by_name

        list(get_lexer_by_name("sql").get_tokens("SELECT 1 AS x FROM t WHERE y = 'z'"))
    except Exception:  # an optional speed-up only
        pass
