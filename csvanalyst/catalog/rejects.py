"""The rows a CSV read set aside: collected from DuckDB's reject tables, explained, and kept on disk.

Line numbers are records of the original file (the header is line 1), also after lines were cut out
of a repaired copy: `dropped` holds the original numbers of those lines.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csvanalyst.catalog.csvsql import literal
from csvanalyst.catalog.precheck import MAX_LINE_BYTES
from csvanalyst.catalog.schema import DatasetInfo, RowAccount, SetAsideRow
from csvanalyst.errors import InputError

FIRST_SHOWN = 20
TEXT_CHARS = 4096
MAX_SPILLS_PER_PASS = 64
_QUOTE_KINDS = ("UNQUOTED VALUE", "INVALID STATE")

_REASON = f"""CASE kind
    WHEN 'MISSING COLUMNS' THEN 'fewer fields than the header (' || found || ' of ' || expected || ')'
    WHEN 'TOO MANY COLUMNS' THEN 'more fields than the header (' || found || ' for ' || expected || ')'
    WHEN 'UNQUOTED VALUE' THEN 'unmatched quote'
    WHEN 'INVALID STATE' THEN 'broken quoting or escape'
    WHEN 'INVALID ENCODING' THEN 'not valid UTF-8'
    WHEN 'LINE SIZE OVER MAXIMUM' THEN 'line longer than {MAX_LINE_BYTES:,} bytes'
    WHEN 'CAST' THEN 'a value of column ' || coalesce(column_name, '?') || ' does not fit its type'
    ELSE lower(kind) END"""


@dataclass
class Spill:
    """A set-aside row whose unmatched quote swallowed the lines after it; `offset` is its first byte."""

    row: SetAsideRow
    offset: int


@dataclass
class Found:
    loaded: int
    count: int = 0
    first: list[SetAsideRow] = field(default_factory=list)
    casts: list[tuple[str, int]] = field(default_factory=list)  # (column, first line) of type surprises
    spills: list[Spill] = field(default_factory=list)


def _original_line(dropped: list[int]) -> str:
    """SQL mapping a record number of the repaired copy back to the original file."""
    gaps = [line - index for index, line in enumerate(sorted(dropped))]
    return f"(line + len(list_filter({literal(gaps)}::BIGINT[], lambda g: g <= line)))" if gaps else "line"


def collect(con: Any, loaded: int, dropped: list[int], found_tmp: Path) -> Found:
    """Read `reject_errors` of the pass just run on `con`; the set-aside rows are written to `found_tmp`."""
    exists = "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'reject_errors'"
    if not con.execute(exists).fetchone()[0]:
        return Found(loaded=loaded)  # DuckDB creates the table only when a row was rejected
    con.execute(
        f"""CREATE TEMP TABLE set_aside AS
        SELECT DISTINCT ON (line) {_original_line(dropped)} AS line, line_byte_position - 1 AS start_byte,
            error_type::VARCHAR AS kind, column_name,
            regexp_extract(error_message, 'Expected Number of Columns: (\\d+)', 1) AS expected,
            regexp_extract(error_message, 'Found: (\\d+)', 1) AS found,
            left(csv_line, {TEXT_CHARS}) AS text, contains(csv_line, chr(10)) AS spans_lines
        FROM reject_errors ORDER BY line, error_type = 'CAST'"""
    )
    found = Found(loaded=loaded, count=int(con.execute("SELECT count(*) FROM set_aside").fetchone()[0]))
    if not found.count:
        return found
    found.casts = con.execute(
        """SELECT column_name, min(line) FROM reject_errors WHERE error_type = 'CAST'
           AND line NOT IN (SELECT line FROM reject_errors WHERE error_type <> 'CAST') GROUP BY 1"""
    ).fetchall()
    rows = f"SELECT line, {_REASON} AS reason, text, start_byte, spans_lines, kind FROM set_aside"
    found.first = [
        SetAsideRow(line=r[0], reason=r[1], text=r[2])
        for r in con.execute(f"{rows} ORDER BY line LIMIT {FIRST_SHOWN}").fetchall()
    ]
    kinds = ", ".join(literal(k) for k in _QUOTE_KINDS)
    spills = con.execute(
        f"{rows} WHERE spans_lines AND kind IN ({kinds}) ORDER BY line LIMIT {MAX_SPILLS_PER_PASS}"
    ).fetchall()
    found.spills = [Spill(SetAsideRow(line=r[0], reason=r[1], text=r[2].split("\n", 1)[0]), r[3]) for r in spills]
    con.execute(f"COPY (SELECT line, reason, text FROM ({rows})) TO {literal(str(found_tmp))} (FORMAT parquet)")
    return found


def account(
    found: Found, dropped: list[SetAsideRow], found_tmp: Path, dest: Path, footer: list[SetAsideRow]
) -> RowAccount:
    """The final tally; every set-aside row (cut-out lines included) goes to `<dest stem>.rejects.parquet`.
    The `footer` lines are no rows of the table: listed, not counted."""
    total = found.count + len(dropped)
    first = sorted([*found.first, *dropped], key=lambda r: r.line)[:FIRST_SHOWN]
    if not total:
        return RowAccount(loaded=found.loaded, footer=footer)
    path = dest.with_name(f"{dest.stem}.rejects.parquet")
    _write_all(found_tmp if found.count else None, dropped, path)
    return RowAccount(loaded=found.loaded, set_aside=total, first=first, rejects_path=str(path), footer=footer)


def _write_all(found_tmp: Path | None, dropped: list[SetAsideRow], path: Path) -> None:
    import duckdb

    parts = [f"SELECT * FROM read_parquet({literal(str(found_tmp))})"] if found_tmp else []
    if dropped:
        values = ", ".join(f"({r.line}, {literal(r.reason)}, {literal(r.text)})" for r in dropped)
        parts.append(f"SELECT * FROM (VALUES {values}) AS t(line, reason, text)")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with duckdb.connect() as con:
        union = " UNION ALL ".join(parts)
        con.execute(f"COPY (SELECT * FROM ({union}) ORDER BY line) TO {literal(str(tmp))} (FORMAT parquet)")
    os.replace(tmp, path)


def drop_lines(source: Path, spills: list[Spill], dest: Path) -> Path:
    """A copy of `source` without the first line of each spilled row; the copy sits next to `dest`."""
    copy = dest.with_name(f".{dest.stem}.repaired.{os.getpid()}.{len(list(dest.parent.glob('.*.repaired.*')))}.csv")
    with source.open("rb") as reader, copy.open("wb") as writer:
        position = 0
        for spill in sorted(spills, key=lambda s: s.offset):
            start = _line_start(reader, spill)
            _copy_range(reader, writer, position, start)
            position = _line_end(reader, start)
        reader.seek(position)
        while chunk := reader.read(4 * 1024 * 1024):
            writer.write(chunk)
    return copy


def _line_end(reader: Any, start: int) -> int:
    """The position after the line starting at `start`, which may end in \n, \r\n or a bare \r."""
    reader.seek(start)
    position = start
    while block := reader.read(64 * 1024):
        ends = [i for i in (block.find(b"\n"), block.find(b"\r")) if i >= 0]
        if ends:
            end = position + min(ends)
            reader.seek(end)
            return end + (2 if reader.read(2) == b"\r\n" else 1)
        position += len(block)
    return position


def _line_start(reader: Any, spill: Spill) -> int:
    """DuckDB's byte position of a row, checked against its text (and searched for nearby if off)."""
    head = spill.row.text.encode("utf-8")[:64]
    for candidate in (spill.offset, spill.offset + 1, spill.offset - 1):
        reader.seek(max(candidate, 0))
        if reader.read(len(head)) == head:
            return max(candidate, 0)
    reader.seek(max(spill.offset - 4096, 0))
    window = reader.read(8192)
    found = window.find(head)
    return max(spill.offset - 4096, 0) + found if found >= 0 else spill.offset


