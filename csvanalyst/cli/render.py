"""Printing results and records with rich (tables) or as plain CSV/JSON for pipes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from csvanalyst.cli.options import OutputFormat

if TYPE_CHECKING:
    from rich.console import Console

TABLE_DISPLAY_ROWS = 200
PIPE_WIDTH = 1_000_000  # in a pipe nothing is wrapped or cut: ids must survive `| cut`, `| xargs`


def stdout_console() -> Console:
    """The console for results: the terminal's width on a terminal; in a pipe, no wrapping, no ellipsis."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(highlight=False, width=PIPE_WIDTH, soft_wrap=True)


def print_sql(console: Any, sql: str) -> None:
    """SQL highlighted on a terminal; in a pipe, as it is (no padding to the screen width). Either way
    control characters in it (from a model or a value) are shown as escapes."""
    from csvanalyst.core.terminal import printable

    sql = printable(sql)
    if console.is_terminal:
        from rich.syntax import Syntax

        console.print(Syntax(sql, "sql", word_wrap=True))
    else:
        console.file.write(sql.rstrip("\n") + "\n")


def result_payload(
    run_id: str, columns: list[dict[str, str]], rows: list[list[Any]], row_count: int, truncated: bool
) -> dict[str, Any]:
    """The stable JSON shape of `--format json` (documented in docs/output.md)."""
    return {
        "run_id": run_id,
        "columns": columns,
        "rows": rows,
        "row_count": row_count,
        "truncated": truncated,
    }


def choose_format(fmt: OutputFormat | None, output: Path | None) -> OutputFormat:
    """Explicit flag, else the output file's extension, else a table on a terminal and CSV in a pipe."""
    if fmt is not None:
        return fmt
    if output is not None:
        suffix = output.suffix.lower().lstrip(".")
        if suffix in ("csv", "json", "parquet"):
            return OutputFormat(suffix)
        from csvanalyst.errors import UsageError

        raise UsageError(
            f"Cannot tell the format of {output} from its extension.",
            hint="Use a .csv, .json or .parquet file name, or pass --format csv|json|parquet.",
        )
    return OutputFormat.table if sys.stdout.isatty() else OutputFormat.csv


def emit_result(
    payload: dict[str, Any],
    fmt: OutputFormat,
    output: Path | None,
    *,
    escape_formulas: bool,
    footer: str = "",
) -> None:
    from csvanalyst.core import export

    if fmt is OutputFormat.table:
        if output is not None:
            from csvanalyst.errors import UsageError

            raise UsageError("--format table cannot be written to a file.", hint="Use --format csv or json.")
        print_table(payload["columns"], payload["rows"], footer=footer)
        return
    if fmt is OutputFormat.parquet:
        if output is None:
            from csvanalyst.errors import UsageError

            raise UsageError("Parquet is a binary format for files.", hint="Write it with -o result.parquet.")
        from csvanalyst.core.parquet_export import write_parquet

        write_parquet(output, payload["columns"], payload["rows"])
        return
    if fmt is OutputFormat.json:
        text = export.to_json_document(payload) + "\n"
    else:
        names = [c["name"] for c in payload["columns"]]
        text = export.to_csv(names, payload["rows"], escape_formulas=escape_formulas)
    if output is None:
        sys.stdout.write(text)
    else:
        export.write_atomic(output, text)


def print_table(columns: list[dict[str, str]], rows: list[list[Any]], *, footer: str = "") -> None:
    from rich.table import Table

    from csvanalyst.config import get_settings
    from csvanalyst.core.numbers import is_numeric_type
    from csvanalyst.markup import escape

    thousands = get_settings().thousands_separator
    table = Table(show_lines=False, header_style="bold")
    for col in columns:
        justify: Literal["right", "left"] = "right" if is_numeric_type(col["type"]) else "left"
        table.add_column(f"{escape(col['name'])}\n[dim]{col['type'].lower()}[/]", justify=justify)
    for row in rows[:TABLE_DISPLAY_ROWS]:
        table.add_row(*[_cell(v, thousands=thousands) for v in row])
    console = stdout_console()
    console.print(table)
    if footer:
        console.print(f"[dim]{escape(footer)}[/]")
    if len(rows) > TABLE_DISPLAY_ROWS:
        from csvanalyst.cli.diagnostics import note

        note(f"showing {TABLE_DISPLAY_ROWS} of {len(rows)} rows; use --format csv or -o FILE for all of them")


def _cell(value: Any, *, thousands: bool) -> str:
    from csvanalyst.core.numbers import format_cell
    from csvanalyst.markup import escape

    if value is None:
        return "[dim]null[/]"
    return escape(format_cell(value, thousands=thousands))


def emit_listing(
    columns: list[dict[str, str]], rows: list[list[Any]], records: list[Any], fmt: OutputFormat | None, json_out: bool
) -> None:
    """A list command's output: a table (the default), CSV of the same columns, or the full records as JSON."""
    if fmt is OutputFormat.parquet:
        from csvanalyst.errors import UsageError

        raise UsageError("List commands print a table, csv or json.", hint="Use --format table|csv|json.")
    if json_out or fmt is OutputFormat.json:
        print_json(records)
    elif fmt is OutputFormat.csv:
        from csvanalyst.core import export

        sys.stdout.write(export.to_csv([c["name"] for c in columns], rows, escape_formulas=True))
    else:
        print_table(columns, rows)


def print_json(data: Any) -> None:
    import json

    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
