"""The delimiter and the lines above the header, guessed from the head of a file by field counts."""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass

CANDIDATES = (",", ";", "\t", "|")
LAYOUT_LINES = 200
LAYOUT_CHARS = 1024 * 1024
LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


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
    lines = LINES.findall(text[:LAYOUT_CHARS])[:LAYOUT_LINES]
    scored: list[tuple[float, int, str, int]] = []
    for candidate in (delimiter,) if delimiter else CANDIDATES:
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
