"""Checking that the numbers in an answer come from the runs of this turn (or from the question)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

_NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?%?(?![\w])")
_QUOTED = re.compile(r"“[^”]*”|`[^`]*`|\"[^\"]*\"")
# "… and 45 more", "12 others": how many rows a list left out, derived from a row count, not read off a cell.
_LEFT_OUT = re.compile(r"(?<![\w.])(\d[\d,]*)\s+(?:more|others|other rows|further)\b", re.IGNORECASE)
_RUN_REF = re.compile(r"\brun[s]?\s+[0-9a-f]{6,}(?:\s*(?:,|and)\s*[0-9a-f]{6,})*", re.IGNORECASE)


def numbers_in(text: str) -> list[str]:
    """Numbers as written in prose ("1,234.5", "12%"), leaving out run ids."""
    text = _RUN_REF.sub(" ", text)
    return [m.group(0) for m in _NUMBER.finditer(text)]


def claimed_numbers(text: str) -> list[str]:
    """Numbers the answer asserts: quoted examples (“top 5 …”, `SQL: …`) are not claims."""
    text = _QUOTED.sub(" ", _RUN_REF.sub(" ", text))
    return [m.group(0) for m in _NUMBER.finditer(text)]


def _to_decimal(token: str) -> Decimal | None:
    try:
        return Decimal(token.rstrip("%").replace(",", ""))
    except InvalidOperation:
        return None


def _known_values(cells: Iterable[Any]) -> list[Decimal]:
    known = []
    for cell in cells:
        if isinstance(cell, bool):
            continue
        if isinstance(cell, int | float) or (isinstance(cell, str) and cell):
            for token in [str(cell)] if isinstance(cell, int | float) else numbers_in(cell):
                value = _to_decimal(token)
                if value is not None and value.is_finite():
                    known.append(value)
    return known


def _matches(value: Decimal, known: list[Decimal]) -> bool:
    """Equal, or equal after rounding the known value to the answer's precision (12.3456 → "12.35")."""
    places = -value.as_tuple().exponent if value.as_tuple().exponent < 0 else 0  # type: ignore[operator]
    for k in known:
        if k == value or round(k, places) == value or abs(k) == abs(value):
            return True
        if places == 0 and abs(k - value) < 1 and abs(value) >= 100:  # "about 1,235" for 1234.6
            return True
    return False


def _below_a_count(token: str, known: list[Decimal]) -> bool:
    """A left-out count is grounded when some whole number of the results (a row count) exceeds it."""
    value = _to_decimal(token)
    return value is not None and any(k == k.to_integral_value() and k > value >= 0 for k in known)


def ungrounded_numbers(answer: str, question: str, cells: Iterable[Any]) -> list[str]:
    """Numbers in the answer found in no result cell, row count or the question itself."""
    known = _known_values(cells) + _known_values(numbers_in(question))
    left_out = {m.group(1) for m in _LEFT_OUT.finditer(_RUN_REF.sub(" ", answer))}
    missing = []
    for token in claimed_numbers(answer):
        if token in left_out and _below_a_count(token, known):
            continue
        value = _to_decimal(token)
        if value is None or _matches(value, known):
            continue
        if token.endswith("%") or (abs(value) <= 10 and value == value.to_integral_value()):
            continue  # small counts ("3 regions") and percentages derived in prose are not checked
        missing.append(token)
    return missing


def guessed_numbers(answer: str, question: str) -> list[str]:
    """Numbers in an answer given before any query ran: all but the question's own and small whole counts
    ("2 columns" read off the schema); a decimal or a percentage can only have been made up."""
    known = _known_values(numbers_in(question))
    guessed = []
    for token in claimed_numbers(answer):
        value = _to_decimal(token)
        if value is None or _matches(value, known):
            continue
        if token.isdigit() and value <= 10:
            continue
        guessed.append(token)
    return guessed
