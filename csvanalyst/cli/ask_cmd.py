"""`csvanalyst ask`: one question in plain language, answered with its table and SQL, as events arrive."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from csvanalyst.cli.options import (
    DaemonOpt,
    DatasetOpt,
    FileOpt,
    OutputOpt,
    SandboxOpt,
    StrictOpt,
    TimeoutOpt,
    TraceOpt,
    reader_options,
    settings_with,
)
from csvanalyst.core.summary import events_summary as events_summary  # re-exported for ask_render

if TYPE_CHECKING:
    from csvanalyst.catalog.reader import ReaderOptions


class Provider(StrEnum):
    auto = "auto"
    openai = "openai"
    anthropic = "anthropic"
    offline = "offline"


@reader_options
def ask(
    question: Annotated[str, typer.Argument(help="The question, `SQL: ...`, or - to read it from stdin.")],
    dataset: DatasetOpt = None,
    file: FileOpt = None,
    thread: Annotated[
        str | None, typer.Option("--thread", "-t", help="Continue this thread (id, prefix, last 4+ chars, or last).")
    ] = None,
    continue_last: Annotated[
        bool, typer.Option("--continue", "-c", help="Continue the most recent thread, on its data.")
    ] = False,
    provider: Annotated[Provider, typer.Option("--provider", help="Which model answers.")] = Provider.auto,
    model: Annotated[str | None, typer.Option("--model", help="Model name for the provider.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document at the end.")] = False,
    events: Annotated[bool, typer.Option("--events", help="Print every event as one JSON line.")] = False,
    show_sql: Annotated[bool, typer.Option("--show-sql", help="Print the SQL of each run.")] = False,
    chart: Annotated[Path | None, typer.Option("--chart", help="Save the answer's chart (.png or .svg).")] = None,
    output: OutputOpt = None,
    show_prompt: Annotated[
        bool, typer.Option("--show-prompt", help="Print exactly what would be sent to the model, and stop.")
    ] = False,
    no_samples: Annotated[bool, typer.Option("--no-samples", help="Send no sample values to the model.")] = False,
    sandbox: SandboxOpt = None,
    timeout: TimeoutOpt = None,
    trace: TraceOpt = None,
    strict: StrictOpt = False,
    *,
    reader: ReaderOptions,
    daemon: DaemonOpt = None,
) -> None:
    """Ask a question about a dataset in plain language."""
    from csvanalyst.core.query import DataScope
    from csvanalyst.core.session import Session
    from csvanalyst.errors import UsageError

    if json_out and events:
        raise UsageError("--json and --events are alternatives.", hint="Pick one output format.")
    if output is not None:
        from csvanalyst.cli.render import choose_format

        choose_format(None, output)  # a bad extension is told before the question runs
    text = sys.stdin.read() if question == "-" else question
    if not text.strip():
        raise UsageError(
            "The question is empty.", hint='Ask something, e.g. csvanalyst ask "how many orders" -d retail.'
        )
    session = Session(
        settings=settings_with(timeout=timeout, sandbox=sandbox, trace=trace, strict=strict),
        provider=provider.value,
        model=model,
        samples=not no_samples,
    )
    scope = DataScope(dataset=dataset, files=tuple(file or ()), reader=reader)
    if continue_last and thread:
        raise UsageError("--continue and --thread are alternatives.", hint="--continue is --thread last.")
    if continue_last or thread:
        thread, asked_on = session.thread_scope(thread or "last")
        scope = scope if dataset or file else asked_on
    if show_prompt:
        _print_prompt(session, text, scope, thread)
        return
    from csvanalyst.cli.ask_render import render_events
    from csvanalyst.cli.ingest_progress import ingest_progress

    with ingest_progress():
        scope.resolve()  # read (and cache) the files here, with progress, before the answer streams
    stream = session.ask(text, scope, thread_id=thread)
    summary = render_events(stream, mode="events" if events else "json" if json_out else "live", show_sql=show_sql)
    if output is not None:
        _write_result(summary, output, session)
    if chart is not None:
        _save_chart(summary, chart)
    if summary.get("trace_id") and not (json_out or events):
        from csvanalyst.cli.diagnostics import note

        note(f"trace {summary['trace_id']}")
    raise typer.Exit(_exit_code(summary))


def _write_result(summary: dict[str, Any], path: Path, session: Any) -> None:
    """The whole result of the answer's last run, in the file's format. The events carry only the first
    rows, so a longer result is run again (as a new, recorded run) rather than written short."""
    from csvanalyst.cli import render
    from csvanalyst.cli.diagnostics import note
    from csvanalyst.errors import UsageError

    fmt = render.choose_format(None, path)
    if not summary["runs"]:
        raise UsageError(f"Nothing written to {path}: the answer has no result table.", hint="Ask for data.")
    run = summary["runs"][-1]
    columns, rows, run_id = run["columns"], run["rows"], run["run_id"]
    if len(rows) < run["row_count"]:
        from csvanalyst.core.replay import replay_run

        outcome, _ = replay_run(run_id, settings=session.settings)
        columns, rows = [c.model_dump() for c in outcome.result.columns], outcome.result.rows
        note(f"ran run {run_id} again as run {outcome.run_id} to write all {len(rows)} rows")
        run_id = outcome.run_id
    payload = render.result_payload(run_id, columns, rows, len(rows), run["truncated"])
    render.emit_result(payload, fmt, path, escape_formulas=True)
    note(f"wrote {len(rows)} row(s) to {path} (run {run_id})")


def _exit_code(summary: dict[str, Any]) -> int:
    from csvanalyst.cli.diagnostics import turn_exit_code

    return turn_exit_code(summary["status"], summary.get("error_code"), bool(summary["runs"]))


def _save_chart(summary: dict[str, Any], path: Path) -> None:
    """The answer's chart (the model's, else the default one), or why no chart fits (exit 8)."""
    from csvanalyst.cli.diagnostics import note
    from csvanalyst.errors import NoChartError
    from csvanalyst.viz.render import save_chart

    if summary["status"] != "answered":
        note(f"no chart saved: the question was not answered ({summary['status']})")
        return
    spec = summary.get("chart")
    if spec is None:
        raise NoChartError(f"No chart saved to {path}: {_no_chart_reason(summary)}", hint=_NO_CHART_HINT)
    save_chart(spec, path)
    note(f"chart saved to {path}")


_NO_CHART_HINT = "A chart needs a date or a label (and at most one group) and one number, in under 200 rows."


def _no_chart_reason(summary: dict[str, Any]) -> str:
    from csvanalyst.events import RunFinished
    from csvanalyst.viz.choose import choose_chart

    if not summary["runs"]:
        return "the answer has no result table to chart."
    run = RunFinished(status="ok", **summary["runs"][-1])
    return choose_chart(run).reason or "no chart fits this result."


def _print_prompt(session: Any, question: str, scope: Any, thread: str | None) -> None:
    import json

    payload = session.first_request(question, scope, thread)
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