def _copy_range(reader: Any, writer: Any, start: int, end: int) -> None:
    reader.seek(start)
    left = max(end - start, 0)
    while left and (chunk := reader.read(min(left, 4 * 1024 * 1024))):
        writer.write(chunk)
        left -= len(chunk)


def remove_copies(dest: Path) -> None:
    """Repaired copies only live during one load."""
    for copy in dest.parent.glob(f".{dest.stem}.repaired.*"):
        copy.unlink(missing_ok=True)


def summary(rows: RowAccount | None, name: str, see: str) -> str | None:
    """The one line every front end shows when rows were set aside or lines after the table left out;
    None when the file was read whole."""
    if rows is None or not (rows.set_aside or rows.footer):
        return None
    parts = []
    if rows.set_aside:
        first = rows.first[0] if rows.first else None
        where = f" (first: line {first.line}, {first.reason})" if first else ""
        parts.append(f"{rows.set_aside:,} of {rows.total:,} rows of {name} could not be read{where}")
    if rows.footer:
        line = rows.footer[0]
        parts.append(
            f"{len(rows.footer)} line(s) after the table of {name} were left out as notes or totals, "
            f"not rows (first: line {line.line}, {line.text[:60]!r})"
        )
    return "; ".join(parts) + f"; see `csvanalyst datasets rejects {see}`"


