"""Printing results and records with rich (tables) or as plain CSV/JSON for pipes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from csvanalyst.cli.options import OutputFormat

TABLE_DISPLAY_ROWS = 200


def result_payload(
    run_id: str, columns: list[dict[str, str]], rows: list[list[Any]], row_count: int, truncated: bool
) -> dict[str, Any]:
    """The stable JSON shape of `--format json` (documented in README.md)."""
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
        if suffix in ("csv", "json"):
            return OutputFormat(suffix)
        from csvanalyst.errors import UsageError

        raise UsageError(
            f"Cannot tell the format of {output} from its extension.",
            hint="Use a .csv or .json file name, or pass --format csv|json.",
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
    from rich.console import Console
    from rich.table import Table

    from csvanalyst.markup import escape

    table = Table(show_lines=False, header_style="bold")
    for col in columns:
        numeric = col["type"].split("(")[0] in _NUMERIC
        table.add_column(
            f"{escape(col['name'])}\n[dim]{col['type'].lower()}[/]", justify="right" if numeric else "left"
        )
    for row in rows[:TABLE_DISPLAY_ROWS]:
        table.add_row(*[_cell(v) for v in row])
    console = Console()
    console.print(table)
    if footer:
        console.print(f"[dim]{escape(footer)}[/]")
    if len(rows) > TABLE_DISPLAY_ROWS:
        from csvanalyst.cli.diagnostics import note

        note(f"showing {TABLE_DISPLAY_ROWS} of {len(rows)} rows; use --format csv or -o FILE for all of them")


_NUMERIC = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UBIGINT",
    "UINTEGER",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "USMALLINT",
    "UTINYINT",
    "UHUGEINT",
    "REAL",
}


def _cell(value: Any) -> str:
    from csvanalyst.markup import escape

    if value is None:
        return "[dim]null[/]"
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) >= 1e15 else f"{value:.6g}"
    return escape(str(value))


def print_json(data: Any) -> None:
    import json

    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
