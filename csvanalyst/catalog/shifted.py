"""Rows with one separator too many whose last field is empty: DuckDB's reader takes the last separator
for a trailing delimiter and loads the row with its cells shifted. Such rows are found here and set
aside before the read, so no loaded cell lands in another column.

Only lines ending in the delimiter can be such a row, so a byte search for "delimiter + line end"
skips a clean file at memory speed; each candidate line is then split with its quoting respected.
A file whose header also ends in the delimiter uses trailing delimiters throughout, and is left alone.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    ends = (f"{delimiter}\n".encode(), f"{delimiter}\r".encode())
    first_record = int(options.get("skip", 0)) + (2 if options.get("header") else 1)
    found: list[Spill] = []
    for offset, line_number, text in _candidate_lines(source, ends):
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


def _candidate_lines(source: Path, ends: tuple[bytes, ...]) -> Iterator[tuple[int, int, str]]:
    """(byte offset, 1-based line number, text without its line end) of each line ending in a delimiter."""
    counted_to, lines_before = 0, 0  # physical lines before `counted_to`, a position in the file
    base = 0
    carry = b""
    with source.open("rb") as handle:
        while True:
            chunk = handle.read(CHUNK)
            buffer = carry + chunk
            if not chunk:
                buffer += b"\n"  # a last line without a line end
            edge = len(buffer) - 1 if chunk and buffer.endswith(b"\r") else len(buffer)  # a \r\n may be split
            cut = max(buffer.rfind(b"\n", 0, edge), buffer.rfind(b"\r", 0, edge)) + 1
            hits = sorted(pos for end in ends for pos in _all(buffer, end, cut))
            for pos in hits:
                start = max(buffer.rfind(b"\n", 0, pos), buffer.rfind(b"\r", 0, pos)) + 1
                lines_before += _line_breaks(buffer[counted_to - base : start])
                counted_to = base + start
                yield base + start, lines_before + 1, buffer[start : pos + 1].decode("utf-8", "replace")
            lines_before += _line_breaks(buffer[counted_to - base : cut])
            counted_to = base + cut
            if not chunk:
                return
            carry, base = buffer[cut:], base + cut


def _all(buffer: bytes, needle: bytes, limit: int) -> Iterator[int]:
    position = buffer.find(needle, 0, limit)
    while position >= 0:
        yield position
        position = buffer.find(needle, position + 1, limit)


def _line_breaks(data: bytes) -> int:
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