def set_aside_notes(dataset: DatasetInfo, *, strict: bool) -> tuple[list[str], dict[str, int]]:
    """One line per table with set-aside rows, and their counts; in strict mode such a table is refused."""
    notes, tally = [], {}
    for table in dataset.tables:
        rows = table.rows
        if rows is None or not (rows.set_aside or rows.footer):
            continue
        see = table.original_file if dataset.origin == "file" else dataset.name
        line = summary(rows, Path(table.original_file or table.name).name, str(see))
        if not rows.set_aside:
            notes.append(str(line))  # a footer alone is no unreadable row: strict mode lets it pass
            continue
        if strict:
            raise InputError(
                f"Strict mode: {line}.",
                hint="Fix those rows, or run without --strict (strict = false) to set them aside and go on.",
            )
        notes.append(str(line))
        tally[table.name] = rows.set_aside
    return notes, tally


def reading_notes(dataset: DatasetInfo, *, strict: bool) -> tuple[list[str], dict[str, int]]:
    """What a query says about how its tables were read: for a `--file` input, each layout or value choice
    (a registered dataset said them once, when it was added), then the set-aside rows of every table."""
    layout = [line for table in dataset.tables for line in table.notes] if dataset.origin == "file" else []
    set_aside, tally = set_aside_notes(dataset, strict=strict)
    return list(dict.fromkeys([*layout, *set_aside])), tally


def rejects_of(name: str) -> list[dict[str, Any]]:
    """Every set-aside row of a registered dataset, or of a file (a path) queried with `--file`."""
    import duckdb

    from csvanalyst.catalog import registry

    path = Path(name).expanduser()
    info = registry.file_dataset([path], profiled=False) if path.is_file() else registry.get_dataset(name)
    found: list[dict[str, Any]] = []
    for table in info.tables:
        footer = table.rows.footer if table.rows else []
        if table.rows is None or not table.rows.rejects_path:
            found.extend({"table": table.name, "line": r.line, "reason": r.reason, "text": r.text} for r in footer)
            continue
        with duckdb.connect() as con:
            query = f"SELECT line, reason, text FROM read_parquet({literal(table.rows.rejects_path)}) ORDER BY line"
            found.extend(
                {"table": table.name, "line": r[0], "reason": r[1], "text": r[2]} for r in con.execute(query).fetchall()
            )
        found.extend({"table": table.name, "line": r.line, "reason": r.reason, "text": r.text} for r in footer)
    return found
