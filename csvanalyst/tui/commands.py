"""Slash commands, and the store reads the sidebar needs. Anything slow goes to a worker (jobs.py)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from csvanalyst.core.query import DataScope
from csvanalyst.events import RunFinished
from csvanalyst.tui import jobs
from csvanalyst.tui.widgets.dataset_tree import DatasetTree
from csvanalyst.tui.widgets.status_bar import StatusBar
from csvanalyst.tui.widgets.thread_list import ThreadList
from csvanalyst.tui.widgets.turn_view import ErrorView, TurnView

if TYPE_CHECKING:
    from csvanalyst.core.records import MessageRecord
    from csvanalyst.tui.app import AnalystApp

COMMANDS = {
    "/dataset": "/dataset NAME switches dataset · /dataset add PATH [NAME] registers a CSV or folder",
    "/new": "start a new thread",
    "/threads": "/threads lists threads · /threads ID reopens one",
    "/sql": "/sql QUERY runs SQL directly (same as the SQL: prefix)",
    "/export": "/export FILE.csv|.json|.parquet writes the selected result (every row)",
    "/chart": "draw a chart of the selected result",
    "/runs": "/runs lists recent runs · /runs ID replays one",
    "/help": "keys and commands",
}


async def dispatch(app: AnalystApp, text: str) -> None:
    """Run one slash command; a mistake is shown inline with a hint."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        await _inline_error(app, "usage", f"Cannot read the command: {exc}.", "Close the quotes.")
        return
    name, args = words[0].lower(), words[1:]
    handler = _HANDLERS.get(name)
    if handler is None:
        await _inline_error(app, "usage", f"Unknown command {name}.", "Type /help for the list of commands.")
        return
    await handler(app, args, text)


async def _inline_error(app: AnalystApp, code: str, message: str, hint: str) -> None:
    await app.conversation.mount(ErrorView(code, message, hint))
    app.follow()


async def _help(app: AnalystApp, args: list[str], text: str) -> None:
    app.action_help()


async def _new(app: AnalystApp, args: list[str], text: str) -> None:
    await new_thread(app)


async def new_thread(app: AnalystApp) -> None:
    """An empty conversation; the next question starts a thread."""
    app.thread_id = None
    await app.clear_conversation()
    status = app.query_one(StatusBar)
    status.thread = ""
    status.reset_usage()
    refresh_threads(app)


async def _dataset(app: AnalystApp, args: list[str], text: str) -> None:
    if not args:
        app.action_focus_datasets()
    elif args[0] == "add" and len(args) in (2, 3):
        app.query_one(StatusBar).busy = f"adding {args[1]}…"
        app.start_job(jobs.add_dataset, Path(args[1]), args[2] if len(args) == 3 else None)
    elif len(args) == 1:
        app.start_job(jobs.load_dataset, DataScope(dataset=args[0]), switch=True)
    else:
        await _inline_error(app, "usage", "Usage: /dataset NAME, or /dataset add PATH [NAME].", "See /help.")


async def switch_dataset(app: AnalystApp, name: str) -> None:
    """Questions go to this dataset from now on, in a new thread."""
    app.scope = DataScope(dataset=name)
    app.query_one(StatusBar).dataset = name
    await new_thread(app)


async def _threads(app: AnalystApp, args: list[str], text: str) -> None:
    if args:
        show_thread(app, args[0])
    else:
        refresh_threads(app)
        app.action_focus_threads()


async def _sql(app: AnalystApp, args: list[str], text: str) -> None:
    query = text.strip()[len("/sql") :].strip()
    if not query:
        await _inline_error(app, "usage", "Usage: /sql SELECT …", "Or switch the prompt to SQL mode with Ctrl+T.")
        return
    await app.ask(f"SQL: {query}")


async def _export(app: AnalystApp, args: list[str], text: str) -> None:
    block = app.selected_block()
    if block is None or len(args) != 1:
        hint = "Ask a question first." if block is None else "Give one file name ending in .csv, .json or .parquet."
        await _inline_error(app, "usage", "Usage: /export FILE.csv|.json|.parquet (the selected result).", hint)
        return
    path = Path(args[0]).expanduser()
    if block.complete:
        app.start_job(jobs.export, path, block.columns, block.rows)
    else:
        app.start_job(_export_all, path, block.run.sql, app.scope, app.session)


