"""Hardening of model output: tool arguments arrive as JSON, as JSON-in-a-string, in code fences, in prose.

Coerce only where the intent is unambiguous; otherwise say precisely what was wrong so the model can retry.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:[a-zA-Z0-9_+-]*)\s*\n?(.*?)```", re.DOTALL)
_SQL_START = re.compile(r"\b(WITH|SELECT|VALUES|FROM)\b", re.IGNORECASE)


class ArgumentError(ValueError):
    """The arguments could not be understood; the message goes back to the model."""


def parse_arguments(raw: str | dict[str, Any] | None) -> dict[str, Any]:
    """A dict from whatever the model sent: an object, a JSON string, a doubly-encoded string, fenced JSON."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    value: Any = raw
    for _ in range(3):  # a JSON string that itself contains JSON ("double encoding") is common
        if not isinstance(value, str):
            break
        value = _loads_lenient(value)
    if isinstance(value, dict):
        return value
    raise ArgumentError(f"tool arguments must be a JSON object, got {type(value).__name__}: {str(raw)[:200]!r}")


def _loads_lenient(text: str) -> Any:
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError as first:
        fenced = _FENCE.search(text)
        if fenced:
            return _loads_lenient(fenced.group(1))
        start, end = text.find("{"), text.rfind("}")
        if 0 <= start < end:
            try:
                return json.loads(text[start : end + 1])
            except json.JSONDecodeError:
                pass
        raise ArgumentError(
            f"tool arguments are not valid JSON ({first.msg} at position {first.pos}): {text[:200]!r}"
        ) from first


def extract_sql(text: str) -> str:
    """The SQL in a string that may wrap it in prose or a code fence ("Here is the query: ```sql ...```")."""
    fenced = _FENCE.search(text)
    if fenced:
        return fenced.group(1).strip()
    stripped = text.strip()
    match = _SQL_START.search(stripped)
    if match and match.start() > 0 and stripped[: match.start()].rstrip().endswith(":"):
        return stripped[match.start() :].strip()
    return stripped
