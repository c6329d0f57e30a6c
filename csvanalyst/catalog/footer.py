"""Lines after the table that are not rows of it: notes and source lines, and a totals row.

Spreadsheet exports often end with "Source: ...", "Note: ..." or a totals row. Read as data they
become rows with one filled cell, or a row that doubles every sum. They are recognised by their
shape only, never by their words:
- a note is a line with one non-empty cell that is not a number, at the end of the file, either with
  another field count than the table or separated from the table by a blank line;
- a totals row is the last row, whose numeric cells each equal the sum of that column above it and
  whose other cells are empty or one label (checked when the whole file is in the tail window and at
  least four rows are above it; a larger file is read only in its last NOTES_BYTES, for notes).
Such lines are cut from the copy that is read, and named in a note with their line numbers.
"""

from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from csvanalyst.catalog.precheck import FileFacts
from csvanalyst.catalog.schema import SetAsideRow

TEXT_CHARS = 4096
REASON = "after the table: a note or a totals row, not a row of the table"

TAIL_BYTES = 4 * 1024 * 1024
MAX_NOTE_LINES = 10
NOTES_BYTES = 256 * 1024  # the tail read for notes when the file is larger than TAIL_BYTES
MIN_ROWS_ABOVE_TOTALS = 4  # below that, a counting column (0, 1, 2 then 3) adds up by chance


@dataclass
class Footer:
    """Where the footer starts (a byte offset of the file read) and its lines as (line number, text)."""

    start: int
    lines: list[tuple[int, str]]


def find_footer(path: Path, delimiter: str, quote: str, width: int, header_lines: int) -> Footer | None:
    """The footer of `path`, or None; `header_lines` physical lines (preamble and header) come first."""
    if width < 2 or len(delimiter) != 1:
        return None
    size = path.stat().st_size
    # A totals row is looked for only when the whole file fits the window; otherwise only trailing
    # notes can be found, and they lie in the last few lines.
    start = 0 if size <= TAIL_BYTES else size - NOTES_BYTES
    with path.open("rb") as handle:
        handle.seek(start)
        data = handle.read()
    lines = _lines(data, start)
    if start:
        lines = lines[1:]  # the first line of the window may be cut
    elif header_lines:
        lines = lines[header_lines:]
    cells = [(offset, text, _cells(text, delimiter, quote)) for offset, text in lines]
    cut = _note_start(cells, width)
    if not start:
        cut = _totals_start(cells, cut, width)
    footer = [(offset, text) for offset, text, row in cells[cut:] if row is not None and any(c.strip() for c in row)]
    if not footer:
        return None
    first = cells[cut][0]
    before = _line_breaks(path, first)
    numbered = [(before + 1 + _line_breaks_in(data, start, first, offset), text) for offset, text in footer]
    return Footer(start=first, lines=numbered)


def _lines(data: bytes, base: int) -> list[tuple[int, str]]:
    """(byte offset, text) of each physical line; records may end in \\n, \\r\\n or a bare \\r."""
    decode = "ascii" if data.isascii() else "utf-8"
    return [
        (base + match.start(), match.group(1).decode(decode, "replace"))
        for match in _LINE.finditer(data)
        if match.end() > match.start()
    ]


_LINE = re.compile(rb"([^\r\n]*)(?:\r\n|\r|\n|$)")


def _cells(text: str, delimiter: str, quote: str) -> list[str] | None:
    """The cells of one line, or None when its quotes are unbalanced (part of a longer record)."""
    if quote and text.count(quote) % 2:
        return None
    style = {"quotechar": quote} if quote else {"quoting": csv.QUOTE_NONE}
    try:
        return next(csv.reader([text], delimiter=delimiter, **style), [])
    except csv.Error:
        return None


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value.strip()))
    except ValueError:
        return False


def _blank(row: list[str] | None) -> bool:
    return row is not None and not any(c.strip() for c in row)


def _is_note(row: list[str] | None) -> bool:
    filled = [c for c in row or [] if c.strip()]
    return row is not None and len(filled) == 1 and not _is_number(filled[0])


