"""`csvanalyst sql` and `csvanalyst plan`: one query in, one result out, recorded as a run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from csvanalyst.cli.options import (
    DaemonOpt,
    OutputFormat,
    QueryFlags,
    StrictOpt,
    query_options,
    reader_options,
    settings_with,
)

if TYPE_CHECKING:
    from csvanalyst.catalog.reader import ReaderOptions
    from csvanalyst.core.query import QueryOutcome


@query_options
@reader_options
def sql(
    query: Annotated[str, typer.Argument(help="A read-only SQL query, or - to read it from stdin.")],
    flags: QueryFlags,
    strict: StrictOpt = False,
    *,
    reader: ReaderOptions,
    daemon: DaemonOpt = None,
) -> None:
    """Run one read-only SQL query (DuckDB dialect) over a dataset or CSV files."""
    text = sys.stdin.read() if query == "-" else query
    run_and_print("sql", text, flags, strict, reader)


@query_options
@reader_options
def plan(
    plan_file: Annotated[str, typer.Argument(help="A QueryPlan JSON file, or - to read it from stdin.")],
    flags: QueryFlags,
    strict: StrictOpt = False,
    *,
    reader: ReaderOptions,
    daemon: DaemonOpt = None,
) -> None:
    """Compile a QueryPlan (JSON) to SQL and run it."""
    text = sys.stdin.read() if plan_file == "-" else read_text_file(Path(plan_file))
    run_and_print("plan", text, flags, strict, reader)


def read_text_file(path: Path) -> str:
    from csvanalyst.errors import InputError

    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"Cannot read {path}: {exc}.", hint="Pass a readable UTF-8 JSON file, or - for stdin."
        ) from exc


def run_and_print(
    kind: str, text: str, flags: QueryFlags, strict: bool = False, reader: ReaderOptions | None = None
) -> None:
    from csvanalyst.cli import render
    from csvanalyst.cli.ingest_progress import ingest_progress
    from csvanalyst.core.query import execute

    chosen = render.choose_format(flags.format, flags.output)
    settings = settings_with(max_rows=flags.max_rows, timeout=flags.timeout, sandbox=flags.sandbox, strict=strict)
    with ingest_progress():
        outcome = execute(kind, text, flags.scope(reader), settings=settings)  # type: ignore[arg-type]
    show_outcome(outcome, chosen, flags.output, escape_formulas=not flags.no_escape_formulas)


def show_outcome(outcome: QueryOutcome, fmt: OutputFormat, output: Path | None, *, escape_formulas: bool) -> None:
    from csvanalyst.cli import render
    from csvanalyst.cli.diagnostics import note

    result = outcome.result
    payload = render.result_payload(
        outcome.run_id,
        [c.model_dump() for c in result.columns],
        result.rows,
        result.row_count,
        result.truncated,
    )
    if outcome.set_aside:
        payload["set_aside"] = outcome.set_aside
    total_ms = result.timings.get("total_ms", 0.0)
    footer = f"{result.row_count} row(s) · run {outcome.run_id} · {total_ms:.0f} ms"
    render.emit_result(payload, fmt, output, escape_formulas=escape_formulas, footer=footer)
    for line in outcome.notes:
        note(line)
    if result.truncated:
        note(f"result truncated at {result.row_count} rows; raise --max-rows to see more")
    if output is not None:
        note(f"wrote {result.row_count} row(s) to {output} (run {outcome.run_id})")
