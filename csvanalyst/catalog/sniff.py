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
from csvanalyst.catalog.reader import NO_OPTIONS, ReaderOptions
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
    bytes_per_row: float = 0.0  # from the sampled head: turns bytes read into an estimate of rows read


def read_spec(path: Path, utf8_dir: Path, reader: ReaderOptions = NO_OPTIONS) -> CsvSpec:
    """Check and sniff `path`; other encodings are first re-encoded to a UTF-8 copy in `utf8_dir`.

    A UTF-8 copy (rather than DuckDB's `encoding` option) keeps every reader on one path: DuckDB's
    Python `read_csv` and its COPY only accept UTF-8, and its UTF-16 support misreads big-endian.
    """
    check_readable(path)
    kind = compression_of(path)
    plain = decompress(path, kind, utf8_dir / f"{table_stem(path)}.csv") if kind else path
    facts = inspect_file(plain, reader.encoding)
    facts.path = path
    readable = plain
    if facts.encoding != "utf-8":
        readable = transcode_to_utf8(plain, utf8_dir / f"{path.stem}.utf8.csv", facts.encoding)
    return sniff(readable, facts, reader)


def sniff(path: Path, facts: FileFacts, reader: ReaderOptions = NO_OPTIONS) -> CsvSpec:
    """Detect the dialect and types of `path` (whose head `facts` describes); raise InputError if unreadable.

    What the user gave in `reader` is taken as it is; the rest is detected around it."""
    import duckdb

    hints: dict[str, Any] = {"max_line_size": MAX_LINE_BYTES, **_given_hints(reader)}
    layout = guess_layout(facts.text, reader.delimiter, reader.quote)
    if layout.delimiter and reader.delimiter is None:
        hints["delim"] = layout.delimiter
    if layout.skip and reader.skip_rows is None:
        hints["skip"] = layout.skip
    with duckdb.connect() as con:
        found = _sniff(con, path, hints, facts)
        if "quote" in hints:
            found["Quote"], found["Escape"] = hints["quote"], hints["escape"]
        rows = _sample_rows(facts.text, found)
        decimal = _decimal_comma_hints(found, rows) if reader.decimal is None else {}
        if decimal:
            hints.update(decimal)
            found = _sniff(con, path, hints, facts)
    spec = _spec(path, found, hints, rows, facts)
    spec.notes.extend(_unsure_notes(layout, found, hints, reader, facts.path.name))
    if reader.quote is not None:
        spec.quotes_seen = True  # the user's quoting is kept, never swapped for plain text
    sample_lines = (facts.text.count("\n") + facts.text.count("\r") - facts.text.count("\r\n")) or 1
    spec.bytes_per_row = len(facts.text.encode("utf-8", "replace")) / sample_lines
    return spec


def _given_hints(reader: ReaderOptions) -> dict[str, Any]:
    """The user's reader options as `read_csv` options."""
    hints: dict[str, Any] = {}
    if reader.delimiter is not None:
        hints["delim"] = reader.delimiter
    if reader.quote is not None:
        hints["quote"] = reader.quote
        hints["escape"] = reader.escape if reader.escape is not None else reader.quote
    elif reader.escape is not None:
        hints["escape"] = reader.escape
    if reader.header is not None:
        hints["header"] = reader.header
    if reader.skip_rows is not None:
        hints["skip"] = reader.skip_rows
    if reader.decimal == ",":
        hints["decimal_separator"] = ","
    return hints


@dataclass
class Layout:
    """The delimiter guess from the head: how many non-blank lines agree with it, and the runner-up's share."""

    delimiter: str | None
    skip: int
    share: float = 1.0
    runner_up: float = 0.0


UNSURE_SHARE = 0.9  # below this share of agreeing lines, or with a runner-up this close, the guess is said


def guess_layout(text: str, delimiter: str | None = None, quote: str | None = None) -> Layout:
    """Delimiter and lines before the header: the candidate whose most common field count (above one)
    covers most lines wins, and the header is the first line with that count, so title or export
    lines above it (a preamble) are skipped instead of becoming the header or data."""
    lines = _LINES.findall(text[:_LAYOUT_CHARS])[:_LAYOUT_LINES]
    scored: list[tuple[float, int, str, int]] = []
    for candidate in (delimiter,) if delimiter else _CANDIDATES:
        counts = _field_counts(lines, candidate, quote)
        if not counts:
            continue
        width, freq = Counter(n for _, n in counts).most_common(1)[0]
        if width > 1:
            scored.append((freq / len(counts), width, candidate, next(start for start, n in counts if n == width)))
    if not scored:
        return Layout(None, 0)
    scored.sort(reverse=True)
    share, _, best, skip = scored[0]
    return Layout(best, skip, share, scored[1][0] if len(scored) > 1 else 0.0)


def _unsure_notes(layout: Layout, found: dict[str, Any], hints: dict[str, Any], reader: ReaderOptions, name: str):
    """Say what was chosen where the evidence was thin, and which option overrides it."""
    notes: list[str] = []
    delimiter = found["Delimiter"] or ","
    if (
        reader.delimiter is None
        and layout.delimiter
        and (layout.share < UNSURE_SHARE or layout.runner_up > layout.share - 0.1)
    ):
        notes.append(
            f"the delimiter of {name} is unclear; {delimiter!r} was chosen ({layout.share:.0%} of lines agree): "
            "give --delimiter to choose another"
        )
    if reader.skip_rows is None and found["SkipRows"]:
        notes.append(f"give --skip-rows N if the header of {name} is not line {int(found['SkipRows']) + 1}")
    if reader.decimal is None and hints.get("decimal_separator") == ",":
        notes.append(f"numbers in {name} are read with a decimal comma: give --decimal . to read them otherwise")
    return notes


def _field_counts(lines: list[str], delimiter: str, quote: str | None = None) -> list[tuple[int, int]]:
    """(first physical line index, field count) of each non-blank record, quotes respected."""
    if len(delimiter) > 1:  # Python's csv splits on one character only
        return [(i, line.count(delimiter) + 1) for i, line in enumerate(lines) if line.strip()]
    quoting = {"quoting": csv.QUOTE_NONE} if quote == "" else {"quotechar": quote or '"'}
    reader = csv.reader(lines, delimiter=delimiter, **quoting)
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
    escape = found["Escape"] or None
    delimiter = found["Delimiter"] or ","
    lines = _LINES.findall(text)  # records may end in \n, \r\n or a bare \r
    if len(delimiter) > 1:  # Python's csv splits on one character: stand in a unit separator
        lines, delimiter = [line.replace(delimiter, "\x1f") for line in lines], "\x1f"
    reader = csv.reader(
        lines,
        delimiter=delimiter,
        quotechar=quote,
        doublequote=escape in (None, quote),
        escapechar=None if escape in (None, quote) else escape,
        quoting=csv.QUOTE_NONE if found["Quote"] == "" else csv.QUOTE_MINIMAL,
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
        notes.append(
            f"{facts.path.name} has no header row; columns are named column_1 ... column_{len(names)}"
            + ("" if "header" in hints else " (give --header if its first line is one)")
        )
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
    quote = hints.get("quote", found["Quote"] or '"')
    options: dict[str, Any] = {
        "auto_detect": False,
        "delim": hints.get("delim", found["Delimiter"] or ","),
        "quote": quote,
        "escape": hints.get("escape", found["Escape"] or quote),
        "header": hints.get("header", bool(found["HasHeader"])),
        "skip": int(hints.get("skip", found["SkipRows"] or 0)),
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
