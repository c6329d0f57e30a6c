"""Turning DuckDB's Python values into JSON-safe values, with one rule per type.

The rules are part of the protocol (see protocol.md): a host must be able to rely on them without
knowing which sandbox produced the rows.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
import uuid
from typing import Any

MAX_SAFE_INT = 2**53


def json_safe(value: Any) -> Any:
    """One cell to a value `json.dumps(..., allow_nan=False)` accepts without losing meaning."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if -MAX_SAFE_INT <= value <= MAX_SAFE_INT else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return _decimal(value)
    return _non_scalar(value)


def _non_scalar(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return iso_duration(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {_key(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return str(value)


def _decimal(value: decimal.Decimal) -> float | str | None:
    """A JSON number when the float spells the same decimal, else a string that keeps every digit."""
    if not value.is_finite():
        return None
    as_float = float(value)
    if math.isfinite(as_float) and decimal.Decimal(repr(as_float)) == value:
        return as_float
    return str(value)


def _key(key: Any) -> str:
    """MAP keys may be any type; JSON object keys are strings."""
    safe = json_safe(key)
    return safe if isinstance(safe, str) else str(safe).lower() if isinstance(safe, bool) else str(safe)


def iso_duration(delta: dt.timedelta) -> str:
    """ISO 8601 duration (e.g. P1DT2H30M); DuckDB's months arrive already folded into 30-day units."""
    sign = "-" if delta < dt.timedelta(0) else ""
    delta = abs(delta)
    hours, rest = divmod(delta.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    frac = f"{seconds}.{delta.microseconds:06d}".rstrip("0").rstrip(".") if delta.microseconds else str(seconds)
    time_part = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M")) if n) + (
        f"{frac}S" if seconds or delta.microseconds else ""
    )
    days = f"{delta.days}D" if delta.days else ""
    if not days and not time_part:
        return "PT0S"
    return f"{sign}P{days}" + (f"T{time_part}" if time_part else "")


def json_row(row: tuple[Any, ...] | list[Any]) -> list[Any]:
    return [json_safe(v) for v in row]
