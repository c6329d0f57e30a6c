"""Dialect, header and types of a CSV file, turned into explicit `read_csv` options.

DuckDB's sniffer does the heavy lifting; around it we pin what it cannot know or gets wrong on small
samples (the delimiter seen in the header, decimal commas, our column names), so that the runner's
`read_csv(path, **options)` reads exactly the table we profiled, with auto-detection switched off.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csvanalyst.catalog import values
from csvanalyst.catalog.csvsql import read_csv_sql
from csvanalyst.catalog.duckdb_errors import csv_error
from csvanalyst.catalog.footer import without_footer
from csvanalyst.catalog.headers import two_line_header
from csvanalyst.catalog.layout import LINES, UNSURE_SHARE, Layout, guess_layout
from csvanalyst.catalog.names import unique_columns
from csvanalyst.catalog.precheck import MAX_LINE_BYTES, FileFacts, check_readable, inspect_file
from csvanalyst.catalog.reader import NO_OPTIONS, ReaderOptions
from csvanalyst.catalog.schema import ColumnInfo, SetAsideRow
from csvanalyst.catalog.streams import compression_of, decompress, table_stem
from csvanalyst.catalog.transcode import transcode_to_utf8
from csvanalyst.errors import InputError

_DECIMAL_COMMA = re.compile(r"^[-+]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
_PROBE_ROWS = 500
# Python's csv module stops at 128 KiB fields; ours may be as long as a line DuckDB accepts.
csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
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
    footer: list[SetAsideRow] = field(default_factory=list)  # lines after the table, cut from `path`
    conversions: dict[str, values.Conversion] = field(default_factory=dict)  # text columns read as numbers


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
    return sniff(readable, facts, reader, utf8_dir)


def sniff(path: Path, facts: FileFacts, reader: ReaderOptions = NO_OPTIONS, scratch: Path | None = None) -> CsvSpec:
    """Detect the dialect and types of `path` (whose head `facts` describes); raise InputError if unreadable.

    What the user gave in `reader` is taken as it is; the rest is detected around it. A footer (notes
    or a totals row after the table) is cut into a copy in `scratch`, which is then what is read."""
    import duckdb

    hints: dict[str, Any] = {"max_line_size": MAX_LINE_BYTES, **_given_hints(reader)}
    layout = guess_layout(facts.text, reader.delimiter, reader.quote)
    if layout.delimiter and reader.delimiter is None:
        hints["delim"] = layout.delimiter
    if layout.skip and reader.skip_rows is None:
        hints["skip"] = layout.skip
    with duckdb.connect() as con:
        found = _sniff(con, path, hints, facts)
        names = _two_line_header(facts.text, found, reader)
        if names:
            hints.update(header=False, skip=int(found["SkipRows"] or 0) + 2)
            found = _sniff(con, path, hints, facts)
        cut = without_footer(path, found, scratch) if scratch else None
        if cut:
            path, facts = cut.path, cut.facts(facts)
            found = _sniff(con, path, hints, facts)
        rows = _sample_rows(facts.text, found)
        decimal = _decimal_comma_hints(found, rows) if reader.decimal is None else {}
        if decimal:
            hints.update(decimal)
            found = _sniff(con, path, hints, facts)
    spec = _spec(path, found, hints, rows, facts, names)
    spec.notes.extend(_unsure_notes(layout, found, hints, reader, facts.path.name, bool(names)))
    if cut:
        spec.footer = cut.rows()
    values.apply(spec, rows[1:] if found["HasHeader"] else rows, found, facts.path.name, reader.decimal)
    if reader.quote is not None:
        spec.quotes_seen = True  # the user's quoting is kept, never swapped for plain text
    spec.bytes_per_row = _bytes_per_line(facts.text)
    return spec


def _two_line_header(text: str, found: dict[str, Any], reader: ReaderOptions) -> list[str] | None:
    """The joined names of a two-line header, unless the user said where the header is."""
    if reader.header is not None or reader.skip_rows is not None or not found["HasHeader"]:
        return None
    return two_line_header(_sample_rows(text, found))


def _bytes_per_line(text: str) -> float:
    """From the sampled head: turns bytes read into an estimate of rows read."""
    lines = (text.count("\n") + text.count("\r") - text.count("\r\n")) or 1
    return len(text.encode("utf-8", "replace")) / lines


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


def _unsure_notes(
    layout: Layout, found: dict[str, Any], hints: dict[str, Any], reader: ReaderOptions, name: str, joined: bool
) -> list[str]:
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
    if reader.skip_rows is None and found["SkipRows"] and not joined:
        notes.append(f"give --skip-rows N if the header of {name} is not line {int(found['SkipRows']) + 1}")
    if reader.decimal is None and hints.get("decimal_separator") == ",":
        notes.append(f"numbers in {name} are read with a decimal comma: give --decimal . to read them otherwise")
    return notes


def _sniff(con: Any, path: Path, hints: dict[str, Any], facts: FileFacts) -> dict[str, Any]:
    found = _sniff_once(con, path, hints, facts)
    if "quote" in hints:
        found["Quote"], found["Escape"] = hints["quote"], hints["escape"]
    return found


def _sniff_once(con: Any, path: Path, hints: dict[str, Any], facts: FileFacts) -> dict[str, Any]:
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
    lines = LINES.findall(text)  # records may end in \n, \r\n or a bare \r
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


def _spec(
    path: Path,
    found: dict[str, Any],
    hints: dict[str, Any],
    rows: list[list[str]],
    facts: FileFacts,
    joined: list[str] | None = None,
) -> CsvSpec:
    sniffed = [(c["name"], c["type"]) for c in found["Columns"]]
    notes = list(facts.notes)
    above = int(found["SkipRows"] or 0) - (2 if joined else 0)  # preamble lines above the header
    if joined and len(joined) == len(sniffed):
        names, renames = unique_columns(joined)
        notes.extend(renames)
        notes.append(
            f"the header of {facts.path.name} spans two lines ({above + 1} and {above + 2}); "
            "their names were joined (give --header and --skip-rows to read it otherwise)"
        )
    elif found["HasHeader"] and rows:
        names, renames = _header_names(rows[0], sniffed, facts)
        notes.extend(renames)
    else:
        names = [f"column_{i}" for i in range(1, len(sniffed) + 1)]
        notes.append(
            f"{facts.path.name} has no header row; columns are named column_1 ... column_{len(names)}"
            + ("" if "header" in hints else " (give --header if its first line is one)")
        )
    columns = [ColumnInfo(name=n, type=t) for n, (_, t) in zip(names, sniffed, strict=True)]
    if above > 0:
        notes.append(f"the first {above} line(s) of {facts.path.name}, above its header, were skipped")
    options = _options(found, hints, columns)
    if facts.complete and len([line for line in facts.text.splitlines() if line.strip()]) == 1:
        notes.append(f"{facts.path.name} has a header but no data rows")
    return CsvSpec(path=path, options=options, columns=columns, notes=notes, quotes_seen=bool(found["Quote"]))


def _header_names(header: list[str], sniffed: list[tuple[str, str]], facts: FileFacts) -> tuple[list[str], list[str]]:
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
