"""CSV -> Parquet (zstd) for the columnar cache, never losing a row without saying so.

Each pass records bad rows in DuckDB's rejects table instead of failing on the first one. Short rows
and late type surprises are repaired (pad with NULLs, read the column as text) and reported in notes;
anything else (extra fields, broken quoting, bad bytes) is an InputError naming the first line.
The Parquet file is written under a temporary name and renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csvanalyst.catalog.buildlock import unique_temp
from csvanalyst.catalog.csvsql import literal, read_csv_sql
from csvanalyst.catalog.duckdb_errors import csv_error
from csvanalyst.catalog.precheck import MAX_LINE_BYTES
from csvanalyst.catalog.schema import ColumnInfo
from csvanalyst.catalog.sniff import CsvSpec
from csvanalyst.errors import InputError

Progress = Callable[[str, float], None]
MAX_PASSES = 4

_FATAL: dict[str, tuple[str, str]] = {
    "TOO MANY COLUMNS": (
        "has more fields than the header",
        "Fix that row (an extra delimiter, or a value containing the delimiter that is not quoted).",
    ),
    "UNQUOTED VALUE": (
        "has a quote character in a value that is not properly quoted",
        'Quote the whole value and double any quote inside it ("").',
    ),
    "INVALID STATE": (
        "has a quoted value that is never closed",
        'Close the quote (a literal quote inside a quoted value is written as "").',
    ),
    "INVALID ENCODING": ("is not valid UTF-8", "Re-save the file as UTF-8, or fix the bytes on that line."),
    "LINE SIZE OVER MAXIMUM": (
        f"is longer than the limit of {MAX_LINE_BYTES:,} bytes",
        "Check that line for a missing closing quote; trim or split the field.",
    ),
}


@dataclass
class Ingested:
    path: Path
    row_count: int
    columns: list[ColumnInfo]
    notes: list[str] = field(default_factory=list)


def ingest(spec: CsvSpec, dest: Path, original: Path, progress: Progress | None = None) -> Ingested:
    """Write the table `spec` describes to `dest` as Parquet; `original` is named in messages."""
    options = {**spec.options, "null_padding": False}
    columns = [c.model_copy() for c in spec.columns]
    notes: list[str] = []
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = unique_temp(dest)
    try:
        for _ in range(MAX_PASSES):
            options["columns"] = {c.name: c.type for c in columns}
            rejects = _copy(spec.path, options, tmp, original, progress)
            if not rejects:
                os.replace(tmp, dest)
                return Ingested(dest, _row_count(dest), columns, notes)
            _repair(rejects, options, columns, notes, original)
        raise InputError(f"{original} could not be read consistently.", hint="Check the file's format.")
    finally:
        tmp.unlink(missing_ok=True)


def _copy(
    path: Path, options: dict[str, Any], tmp: Path, original: Path, progress: Progress | None
) -> list[tuple[str, int, int, str | None]]:
    """One pass: COPY to Parquet; returns the rejects as (error type, count, first line, column)."""
    import duckdb

    source = read_csv_sql(path, {**options, "store_rejects": True})
    query = f"COPY (SELECT * FROM {source}) TO {literal(str(tmp))} (FORMAT parquet, COMPRESSION zstd)"
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = true")
        con.execute("SET enable_progress_bar_print = false")
        try:
            _run_with_progress(con, query, f"Reading {original.name}", progress)
        except duckdb.Error as exc:
            raise csv_error(exc, path, original) from exc
        return con.execute(
            """SELECT error_type::VARCHAR, count(DISTINCT line), min(line), any_value(column_name)
               FROM reject_errors GROUP BY ALL ORDER BY 3"""
        ).fetchall()


def _run_with_progress(con: Any, query: str, label: str, progress: Progress | None) -> None:
    """Poll DuckDB's query progress from a side thread while the COPY runs on this one."""
    if progress is None:
        con.execute(query)
        return
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.2):
            percent = con.query_progress()
            if percent >= 0:
                progress(label, min(percent / 100.0, 1.0))

    watcher = threading.Thread(target=poll, daemon=True)
    progress(label, 0.0)
    watcher.start()
    try:
        con.execute(query)
    finally:
        done.set()
        watcher.join()
    progress(label, 1.0)


def _repair(
    rejects: list[tuple[str, int, int, str | None]],
    options: dict[str, Any],
    columns: list[ColumnInfo],
    notes: list[str],
    original: Path,
) -> None:
    """Adjust options for repairable rejects, or raise for the first fatal one."""
    for kind, count, line, _column in rejects:
        if kind in _FATAL:
            what, hint = _FATAL[kind]
            more = f" ({count - 1:,} more lines like it)" if count > 1 else ""
            raise InputError(f"{original} line {line} {what}{more}.", hint=hint)
    for kind, count, line, column in rejects:
        if kind == "MISSING COLUMNS" and not options["null_padding"]:
            options["null_padding"] = True
            notes.append(f"{count:,} short rows padded with NULLs in {original.name} (first at line {line})")
        elif kind == "CAST":
            _widen(columns, column, line, notes, original)
        else:
            raise InputError(f"{original} line {line} could not be read ({kind.lower()}).", hint="Fix that line.")


def _widen(columns: list[ColumnInfo], name: str | None, line: int, notes: list[str], original: Path) -> None:
    for col in columns:
        if col.name == name and col.type != "VARCHAR":
            notes.append(
                f"column {name!r} of {original.name} read as text: line {line} has a value that is not {col.type}"
            )
            col.type = "VARCHAR"
            return
    raise InputError(f"{original} line {line}: a value does not fit column {name!r}.", hint="Fix that value.")


def _row_count(path: Path) -> int:
    import duckdb

    with duckdb.connect() as con:
        return int(con.execute(f"SELECT count(*) FROM read_parquet({literal(str(path))})").fetchone()[0])
