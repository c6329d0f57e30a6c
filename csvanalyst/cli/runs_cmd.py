"""`csvanalyst runs list|show|replay`: every answer traceable to the run that produced it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from csvanalyst.cli.options import (
    FormatOpt,
    ListFormatOpt,
    NoEscapeOpt,
    OutputOpt,
    SandboxOpt,
    TimeoutOpt,
    settings_with,
)

if TYPE_CHECKING:
    from csvanalyst.core.records import Records

app = typer.Typer(help="Recorded runs: list, inspect, replay.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _records() -> Records:
    """Read-only, so listing and showing runs work on a full or read-only disk."""
    from csvanalyst.config import get_settings
    from csvanalyst.core.records import Records

    return Records(get_settings(), readonly=True)


@app.command("list")
def list_runs(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many recent runs.")] = 20,
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="Only runs on this dataset.")] = None,
    json_out: JsonOpt = False,
    format: ListFormatOpt = None,
) -> None:
    """List recent runs, newest first."""
    from csvanalyst.cli import render

    records = _records().recent_runs(limit=limit, dataset=dataset)
    full = [r.model_dump(exclude={"preview", "request"}) for r in records]
    rows = [
        [
            r.id,
            r.created_at[:19].replace("T", " "),
            r.dataset or "",
            r.kind,
            r.status,
            "" if r.row_count is None else r.row_count,
            f"{r.timings.get('total_ms', 0):.0f}",
            r.input if format == "csv" else _one_line(r.input),
        ]
        for r in records
    ]
    columns = [
        {"name": n, "type": t}
        for n, t in [
            ("id", "VARCHAR"),
            ("time (UTC)", "VARCHAR"),
            ("dataset", "VARCHAR"),
            ("kind", "VARCHAR"),
            ("status", "VARCHAR"),
            ("rows", "BIGINT"),
            ("ms", "BIGINT"),
            ("input", "VARCHAR"),
        ]
    ]
    render.emit_listing(columns, rows, full, format, json_out)


def _one_line(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@app.command("show")
def show(run_id: Annotated[str, typer.Argument(help="Run id or a unique prefix.")], json_out: JsonOpt = False) -> None:
    """Show one run's capsule: input, SQL, status, timings, result preview, error."""

    from csvanalyst.cli import render
    from csvanalyst.config import get_settings
    from csvanalyst.markup import escape
    from csvanalyst.observability.trace_links import trace_for_run

    record = _records().run(run_id)
    trace_id = trace_for_run(get_settings(), record.id)
    if json_out:
        render.print_json({**record.model_dump(), "trace_id": trace_id})
        return
    console = render.stdout_console()
    console.print(f"[bold]run {record.id}[/]  {record.created_at}  status=[bold]{record.status}[/]")
    console.print(
        f"dataset: {escape(record.dataset or '-')}  fingerprint: {record.fingerprint or '-'}  "
        f"executor: {record.executor or '-'}  kind: {record.kind}"
    )
    if trace_id:
        console.print(f"trace: {trace_id}")
    console.print("[bold]input[/]")
    console.print(escape(record.input))
    if record.compiled_sql:
        console.print("[bold]sql[/]")
        render.print_sql(console, record.compiled_sql)
    if record.timings:
        console.print("timings: " + ", ".join(f"{k}={v:.1f}" for k, v in record.timings.items()))
    if record.error:
        console.print(f"[red]error ({record.error.get('code')})[/]: {escape(str(record.error.get('message')))}")
    if record.columns:
        caption = f"{record.row_count} row(s){' (truncated)' if record.truncated else ''}; preview below"
        render.print_table(record.columns, record.preview, footer=caption)


@app.command("replay")
def replay(
    run_id: Annotated[str, typer.Argument(help="Run id or a unique prefix.")],
    format: FormatOpt = None,
    output: OutputOpt = None,
    timeout: TimeoutOpt = None,
    sandbox: SandboxOpt = None,
    no_escape_formulas: NoEscapeOpt = False,
) -> None:
    """Run a recorded query again, on the dataset's current data, as a new run."""
    from csvanalyst.cli import render
    from csvanalyst.cli.diagnostics import note
    from csvanalyst.cli.query_cmd import show_outcome
    from csvanalyst.core.replay import replay_run

    chosen = render.choose_format(format, output)
    settings = settings_with(timeout=timeout, sandbox=sandbox)
    outcome, original = replay_run(run_id, settings=settings)
    if original.fingerprint and original.fingerprint != outcome.dataset.fingerprint:
        note(
            f"the data changed since run {original.id} (fingerprint {original.fingerprint} → "
            f"{outcome.dataset.fingerprint}); results may differ"
        )
    show_outcome(outcome, chosen, output, escape_formulas=not no_escape_formulas)