def _note_start(cells: list[tuple[int, str, list[str] | None]], width: int) -> int:
    """Index of the first line of the trailing notes (len(cells) when there are none)."""
    end = len(cells)
    while end and _blank(cells[end - 1][2]):
        end -= 1
    start = end
    while start and _is_note(cells[start - 1][2]):
        start -= 1
    if start == end or end - start > MAX_NOTE_LINES:
        return len(cells)
    if start and _blank(cells[start - 1][2]):
        return start  # a blank line parts the notes from the table
    while start < end and len(cells[start][2] or []) == width:
        start += 1  # right below the table, a line of the table's width may be a sparse row
    return start if start < end else len(cells)


def _totals_start(cells: list[tuple[int, str, list[str] | None]], cut: int, width: int) -> int:
    """`cut`, or the index of the row above it when that row holds the column sums of the rows above."""
    if any(row is None for _, _, row in cells[:cut]):
        return cut  # a broken quote: the rows are not known for sure
    body = [row for _, _, row in cells[:cut] if row and any(c.strip() for c in row)]
    last = max((i for i in range(cut) if not _blank(cells[i][2])), default=None)
    if last is None or len(body) < MIN_ROWS_ABOVE_TOTALS + 1 or len(body[-1]) != width:
        return cut
    *rows, total = body
    if any(len(r) != width for r in rows):
        return cut
    return last if _holds_sums(rows, total) else cut


def _holds_sums(rows: list[list[str]], total: list[str]) -> bool:
    """Every numeric cell of `total` is its column's sum (one at least, not zero), and at most one
    other cell is filled, with a label found nowhere above in its column."""
    matched, labels = 0, 0
    for column, cell in enumerate(c.strip() for c in total):
        values = [r[column].strip() for r in rows if r[column].strip()]
        if not cell:
            continue
        if values and all(_is_number(v) for v in values) and _is_number(cell):
            added = sum(float(v) for v in values)
            if not math.isclose(float(cell), added, rel_tol=1e-9, abs_tol=0.006):
                return False
            matched += 1 if added else 0
        elif cell in values:
            return False  # a value of the column, not a label
        else:
            labels += 1
    return matched > 0 and labels <= 1


def _line_breaks(path: Path, end: int) -> int:
    """Physical line breaks before byte `end` of `path` (a \\r\\n counts once)."""
    count, position, previous = 0, 0, b""
    with path.open("rb") as handle:
        while position < end and (chunk := handle.read(min(8 * 1024 * 1024, end - position))):
            count += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if previous == b"\r" and chunk[:1] == b"\n":
                count -= 1
            previous, position = chunk[-1:], position + len(chunk)
    return count


def _line_breaks_in(data: bytes, base: int, start: int, end: int) -> int:
    part = data[start - base : end - base]
    return part.count(b"\n") + part.count(b"\r") - part.count(b"\r\n")


@dataclass
class Cut:
    """A copy of the file without its footer."""

    path: Path
    footer: Footer

    def facts(self, facts: FileFacts) -> FileFacts:
        """`facts` with the head re-read from the copy when the head was the whole file."""
        if not facts.complete:
            return facts
        return replace(facts, text=self.path.read_bytes().decode("utf-8-sig", "replace"))

    def rows(self) -> list[SetAsideRow]:
        return [SetAsideRow(line=n, reason=REASON, text=text[:TEXT_CHARS]) for n, text in self.footer.lines]


def without_footer(path: Path, found: dict[str, Any], scratch: Path) -> Cut | None:
    """Cut the footer of `path` (read as DuckDB's sniffer `found` it) into a copy in `scratch`, if it has one."""
    header_lines = int(found["SkipRows"] or 0) + (1 if found["HasHeader"] else 0)
    footer = find_footer(path, found["Delimiter"] or ",", found["Quote"] or '"', len(found["Columns"]), header_lines)
    if footer is None:
        return None
    scratch.mkdir(parents=True, exist_ok=True)
    copy = scratch / f"{path.stem}.body.csv"
    tmp = copy.with_name(f".{copy.name}.{os.getpid()}.tmp")
    try:
        with path.open("rb") as reader, tmp.open("wb") as writer:
            left = footer.start
            while left and (chunk := reader.read(min(left, 8 * 1024 * 1024))):
                writer.write(chunk)
                left -= len(chunk)
        os.replace(tmp, copy)
    finally:
        tmp.unlink(missing_ok=True)
    return Cut(copy, footer)
