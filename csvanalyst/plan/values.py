"""Type the literal values of filters against the column they compare with.

Checking here, before any SQL exists, turns "2024-13-01" or "abc" against a number column into a plan
error naming the filter, instead of a conversion error from the database after the query was sent.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from csvanalyst.catalog.schema import TypeFamily
from csvanalyst.errors import PlanError

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def coerce_values(values: list[Any], family: TypeFamily, where: str) -> tuple[list[Any], bool]:
    """Typed values, and whether a timestamp column should be compared by day (all values are dates)."""
    typed = [coerce(v, family, where) for v in values]
    if family != "timestamp":
        return typed, False
    by_day = bool(typed) and all(not isinstance(v, dt.datetime) for v in typed)
    if by_day:
        return typed, True
    return [v if isinstance(v, dt.datetime) else dt.datetime.combine(v, dt.time()) for v in typed], False


def coerce(value: Any, family: TypeFamily, where: str) -> Any:
    if family in ("integer", "float", "decimal"):
        return _number(value, where)
    if family == "text":
        return _text(value, where)
    if family == "boolean":
        return _boolean(value, where)
    if family in ("date", "timestamp"):
        return _date(value, where)
    if family == "time":
        return _parse(dt.time.fromisoformat, value, where, "a time like 14:30:00")
    if isinstance(value, bool):
        raise _bad(value, where, "a number or a string")
    return value


def _number(value: Any, where: str) -> int | float | Decimal:
    if isinstance(value, bool):
        raise _bad(value, where, "a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _bad(value, where, "a finite number")
        return value
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise _bad(value, where, "a number") from None
    if not number.is_finite():
        raise _bad(value, where, "a finite number")
    return int(number) if number == number.to_integral_value() and "." not in str(value) else number


def _text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        raise _bad(value, where, "text")
    return str(value)


def _boolean(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise _bad(value, where, "true or false")


def _date(value: Any, where: str) -> dt.date:
    if not isinstance(value, str):
        raise _bad(value, where, "an ISO date string like 2024-01-31")
    text = value.strip()
    if len(text) <= 10:
        return _parse(dt.date.fromisoformat, text, where, "an ISO date like 2024-01-31")
    return _parse(dt.datetime.fromisoformat, text, where, "an ISO timestamp like 2024-01-31 14:30:00")


_Parsed = TypeVar("_Parsed")


def _parse(parser: Callable[[str], _Parsed], value: Any, where: str, expected: str) -> _Parsed:
    try:
        return parser(str(value).strip())
    except ValueError:
        raise _bad(value, where, expected) from None


def _bad(value: Any, where: str, expected: str) -> PlanError:
    return PlanError(
        f"{where}: value {value!r} is not {expected}.",
        hint=f"Compare this column with {expected}.",
    )