def _export_all(post: jobs.Post, path: Path, sql: str, scope: DataScope, session: object) -> None:
    outcome = jobs.rerun(sql, scope, session)
    columns = [c.model_dump() for c in outcome.result.columns]
    jobs.export(post, path, columns, outcome.result.rows)


async def _chart(app: AnalystApp, args: list[str], text: str) -> None:
    from csvanalyst.viz.choose import default_chart

    block = app.selected_block()
    spec = default_chart(block.run) if block is not None else None
    if block is None or spec is None or not block.add_chart(spec):
        await _inline_error(
            app, "usage", "No chart fits the selected result.", "A chart needs a label or date column and a number."
        )


async def _runs(app: AnalystApp, args: list[str], text: str) -> None:
    if args:
        app.start_job(jobs.replay, args[0], app.session)
        return
    from textual.widgets import Static

    from csvanalyst.markup import escape

    records = app.session.records.recent_runs(limit=10)
    lines = [f"{r.id}  {r.status:<9} {escape(r.input[:70])}" for r in records] or ["no runs yet"]
    await app.conversation.mount(Static("\n".join(["[b]recent runs[/b] (/runs ID replays)", *lines]), classes="info"))
    app.follow()


_HANDLERS = {
    "/help": _help,
    "/new": _new,
    "/dataset": _dataset,
    "/threads": _threads,
    "/sql": _sql,
    "/export": _export,
    "/chart": _chart,
    "/runs": _runs,
}


def refresh_datasets(app: AnalystApp) -> None:
    from csvanalyst.catalog.registry import list_datasets

    names = [d.name for d in list_datasets()]
    tree = app.query_one(DatasetTree)
    tree.set_datasets(names, app.scope.dataset)
    if app.dataset_info is not None and app.dataset_info.name in names:
        tree.show_dataset(app.dataset_info)


def refresh_threads(app: AnalystApp) -> None:
    """The sidebar's threads anew; a store that cannot be read leaves the list as it was, and says so."""
    from csvanalyst.errors import CsvAnalystError

    try:
        records = app.session.records.recent_threads(limit=30)
    except CsvAnalystError as exc:
        app.notify(f"The thread list could not be refreshed: {exc.message}", severity="warning")
        return
    app.query_one(ThreadList).set_threads(records, app.thread_id)


def show_thread(app: AnalystApp, thread_id: str) -> None:
    """Reopen a stored thread: its questions, answers and the previews of their runs."""
    from csvanalyst.core.records import finished_event
    from csvanalyst.errors import CsvAnalystError

    try:
        transcript = app.session.records.transcript(thread_id)
    except CsvAnalystError as exc:
        app.call_later(_inline_error, app, exc.code, exc.message, exc.hint or "")
        return
    record, turns = transcript.thread, transcript.turns
    previews = {rid: finished_event(run) for rid, run in transcript.runs.items()}
    app.thread_id = record.id
    previous, app.scope = app.scope, DataScope.from_dict(record.scope)
    if app.scope != previous:  # the thread was on other data: the tree and the status bar follow it
        app.start_job(jobs.load_dataset, app.scope, switch=False)
    status = app.query_one(StatusBar)
    status.thread, status.dataset = record.id, app.scope.dataset or "files"
    status.reset_usage()
    app.call_later(_mount_thread, app, turns, previews)
    refresh_threads(app)


async def _mount_thread(
    app: AnalystApp, turns: list[tuple[MessageRecord, MessageRecord]], previews: dict[str, RunFinished]
) -> None:
    await app.clear_conversation()
    for question, answer in turns:
        view = TurnView(question.content)
        await app.conversation.mount(view)
        for run_id in answer.run_ids:
            view.add_run(previews[run_id])
        view.show_answer(answer.content)
        view.finish(answer.status)
    app.follow()
