"""`csvanalyst threads list|show`: conversations kept across days."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from csvanalyst.cli.options import ListFormatOpt

if TYPE_CHECKING:
    from csvanalyst.core.records import Records

app = typer.Typer(help="Conversation threads.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _records() -> Records:
    from csvanalyst.config import get_settings
    from csvanalyst.core.records import Records

    return Records(get_settings())


@app.command("list")
def list_threads(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many recent threads.")] = 20,
    json_out: JsonOpt = False,
    format: ListFormatOpt = None,
) -> None:
    """Recent threads, most recently active first."""
    from csvanalyst.cli import render

    records = _records().recent_threads(limit=limit)
    columns = [{"name": n, "type": "VARCHAR"} for n in ("id", "updated (UTC)", "turns", "data", "title")]
    rows = [
        [r.id, r.updated_at[:19].replace("T", " "), r.turns, r.scope.get("dataset") or "files", r.title]
        for r in records
    ]
    render.emit_listing(columns, rows, [r.model_dump() for r in records], format, json_out)


@app.command("show")
def show(
    thread_id: Annotated[str, typer.Argument(help="Thread id or a unique prefix.")], json_out: JsonOpt = False
) -> None:
    """A thread's questions and answers, with the runs each answer used."""

    from csvanalyst.cli import render
    from csvanalyst.markup import escape

    record, messages = _records().thread_messages(thread_id)
    if json_out:
        render.print_json({"thread": record.model_dump(), "messages": [m.model_dump() for m in messages]})
        return
    console = render.stdout_console()
    console.print(f"[bold]thread {record.id}[/] {escape(record.title)}")
    for message in messages:
        who = "[cyan]you[/]" if message.role == "user" else "[green]analyst[/]"
        runs = f" [dim](runs: {', '.join(message.run_ids)})[/]" if message.run_ids else ""
        console.print(f"{who}: {escape(message.content)}{runs}")
