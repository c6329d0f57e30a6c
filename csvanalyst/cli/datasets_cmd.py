"""`csvanalyst datasets generate|list|show|add|remove|rejects`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from csvanalyst.cli.options import ListFormatOpt, reader_options

if TYPE_CHECKING:
    from csvanalyst.catalog.reader import ReaderOptions

app = typer.Typer(help="Demo and registered datasets.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command("generate")
def generate(
    dest: Annotated[
        Path | None,
        typer.Option("--dest", help="Folder to write the demo CSVs to (default: the demo folder)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives identical files.")] = 42,
) -> None:
    """(Re)generate the demo datasets deterministically."""
    from csvanalyst.catalog import demo
    from csvanalyst.cli.diagnostics import note

    written = demo.generate(dest, seed=seed)
    for path in written:
        note(f"wrote {path}")


@app.command("list")
def list_cmd(json_out: JsonOpt = False, format: ListFormatOpt = None) -> None:
    """List demo and registered datasets."""
    from csvanalyst.catalog import registry
    from csvanalyst.cli import render

    summaries = [_as_dict(s) for s in registry.list_datasets()]
    keys = list(summaries[0]) if summaries else ["name"]
    columns = [{"name": k, "type": "VARCHAR"} for k in keys]
    render.emit_listing(columns, [[s.get(k) for k in keys] for s in summaries], summaries, format, json_out)


@app.command("show")
def show(name: Annotated[str, typer.Argument(help="Dataset name.")], json_out: JsonOpt = False) -> None:
    """Show a dataset's tables, columns and profile (types, nulls, distinct counts, min/max, samples)."""

    from csvanalyst.catalog import registry
    from csvanalyst.cli import render
    from csvanalyst.markup import escape

    info = registry.get_dataset(name)
    if json_out:
        render.print_json(info.model_dump())
        return
    console = render.stdout_console()
    console.print(f"[bold]{escape(info.name)}[/] ({info.origin}) {escape(info.description)}")
    for table in info.tables:
        rows = "?" if table.row_count is None else f"{table.row_count:,}"
        console.print(f"\n[bold]{escape(table.name)}[/]  {rows} rows  [dim]{escape(table.original_file or '')}[/]")
        for line in table.notes:
            console.print(f"  [yellow]note:[/] {escape(line)}")
        render.print_table(_PROFILE_COLUMNS, [_profile_row(c) for c in table.columns])


_PROFILE_COLUMNS = [
    {"name": n, "type": t}
    for n, t in [
        ("column", "VARCHAR"),
        ("type", "VARCHAR"),
        ("nulls", "BIGINT"),
        ("distinct", "BIGINT"),
        ("min", "VARCHAR"),
        ("max", "VARCHAR"),
        ("samples", "VARCHAR"),
    ]
]


def _profile_row(column: Any) -> list[Any]:
    stats = column.stats
    if stats is None:
        return [column.name, column.type, None, None, None, None, ""]
    samples = ", ".join(_short(v) for v in stats.samples[:5])
    return [
        column.name,
        column.type,
        stats.null_count,
        stats.distinct_count,
        _short(stats.min),
        _short(stats.max),
        samples,
    ]


def _short(value: Any, width: int = 24) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("add")
@reader_options
def add(
    path: Annotated[Path, typer.Argument(help="A CSV file, or a folder of CSV files (one table per file).")],
    name: Annotated[str | None, typer.Option("--name", help="Dataset name (default: the file or folder name).")] = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Refuse a file with rows that cannot be read instead of setting them aside."),
    ] = False,
    *,
    reader: ReaderOptions,
) -> None:
    """Register a CSV file or folder: validate, ingest into the columnar cache, profile."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from csvanalyst.catalog import registry
    from csvanalyst.catalog.rejects import set_aside_notes
    from csvanalyst.cli.diagnostics import note
    from csvanalyst.config import get_settings

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("validating", total=1.0)

        def progress(message: str, fraction: float) -> None:
            bar.update(task, description=message, completed=fraction)

        info = registry.add_dataset(
            path, name=name, progress=progress, strict=strict or get_settings().strict, reader=reader
        )
    tables = ", ".join(f"{t.name} ({t.row_count:,} rows)" for t in info.tables if t.row_count is not None)
    note(f"registered dataset {info.name!r}: {tables}")
    for table in info.tables:
        for line in table.notes:
            note(f"{table.name}: {line}")
    for line in set_aside_notes(info, strict=False)[0]:
        note(line)


@app.command("rejects")
def rejects_cmd(
    name: Annotated[str, typer.Argument(help="A dataset name, or the path of a file queried with --file.")],
    json_out: JsonOpt = False,
) -> None:
    """List the rows of a dataset's files that could not be read: line, reason and raw text."""
    from csvanalyst.catalog.rejects import rejects_of
    from csvanalyst.cli import render

    found = rejects_of(name)
    if json_out:
        render.print_json(found)
        return
    columns = [
        {"name": n, "type": t}
        for n, t in [("table", "VARCHAR"), ("line", "BIGINT"), ("reason", "VARCHAR"), ("text", "VARCHAR")]
    ]
    render.print_table(columns, [[r["table"], r["line"], r["reason"], r["text"]] for r in found])


@app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="Dataset name.")]) -> None:
    """Unregister a dataset and delete its cache (the original CSV files are never touched)."""
    from csvanalyst.catalog import registry
    from csvanalyst.cli.diagnostics import note

    registry.remove_dataset(name)
    note(f"removed dataset {name!r} (its CSV files were left as they are)")


def _as_dict(summary: Any) -> dict[str, Any]:
    return summary.model_dump() if hasattr(summary, "model_dump") else dict(summary)
