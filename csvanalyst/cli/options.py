"""Options shared by every query command, so `sql`, `plan` and `runs replay` agree on flags."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from csvanalyst.config import Settings


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


DatasetOpt = Annotated[
    str | None, typer.Option("--dataset", "-d", help="A registered dataset (see `csvanalyst datasets list`).")
]
FileOpt = Annotated[
    list[Path] | None,
    typer.Option("--file", "-f", help="A CSV file to query without registering it; repeatable."),
]
FormatOpt = Annotated[
    OutputFormat | None,
    typer.Option("--format", help="table (default on a terminal), csv, json, or parquet (with -o only)."),
]
ListFormatOpt = Annotated[
    OutputFormat | None, typer.Option("--format", help="table (the default), csv or json (same as --json).")
]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the whole result to this file (.csv, .json or .parquet)."),
]
MaxRowsOpt = Annotated[int | None, typer.Option("--max-rows", help="Row cap of the result.", min=1)]
TimeoutOpt = Annotated[float | None, typer.Option("--timeout", help="Wall-clock limit in seconds.", min=0.1)]
SandboxOpt = Annotated[
    str | None, typer.Option("--sandbox", help="Where the query runs: local, docker, kubernetes or microsandbox.")
]
TraceOpt = Annotated[
    bool | None,
    typer.Option(
        "--trace/--no-trace", help="Trace each turn to MLflow (default: MLFLOW_ENABLED); see `csvanalyst config`."
    ),
]
NoEscapeOpt = Annotated[
    bool,
    typer.Option("--no-escape-formulas", help="Keep text cells starting with = + - @ as they are in CSV output."),
]


StrictOpt = Annotated[
    bool,
    typer.Option("--strict", help="Refuse a file with rows that cannot be read instead of setting them aside."),
]

# Read by the console-script client before this module is imported (csvanalyst/daemon/client.py); here
# it only has to be accepted.
DaemonOpt = Annotated[
    bool | None,
    typer.Option(
        "--daemon/--no-daemon",
        help="Run in the warm background worker, starting it if needed, or in this process (default: the "
        "daemon setting, off unless set; docs/daemon.md).",
        show_default=False,
    ),
]


_READER = "Reading files"
DelimiterOpt = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        help="Field separator of the files (1-4 characters, or tab, space, ...); default: detected.",
        rich_help_panel=_READER,
    ),
]
QuoteOpt = Annotated[
    str | None,
    typer.Option(
        "--quote", help='Quote character ("" reads quotes as plain text); default: detected.', rich_help_panel=_READER
    ),
]
EscapeOpt = Annotated[
    str | None,
    typer.Option(
        "--escape", help="Escape character inside quotes (default: the quote doubled).", rich_help_panel=_READER
    ),
]
HeaderOpt = Annotated[
    bool | None,
    typer.Option(
        "--header/--no-header", help="Whether the first line is a header; default: detected.", rich_help_panel=_READER
    ),
]
SkipRowsOpt = Annotated[
    int | None,
    typer.Option("--skip-rows", help="Lines above the header to skip; default: detected.", rich_help_panel=_READER),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="Text encoding (utf-8, latin-1, cp1252, utf-16, ...); default: detected.",
        rich_help_panel=_READER,
    ),
]
DecimalOpt = Annotated[
    str | None,
    typer.Option("--decimal", help='Decimal mark of numbers, "." or ","; default: detected.', rich_help_panel=_READER),
]


def settings_with(
    max_rows: int | None = None,
    timeout: float | None = None,
    sandbox: str | None = None,
    trace: bool | None = None,
    strict: bool = False,
) -> Settings:
    """Settings with CLI flags on top of environment and defaults (flags win)."""
    from csvanalyst.config import load_settings

    overrides = {
        "max_rows": max_rows,
        "timeout_s": timeout,
        "sandbox": sandbox,
        "mlflow_enabled": trace,
        "strict": strict or None,
    }
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})
