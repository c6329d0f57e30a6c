"""Dialect, header and types of a CSV file, turned into explicit `read_csv` options.

DuckDB's sniffer does the heavy lifting; around it we pin what it cannot know or gets wrong on small
samples (the delimiter seen in the header, decimal commas, our column names), so that the runner's
`read_csv(path, **options)` reads exactly the table we profiled, with auto-detection switched off.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csvanalyst.catalog.csvsql import read_csv_sql
from csvanalyst.catalog.duckdb_errors import csv_error
from csvanalyst.catalog.names import unique_columns
from csvanalyst.catalog.precheck import MAX_LINE_BYTES, FileFacts, check_readable, inspect_file
from csvanalyst.catalog.schema import ColumnInfo
from csvanalyst.catalog.streams import compression_of, decompress, table_stem
from csvanalyst.catalog.transcode import transcode_to_utf8
from csvanalyst.errors import InputError

_CANDIDATES = (",", ";", "\t", "|")
_DECIMAL_COMMA = re.compile(r"^[-+]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
_PROBE_ROWS = 500
_LAYOUT_LINES = 200
_LAYOUT_CHARS = 1024 * 1024
# Python's csv module stops at 128 KiB fields; ours may be as long as a line DuckDB accepts.
csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_FIELDS = "Delimiter, Quote, Escape, Comment, SkipRows, HasHeader, Columns, DateFormat, TimestampFormat"


@dataclass
class CsvSpec:
    """How to read one CSV file: `path` is what DuckDB opens (perhaps a UTF-8 copy of the original)."""

    path: Path
    options: dict[str, Any]
    columns: list[ColumnInfo]
    notes: list[str] = field(default_factory=list)
    quotes_seen: bool = True  # the sniffer found quoted values; if not, quotes may be plain text


def read_spec(path: Path, utf8_dir: Path) -> CsvSpec:
    """Check and sniff `path`; other encodings are first re-encoded to a UTF-8 copy in `utf8_dir`.

    A UTF-8 copy (rather than DuckDB's `encoding` option) keeps every reader on one path: DuckDB's
    Python `read_csv` and its COPY only accept UTF-8, and its UTF-16 support misreads big-endian.
    """
    check_readable(path)
    kind = compression_of(path)
    plain = decompress(path, kind, utf8_dir / f"{table_stem(path)}.csv") if kind else path
    facts = inspect_file(plain)
    facts.path = path
    readable = plain
    if facts.encoding != "utf-8":
        readable = transcode_to_utf8(plain, utf8_dir / f"{path.stem}.utf8.csv", facts.encoding)
    return sniff(readable, facts)


def sniff(path: Path, facts: FileFacts) -> CsvSpec:
    """Detect the dialect and types of `path` (whose head `facts` describes); raise InputError if unreadable."""
    import duckdb

    hints: dict[str, Any] = {"max_line_size": MAX_LINE_BYTES}
    delim, skip = guess_layout(facts.text)
    if delim:
        hints["delim"] = delim
    if skip:
        hints["skip"] = skip
    with duckdb.connect() as con:
        found = _sniff(con, path, hints, facts)
        rows = _sample_rows(facts.text, found)
        decimal = _decimal_comma_hints(found, rows)
        if decimal:
            hints.update(decimal)
            found = _sniff(con, path, hints, facts)
    return _spec(path, found, hints, rows, facts)


def guess_layout(text: str) -> tuple[str | None, int]:
    """(delimiter, lines before the header): the candidate whose most common field count (above one)
    covers most lines wins, and the header is the first line with that count, so title or export
    lines above it (a preamble) are skipped instead of becoming the header or data."""
    lines = _LINES.findall(text[:_LAYOUT_CHARS])[:_LAYOUT_LINES]
    best: tuple[float, int, str | None, int] = (0.0, 1, None, 0)
    for candidate in _CANDIDATES:
        counts = _field_counts(lines, candidate)
        if not counts:
            continue
        width, freq = Counter(n for _, n in counts).most_common(1)[0]
        share = freq / len(counts)
        if width > 1 and (share, width) > best[:2]:
            best = (share, width, candidate, next(start for start, n in counts if n == width))
    return best[2], best[3]


def _field_counts(lines: list[str], delimiter: str) -> list[tuple[int, int]]:
    """(first physical line index, field count) of each non-blank record, quotes respected."""
    reader = csv.reader(lines, delimiter=delimiter)
    counts: list[tuple[int, int]] = []
    start = 0
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                counts.append((start, len(row)))
            start = reader.line_num
    except csv.Error:
        pass  # a broken quote ends the sample here; what was read still counts
    return counts


def _sniff(con: Any, path: Path, hints: dict[str, Any], facts: FileFacts) -> dict[str, Any]:
    """Run DuckDB's sniffer, told to skip bad rows: a few ragged or broken lines must not make it take
    the header for data or pick another column count (they are set aside when the file is read)."""
    query = f"SELECT {_FIELDS} FROM sniff_csv{read_csv_sql(path, {**hints, 'ignore_errors': True})[len('read_csv') :]}"
    try:
        row = con.execute(query).fetchone()
    except Exception as exc:  # duckdb raises several unrelated classes for one bad file
        raise csv_error(exc, path, facts.path) from exc
    keys = [k.strip() for k in _FIELDS.split(",")]
    return {k: (None if v == "(empty)" else v) for k, v in zip(keys, row, strict=True)}


def _sample_rows(text: str, found: dict[str, Any]) -> list[list[str]]:
    """The first rows of the sample parsed with the sniffed dialect (header included)."""
    quote = found["Quote"] or '"'
    escape = found["Escape"]
    reader = csv.reader(
        _LINES.findall(text),  # records may end in \n, \r\n or a bare \r
        delimiter=found["Delimiter"] or ",",
        quotechar=quote,
        doublequote=escape in (None, quote),
        escapechar=None if escape in (None, quote) else escape,
    )
    rows: list[list[str]] = []
    try:
        for _ in range(int(found["SkipRows"] or 0)):
            next(reader, None)
        for row in reader:
            rows.append(row)
            if len(rows) > _PROBE_ROWS:
                break
    except csv.Error:
        pass
    return rows


def _decimal_comma_hints(found: dict[str, Any], rows: list[list[str]]) -> dict[str, str]:
    """`1.234,56` / `3,5` in a `;`-separated file are numbers; DuckDB does not detect that itself."""
    if (found["Delimiter"] or ",") == "," or len(rows) < 2:
        return {}
    text_cols = [i for i, col in enumerate(found["Columns"]) if col["type"] == "VARCHAR"]
    thousands = False
    for index in text_cols:
        values = [r[index].strip() for r in rows[1:] if index < len(r) and r[index].strip()]
        if values and all(_DECIMAL_COMMA.match(v) for v in values) and any("," in v for v in values):
            thousands = thousands or any("." in v for v in values)
            return {"decimal_separator": ",", **({"thousands": "."} if thousands else {})}
    return {}


def _spec(path: Path, found: dict[str, Any], hints: dict[str, Any], rows: list[list[str]], facts: FileFacts) -> CsvSpec:
    sniffed = [(c["name"], c["type"]) for c in found["Columns"]]
    notes = list(facts.notes)
    if found["HasHeader"] and rows:
        names, renames = _header_names(rows[0], sniffed, facts)
        notes.extend(renames)
    else:
        names = [f"column_{i}" for i in range(1, len(sniffed) + 1)]
        notes.append(f"{facts.path.name} has no header row; columns are named column_1 ... column_{len(names)}")
    columns = [ColumnInfo(name=n, type=t) for n, (_, t) in zip(names, sniffed, strict=True)]
    if found["SkipRows"]:
        notes.append(f"the first {found['SkipRows']} line(s) of {facts.path.name}, above its header, were skipped")
    options = _options(found, hints, columns)
    if facts.complete and len([line for line in facts.text.splitlines() if line.strip()]) == 1:
        notes.append(f"{facts.path.name} has a header but no data rows")
    return CsvSpec(path=path, options=options, columns=columns, notes=notes, quotes_seen=bool(found["Quote"]))


def _header_names(header: list[str], sniffed: list[tuple[str, str]], facts: FileFacts) -> tuple[list, list]:
    if len(header) < len(sniffed):
        raise InputError(
            f"{facts.path} has rows with more fields ({len(sniffed)}) than its header ({len(header)}).",
            hint="Fix those rows (an extra delimiter, or a value containing one that is not quoted).",
        )
    if len(header) > len(sniffed):
        return [n for n, _ in sniffed], []
    return unique_columns(header)


ISO_FORMATS = frozenset({"%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"})


def _options(found: dict[str, Any], hints: dict[str, Any], columns: list[ColumnInfo]) -> dict[str, Any]:
    """Explicit options, so the full read sees exactly the dialect and types sniffed here."""
    # RFC 4180 quoting even when the sniffer saw none: a stray quote then sets its own line aside
    # (see ingest), where reading quotes as text would split every properly quoted value.
    quote = found["Quote"] or '"'
    options: dict[str, Any] = {
        "auto_detect": False,
        "delim": found["Delimiter"] or ",",
        "quote": quote,
        "escape": found["Escape"] or quote,
        "header": bool(found["HasHeader"]),
        "skip": int(found["SkipRows"] or 0),
        "columns": {c.name: c.type for c in columns},
        "null_padding": False,
    }
    if found["Comment"]:
        options["comment"] = found["Comment"]
    for key in ("decimal_separator", "thousands"):
        if key in hints:
            options[key] = hints[key]
    # An explicit ISO format only slows DuckDB's reader down (its ISO parser is the fast path).
    if found["DateFormat"] and found["DateFormat"] not in ISO_FORMATS:
        options["dateformat"] = found["DateFormat"]
    if found["TimestampFormat"] and found["TimestampFormat"] not in ISO_FORMATS:
        options["timestampformat"] = found["TimestampFormat"]
    return options
