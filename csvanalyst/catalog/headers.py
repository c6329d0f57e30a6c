"""A header of two lines: a group row above a row of names ("Sales" over "Q1", "Q2"), or names wrapped
onto a second line. Read as one header line, the second line would become a data row and turn every
numeric column into text; it is recognised by its shape alone.

The second line is a header line when every numeric column of the data below has a non-numeric word
in it and none of its cells is a number. The names are joined top to bottom; a top cell left empty
beside a filled one continues the group to its left (how spreadsheets write merged cells).
"""

from __future__ import annotations

import math

MIN_DATA_ROWS = 2


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value.strip().replace(",", "")))
    except ValueError:
        return False


def two_line_header(rows: list[list[str]]) -> list[str] | None:
    """Joined names when `rows` (the sample, header first) starts with a header of two lines, else None."""
    if len(rows) < 2 + MIN_DATA_ROWS:
        return None
    top, second, data = rows[0], rows[1], rows[2:]
    width = len(top)
    if len(second) != width or any(len(r) != width for r in data[:50]):
        return None
    if not any(c.strip() for c in second) or any(_is_number(c) for c in second if c.strip()):
        return None
    numeric = [j for j in range(width) if _numeric_column(data, j)]
    if not numeric or any(not second[j].strip() for j in numeric):
        return None
    return _joined(top, second)


def _numeric_column(data: list[list[str]], column: int) -> bool:
    values = [r[column] for r in data if column < len(r) and r[column].strip()]
    return bool(values) and all(_is_number(v) for v in values)


def _joined(top: list[str], second: list[str]) -> list[str]:
    names, group = [], ""
    for upper, lower in zip(top, second, strict=True):
        upper, lower = upper.strip(), lower.strip()
        if upper:
            group = upper
        elif lower and group:
            upper = group  # a merged cell: the group to the left goes on
        names.append(" ".join(part for part in (upper, lower) if part))
    return names
