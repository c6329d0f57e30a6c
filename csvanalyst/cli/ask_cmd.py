"""`csvanalyst ask`: one question in plain language, answered with its table and SQL, as events arrive."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from csvanalyst.cli.options import DatasetOpt, FileOpt, SandboxOpt, TimeoutOpt, settings_with
from csvanalyst.core.summary import events_summary as events_summary  # re-exported for ask_render


class Provider(StrEnum):
    auto = "auto"
    openai = "openai"
    anthropic = "anthropic"
    offline = "offline"


def ask(
    question: Annotated[str, typer.Argument(help="The question, `SQL: ...`, or - to read it from stdin.")],
    dataset: DatasetOpt = None,
    file: FileOpt = None,
    thread: Annotated[str | None, typer.Option("--thread", "-t", help="Continue this thread.")] = None,
    provider: Annotated[Provider, typer.Option("--provider", help="Which model answers.")] = Provider.auto,
    model: Annotated[str | None, typer.Option("--model", help="Model name for the provider.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document at the end.")] = False,
    events: Annotated[bool, typer.Option("--events", help="Print every event as one JSON line.")] = False,
    show_sql: Annotated[bool, typer.Option("--show-sql", help="Print the SQL of each run.")] = False,
    chart: Annotated[Path | None, typer.Option("--chart", help="Save the answer's chart (.png or .svg).")] = None,
    show_prompt: Annotated[
        bool, typer.Option("--show-prompt", help="Print exactly what would be sent to the model, and stop.")
    ] = False,
    no_samples: Annotated[bool, typer.Option("--no-samples", help="Send no sample values to the model.")] = False,
    sandbox: SandboxOpt = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Ask a question about a dataset in plain language."""
    from csvanalyst.core.query import DataScope
    from csvanalyst.core.session import Session
    from csvanalyst.errors import UsageError

    if json_out and events:
        raise UsageError("--json and --events are alternatives.", hint="Pick one output format.")
    text = sys.stdin.read() if question == "-" else question
    if not text.strip():
        raise UsageError(
            "The question is empty.", hint='Ask something, e.g. csvanalyst ask "how many orders" -d retail.'
        )
    session = Session(
        settings=settings_with(timeout=timeout, sandbox=sandbox),
        provider=provider.value,
        model=model,
        samples=not no_samples,
    )
    scope = DataScope(dataset=dataset, files=tuple(file or ()))
    if show_prompt:
        _print_prompt(session, text, scope, thread)
        return
    from csvanalyst.cli.ask_render import render_events

    stream = session.ask(text, scope, thread_id=thread)
    summary = render_events(stream, mode="events" if events else "json" if json_out else "live", show_sql=show_sql)
    if chart is not None:
        _save_chart(summary, chart)
    raise typer.Exit(_exit_code(summary))


def _exit_code(summary: dict[str, Any]) -> int:
    from csvanalyst.cli.diagnostics import turn_exit_code

    return turn_exit_code(summary["status"], summary.get("error_code"), bool(summary["runs"]))


def _save_chart(summary: dict[str, Any], path: Path) -> None:
    from csvanalyst.cli.diagnostics import note
    from csvanalyst.errors import UsageError
    from csvanalyst.viz.render import save_chart

    spec = summary.get("chart")
    if spec is None:
        raise UsageError("This answer has no chart to save.", hint="Ask for a trend or a breakdown by a category.")
    save_chart(spec, path)
    note(f"chart saved to {path}")


def _print_prompt(session: Any, question: str, scope: Any, thread: str | None) -> None:
    import json

    from csvanalyst.agent.prompts import build_messages
    from csvanalyst.agent.tools import tool_specs

    dataset = scope.resolve()
    history = session.history(thread) if thread else []
    messages = build_messages(dataset, question, history, samples=session.samples)
    payload = {
        "messages": [m.model_dump(exclude_defaults=True) for m in messages],
        "tools": [t.model_dump() for t in tool_specs()],
    }
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
