"""Options shared by every query command, so `sql`, `plan`, `python`, `ask`, `chat`, `datasets add` and
`runs replay` agree on flags. A group of flags that always travels together (how to read a file, where a
query reads and writes) is declared once and reaches a command as one object (`reader_options`,
`query_options`)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from csvanalyst.catalog.reader import ReaderOptions
    from csvanalyst.config import Settings
    from csvanalyst.core.query import DataScope

R = TypeVar("R")


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


@dataclass(frozen=True)
class QueryFlags:
    """Where a one-shot query reads and writes, and its limits: the flags `sql`, `plan` and `python` share."""

    dataset: str | None
    file: list[Path] | None
    format: OutputFormat | None
    output: Path | None
    max_rows: int | None
    timeout: float | None
    sandbox: str | None
    no_escape_formulas: bool

    def scope(self, reader: ReaderOptions | None = None) -> DataScope:
        from csvanalyst.catalog.reader import NO_OPTIONS
        from csvanalyst.core.query import DataScope

        return DataScope(dataset=self.dataset, files=tuple(self.file or ()), reader=reader or NO_OPTIONS)


# name: (the typer option, its default), in the order `--help` lists them
READER_FLAGS: dict[str, tuple[Any, Any]] = {
    "delimiter": (DelimiterOpt, None),
    "quote": (QuoteOpt, None),
    "escape": (EscapeOpt, None),
    "header": (HeaderOpt, None),
    "skip_rows": (SkipRowsOpt, None),
    "encoding": (EncodingOpt, None),
    "decimal": (DecimalOpt, None),
}
QUERY_FLAGS: dict[str, tuple[Any, Any]] = {
    "dataset": (DatasetOpt, None),
    "file": (FileOpt, None),
    "format": (FormatOpt, None),
    "output": (OutputOpt, None),
    "max_rows": (MaxRowsOpt, None),
    "timeout": (TimeoutOpt, None),
    "sandbox": (SandboxOpt, None),
    "no_escape_formulas": (NoEscapeOpt, False),
}


def _reader_from(**given: Any) -> ReaderOptions:
    from csvanalyst.catalog.reader import ReaderOptions  # pydantic loads when a command runs, not at start

    return ReaderOptions(**given)


def flag_group(
    parameter: str, flags: dict[str, tuple[Any, Any]], build: Callable[..., Any]
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """A decorator that puts `flags` in place of the command's `parameter` (Typer reads the command's
    `__signature__`) and calls the command with `parameter=build(**flags given)`."""

    def decorate(command: Callable[..., R]) -> Callable[..., R]:
        declared = inspect.signature(command).parameters.get(parameter)
        if declared is None:
            raise TypeError(f"{command.__qualname__} has no parameter {parameter!r} for its flags")
        # Typer needs the annotations resolved. The grouped parameter's own may name a type imported for type
        # checkers only (ReaderOptions: pydantic loads late); it is replaced, so None may stand in for it.
        stand_in = {declared.annotation: None} if str(declared.annotation).isidentifier() else {}
        signature = inspect.signature(command, eval_str=True, locals=stand_in)
        kind = declared.kind
        params: list[inspect.Parameter] = []
        for name, param in signature.parameters.items():
            if name != parameter:
                params.append(param)
                continue
            params += [
                inspect.Parameter(flag, kind, default=default, annotation=option)
                for flag, (option, default) in flags.items()
            ]

        @functools.wraps(command)
        def with_flags(*args: Any, **kwargs: Any) -> R:
            given = {flag: kwargs.pop(flag, default) for flag, (_, default) in flags.items()}
            return command(*args, **kwargs, **{parameter: build(**given)})

        grouped = signature.replace(parameters=params)
        with_flags.__signature__ = grouped  # type: ignore[attr-defined]
        with_flags.__annotations__ = {p.name: p.annotation for p in params} | {"return": grouped.return_annotation}
        return with_flags

    return decorate


reader_options = flag_group("reader", READER_FLAGS, _reader_from)
"""The seven reader flags (`--delimiter` … `--decimal`), handed to the command as `reader: ReaderOptions`,
checked as it is built (a bad value is a usage error naming its flag)."""

query_options = flag_group("flags", QUERY_FLAGS, QueryFlags)
"""`--dataset`, `--file`, `--format`, `--output`, `--max-rows`, `--timeout`, `--sandbox` and
`--no-escape-formulas`, handed to the command as `flags: QueryFlags`."""


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
