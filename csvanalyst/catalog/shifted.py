"""Rows with one separator too many whose last field is empty: DuckDB's reader takes the last separator
for a trailing delimiter and loads the row with its cells shifted. Such rows are found here and set
aside before the read, so no loaded cell lands in another column.

Only lines ending in the delimiter can be such a row, so a vector search for "delimiter + line end"
skips a clean file at memory speed; each candidate line is then split with its quoting respected.
A file whose header also ends in the delimiter uses trailing delimiters throughout, and is left alone.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from csvanalyst.catalog.rejects import TEXT_CHARS, Spill
from csvanalyst.catalog.schema import SetAsideRow

CHUNK = 8 * 1024 * 1024
REASON = "one field more than the header, the last one empty (an extra separator)"


def find_shifted(source: Path, options: dict[str, Any], width: int) -> list[Spill]:
    """Lines of `source` (read with `options`) that hold `width` + 1 fields, the last one empty."""
    delimiter = str(options.get("delim", ","))
    quote = str(options.get("quote", '"'))
    if len(delimiter) != 1 or not width:
        return []
    first_record = int(options.get("skip", 0)) + (2 if options.get("header") else 1)
    found: list[Spill] = []
    for offset, line_number, text in _candidate_lines(source, delimiter):
        if line_number < first_record:
            if line_number == first_record - 1 and options.get("header"):
                return []  # the header ends in the delimiter too: trailing delimiters are the file's style
            continue
        if _fields(text, delimiter, quote) == width + 1:
            found.append(Spill(SetAsideRow(line=line_number, reason=REASON, text=text[:TEXT_CHARS]), offset))
    return found


def _fields(text: str, delimiter: str, quote: str) -> int:
    """Field count of one line; a line with an odd number of quotes is part of a longer record: not counted."""
    if quote and text.count(quote) % 2:
        return -1
    style = {"quotechar": quote} if quote else {"quoting": csv.QUOTE_NONE}
    try:
        return len(next(csv.reader([text], delimiter=delimiter, **style)))
    except (csv.Error, StopIteration):
        return -1


def _candidate_lines(source: Path, delimiter: str) -> Iterator[tuple[int, int, str]]:
    """(byte offset, 1-based line number, text without its line end) of each line ending in `delimiter`.

    Line numbers are counted only up to each candidate, through a second handle, so a clean file is
    searched and never counted."""
    counted_to, lines_before = 0, 0  # physical lines before `counted_to`, a line start in the file
    base = 0
    carry = b""
    with source.open("rb") as handle, source.open("rb") as counter:
        while True:
            chunk = handle.read(CHUNK)
            buffer = carry + chunk
            if not chunk:
                buffer += b"\n"  # a last line without a line end
            edge = len(buffer) - 1 if chunk and buffer.endswith(b"\r") else len(buffer)  # a \r\n may be split
            cut = max(buffer.rfind(b"\n", 0, edge), buffer.rfind(b"\r", 0, edge)) + 1
            for pos in _delimiters_at_line_ends(buffer, delimiter.encode(), cut):
                start = max(buffer.rfind(b"\n", 0, pos), buffer.rfind(b"\r", 0, pos)) + 1
                lines_before += _breaks_between(counter, counted_to, base + start)
                counted_to = base + start
                yield base + start, lines_before + 1, buffer[start : pos + 1].decode("utf-8", "replace")
            if not chunk:
                return
            carry, base = buffer[cut:], base + cut


def _delimiters_at_line_ends(buffer: bytes, delimiter: bytes, limit: int) -> list[int]:
    """Positions before `limit` of a delimiter right before a line end, in order: the line ends are found
    by one vector compare and the byte before each is checked, several times faster than a substring
    search. The compare for a bare \r is skipped in a buffer without one (a single-byte search)."""
    import numpy as np

    data = np.frombuffer(buffer, dtype=np.uint8, count=limit)
    at_end = data[1:] == ord("\n")
    if buffer.find(b"\r", 0, limit) >= 0:
        at_end |= data[1:] == ord("\r")
    before_end = np.flatnonzero(at_end)
    return [int(pos) for pos in before_end[data[before_end] == delimiter[0]]]


def _breaks_between(handle: BinaryIO, start: int, stop: int) -> int:
    """Line breaks in bytes [start, stop) of the file, both line starts; a \r\n split by a read is one."""
    handle.seek(start)
    count, after_cr = 0, False
    while start < stop:
        data = handle.read(min(CHUNK, stop - start))
        if not data:
            break
        count += _line_breaks(data) - (after_cr and data.startswith(b"\n"))
        after_cr, start = data.endswith(b"\r"), start + len(data)
    return count


def _line_breaks(data: bytes) -> int:
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
