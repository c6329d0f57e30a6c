"""Read a sniffed CSV in full: every row is either in the table or set aside with its line, text and reason.

Rows are never realigned: a row whose field count differs from the header, or whose quoting is broken,
is set aside (DuckDB's reject tables record it, and `shifted` finds the extra-separator rows DuckDB
would take for a trailing delimiter) and counted. Two repairs keep good rows loadable:
a column whose later values do not fit the sniffed type is read as text, and an unmatched quote that
would swallow the following lines has its own line set aside so the rest are read again. Written
Parquet goes to a temporary name first, so a crash never leaves half a file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from csvanalyst.catalog import rejects, values
from csvanalyst.catalog.buildlock import unique_temp
from csvanalyst.catalog.csvsql import literal, quote_ident, read_csv_sql
from csvanalyst.catalog.duckdb_errors import csv_error
from csvanalyst.catalog.progress import ambient, in_bytes_and_rows, run_with_progress
from csvanalyst.catalog.schema import ColumnInfo, RowAccount, SetAsideRow
from csvanalyst.catalog.shifted import find_shifted
from csvanalyst.catalog.sniff import CsvSpec
from csvanalyst.errors import InputError

Progress = Callable[[str, float], None]
MAX_PASSES = 12


@dataclass
class Ingested:
    """The table as read: a Parquet file, or (`format` csv) the CSV itself with `options` that read it whole."""

    path: Path
    format: Literal["parquet", "csv"]
    columns: list[ColumnInfo]
    options: dict[str, Any]
    rows: RowAccount
    notes: list[str] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return self.rows.loaded


@dataclass
class _Load:
    spec: CsvSpec
    original: Path
    dest: Path
    progress: Progress | None
    write: bool
    source: Path = field(init=False)
    options: dict[str, Any] = field(init=False)
    columns: list[ColumnInfo] = field(init=False)
    notes: list[str] = field(init=False)
    dropped: list[SetAsideRow] = field(init=False)
    conversions: dict[str, values.Conversion] = field(init=False)
    write_asked: bool = field(init=False)

    def __post_init__(self) -> None:
        self.progress = ambient(self.progress)
        if self.progress is not None:
            size = self.spec.path.stat().st_size
            self.progress = in_bytes_and_rows(self.progress, size, self.spec.bytes_per_row)
        self.write_asked = self.write
        self.restart()

    def restart(self) -> None:
        """Back to the sniffed spec, with nothing read, repaired or set aside."""
        self.source = self.spec.path
        self.options = {**self.spec.options, "null_padding": False}
        self.columns = [c.model_copy() for c in self.spec.columns]
        self.conversions = dict(self.spec.conversions)
        self.write = self.write_asked or bool(self.conversions)  # only a copy holds the converted values
        self.notes, self.dropped = [], []

    def column_types(self) -> dict[str, str]:
        """The types `read_csv` reads: converted columns are text until they are converted."""
        return {c.name: "VARCHAR" if c.name in self.conversions else c.type for c in self.columns}


def ingest(spec: CsvSpec, dest: Path, original: Path, progress: Progress | None = None) -> Ingested:
    """Write the table `spec` describes to `dest` as Parquet; `original` is named in messages."""
    return _best(spec, original, dest, progress, write=True)


def check_in_place(spec: CsvSpec, dest: Path, original: Path, progress: Progress | None = None) -> Ingested:
    """Scan the CSV once; a clean file is then queried in place, one with set-aside rows from Parquet at `dest`."""
    return _best(spec, original, dest, progress, write=False)


def _best(spec: CsvSpec, original: Path, dest: Path, progress: Progress | None, *, write: bool) -> Ingested:
    """Read with RFC 4180 quoting; if that sets rows aside in a file whose sample showed no quoted value,
    also read its quotes as plain text and keep whichever reading sets fewer rows aside."""
    quoted = _run(_Load(spec, original, dest, progress, write=write))
    if spec.quotes_seen or not quoted.rows.set_aside:
        return quoted
    plain_spec = replace(spec, options={**spec.options, "quote": "", "escape": ""})
    plain_dest = dest.with_name(f"{dest.stem}.plain{dest.suffix}")
    plain = _run(_Load(plain_spec, original, plain_dest, progress, write=write))
    if plain.rows.set_aside >= quoted.rows.set_aside:
        _discard(plain)
        return quoted
    _discard(quoted)
    plain.notes.append(f"quote characters in {original.name} are read as plain text")
    return plain


def _discard(result: Ingested) -> None:
    if result.format == "parquet":
        result.path.unlink(missing_ok=True)
    if result.rows.rejects_path:
        Path(result.rows.rejects_path).unlink(missing_ok=True)


def _run(load: _Load) -> Ingested:
    """Read the file while a side thread looks for extra-separator rows; in the rare file that has some,
    read it again without their lines, so a clean file pays for the search only where a core is idle."""
    load.dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = unique_temp(load.dest)
    found_tmp = unique_temp(load.dest.with_name(f"{load.dest.stem}.rejects"))
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            search = pool.submit(find_shifted, load.source, dict(load.options), len(load.columns))
            try:
                found: rejects.Found | None = _read(load, tmp, found_tmp)
            except InputError:
                if not search.result():
                    raise
                found = None  # the read may have failed on a shifted row: read again without them
            shifted = search.result()
        if shifted:
            load.restart()
            load.source = rejects.drop_lines(load.source, shifted, load.dest)
            load.dropped = [s.row for s in shifted]
            found = _read(load, tmp, found_tmp)
        assert found is not None
        return _finish(load, found, tmp, found_tmp)
    finally:
        tmp.unlink(missing_ok=True)
        found_tmp.unlink(missing_ok=True)
        rejects.remove_copies(load.dest)


def _read(load: _Load, tmp: Path, found_tmp: Path) -> rejects.Found:
    """Full reads of `load.source` until no repair is left to make; a table with set-aside rows is a copy."""
    _check_conversions(load)
    for attempt in range(MAX_PASSES):
        load.options["columns"] = load.column_types()
        found = _pass(load, tmp if load.write else None, found_tmp)
        if attempt == MAX_PASSES - 1 or not _repaired(load, found):
            break
    if (found.count or load.dropped) and not load.write:
        load.write = True  # the table must hold exactly the rows a pass accepted
        found = _pass(load, tmp, found_tmp)
    return found


def _pass(load: _Load, tmp: Path | None, found_tmp: Path) -> rejects.Found:
    """One full read with rejects recorded; returns what was set aside (rows counted on the way)."""
    import duckdb

    source = values.converted_sql(read_csv_sql(load.source, {**load.options, "store_rejects": True}), load.conversions)
    if tmp is not None:
        query = f"COPY (SELECT * FROM {source}) TO {literal(str(tmp))} (FORMAT parquet, COMPRESSION zstd)"
    else:  # every column named, so every value is parsed and cast (count(*) alone skips that)
        counts = "".join(f", count({quote_ident(c.name)})" for c in load.columns)
        query = f"SELECT count(*){counts} FROM {source}"
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = true")
        con.execute("SET enable_progress_bar_print = false")
        try:
            run_with_progress(con, query, f"Reading {load.original.name}", load.progress)
            loaded = int(con.fetchall()[0][0])
        except duckdb.Error as exc:
            raise csv_error(exc, load.source, load.original) from exc
        return rejects.collect(con, loaded, [row.line for row in load.dropped], found_tmp)


def _check_conversions(load: _Load) -> None:
    """Keep as text a money or percentage column with a value of another form anywhere in the file."""
    if not load.conversions:
        return
    import duckdb

    load.options["columns"] = load.column_types()
    relation = read_csv_sql(load.source, {**load.options, "ignore_errors": True})
    with duckdb.connect() as con:
        try:
            first = con.execute(values.mismatches_sql(relation, load.conversions)).fetchone()
        except duckdb.Error as exc:
            raise csv_error(exc, load.source, load.original) from exc
    for (name, (kind, _)), value in zip(list(load.conversions.items()), first or (), strict=False):
        if value is not None:
            del load.conversions[name]
            next(c for c in load.columns if c.name == name).type = "VARCHAR"
            load.notes.append(values.kept_text(name, kind, str(value)))


def _repaired(load: _Load, found: rejects.Found) -> bool:
    """Widen columns with values of another type, or cut out lines whose quote swallows the next lines."""
    widened = False
    for name, line in found.casts:
        for col in load.columns:
            if col.name == name and col.type != "VARCHAR":
                load.notes.append(
                    f"column {name!r} read as text: line {line} has a value that is not {col.type.lower()}"
                )
                col.type = "VARCHAR"
                widened = True
    if widened:
        return True
    if found.spills:
        load.source = rejects.drop_lines(load.source, found.spills, load.dest)
        load.dropped = sorted([*load.dropped, *(s.row for s in found.spills)], key=lambda r: r.line)
        return True
    return False


def _finish(load: _Load, found: rejects.Found, tmp: Path, found_tmp: Path) -> Ingested:
    account = rejects.account(found, load.dropped, found_tmp, load.dest, load.spec.footer)
    if load.write:
        os.replace(tmp, load.dest)
        return Ingested(load.dest, "parquet", load.columns, load.options, account, load.notes)
    return Ingested(load.source, "csv", load.columns, load.options, account, load.notes)
