"""Execution match: is the agent's result table the reference's?

Tolerant to what does not change the answer: column order and names, row order where the question asks
for none, float rounding, and case and surrounding spaces in labels. Never to a missing or extra row.
Extra columns in the agent's table are allowed (a count shown beside the asked-for value).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

MIDNIGHT = re.compile(r"(?<=^\d{4}-\d{2}-\d{2})[T ]00:00(:00(\.0+)?)?$")  # a date shown as a timestamp
FLOAT_DECIMALS = 2  # numbers agree when equal to 2 decimals (a model may round an average) ...
SMALL_DIGITS = 2  # ... and numbers below 1 to 2 significant digits (a share of 0.0123 is not 0.01)


def normalise(value: Any) -> Any:
    """A cell reduced to what matters for equality."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        number = float(value)
        if math.isnan(number):
            return None
        return _rounded(number)
    if isinstance(value, datetime | date):
        value = value.isoformat()
    text = MIDNIGHT.sub("", str(value).strip()).casefold()
    try:
        return _rounded(float(text)) if text and text[0] in "-+.0123456789" else text
    except ValueError:
        return text


def _rounded(number: float) -> float:
    if math.isinf(number) or abs(number) >= 1 or number == 0:
        return round(number, FLOAT_DECIMALS) + 0.0
    return float(f"{number:.{SMALL_DIGITS}g}")


def columns_of(rows: Sequence[Sequence[Any]], width: int) -> list[tuple[Any, ...]]:
    return [tuple(normalise(row[i]) for row in rows) for i in range(width)]


def tables_match(got: Sequence[Sequence[Any]], want: Sequence[Sequence[Any]], *, ordered: bool) -> bool:
    """True when every reference column has a distinct counterpart in `got`, row for row."""
    if len(got) != len(want):
        return False
    if not want:
        return True
    got_cols = columns_of(got, len(got[0]))
    want_cols = columns_of(want, len(want[0]))
    if len(got_cols) < len(want_cols):
        return False
    return _assign(got_cols, want_cols, [], ordered)


def _assign(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]], chosen: list[int], ordered: bool) -> bool:
    """Backtracking over which column of `got` stands for each reference column (tables are narrow)."""
    if len(chosen) == len(want):
        return _rows_agree(got, want, chosen, ordered)
    target = want[len(chosen)]
    for index, column in enumerate(got):
        if index in chosen:
            continue
        fits = (column == target) if ordered else (Counter(column) == Counter(target))
        if fits and _assign(got, want, [*chosen, index], ordered):
            return True
    return False


def _rows_agree(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]], chosen: list[int], ordered: bool) -> bool:
    got_rows = list(zip(*(got[i] for i in chosen), strict=True))
    want_rows = list(zip(*want, strict=True))
    return got_rows == want_rows if ordered else Counter(got_rows) == Counter(want_rows)
