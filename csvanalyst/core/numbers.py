"""The one way a number is shown to a person, in every front end (CLI table, TUI, web page).

Up to 10 significant digits (but never fewer than the whole part has), in positional notation for
magnitudes people read (1e-6 up to 1e15) and scientific beyond; trailing zeros dropped; integers always
whole. Thousands separators only on request. Machine output (`--format csv/json`, exports, the API)
never goes through here: it is exact. The web page follows the same rule in app.js (`formatNumber`),
checked against the same cases (tests/fixtures/number_format_cases.json) in real Chromium.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

SIGNIFICANT_DIGITS = 10
_POSITIONAL_MIN = Decimal("1e-6")
_POSITIONAL_MAX = Decimal("1e15")


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def is_numeric_type(duckdb_type: str) -> bool:
    """True for a DuckDB column type whose values are numbers (so they are right-aligned)."""
    from csvanalyst.catalog.schema import type_family

    return type_family(duckdb_type.strip()) in ("integer", "float", "decimal")


def format_number(value: int | float | Decimal, *, thousands: bool = False) -> str:
    """A number as shown to a person: 1234567.891, -105.2258217, 0.000012345678, 1.234567891e+20."""
    if isinstance(value, int):
        return f"{value:,}" if thousands else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("-inf" if value < 0 else "inf")
    exact = Decimal(value)  # a float's exact binary value, rounded as JavaScript's toPrecision does
    if exact.is_nan() or exact.is_infinite():
        return str(exact)
    rounded = _significant(exact)
    if rounded == 0:
        return "0"
    if not _POSITIONAL_MIN <= abs(rounded) < _POSITIONAL_MAX:
        return _scientific(rounded)
    if exact.adjusted() >= SIGNIFICANT_DIGITS:  # a whole part is never rounded away
        rounded = exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    text = _positional(rounded)
    if thousands:
        whole, _, fraction = text.partition(".")
        sign, digits = ("-", whole[1:]) if whole.startswith("-") else ("", whole)
        text = f"{sign}{int(digits):,}" + (f".{fraction}" if fraction else "")
    return text


def format_cell(value: Any, *, thousands: bool = False) -> str:
    """Any result cell as display text: numbers by the rule above, None as empty, the rest as str."""
    if value is None:
        return ""
    if is_number(value):
        return format_number(value, thousands=thousands)
    return str(value)


def _significant(value: Decimal) -> Decimal:
    if value == 0:
        return Decimal(0)
    exponent = value.adjusted() - SIGNIFICANT_DIGITS + 1
    current = value.as_tuple().exponent  # an int: only finite values come here
    if isinstance(current, int) and exponent <= current:
        return value
    return value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)


def _positional(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _scientific(value: Decimal) -> str:
    mantissa, _, exponent = format(value.normalize(), "e").partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    sign = "-" if exponent.startswith("-") else "+"
    return f"{mantissa}e{sign}{exponent.lstrip('+-').zfill(2)}"
