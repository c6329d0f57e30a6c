"""Hardening of model output: tool arguments arrive as JSON, as JSON-in-a-string, in code fences, in prose.

Coerce only where the intent is unambiguous; otherwise say precisely what was wrong so the model can retry.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError

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


_SQL_REPLY = re.compile(r"^\s*(WITH|SELECT)\b.*\bFROM\b", re.IGNORECASE | re.DOTALL)


def looks_like_sql(text: str) -> bool:
    """A reply that writes out a query (in a code fence, or as the whole reply) instead of calling a tool."""
    fenced = _FENCE.search(text)
    return bool(_SQL_REPLY.match(fenced.group(1) if fenced else text))


def argument_problem(tool: str, schema: type[BaseModel], exc: ValueError) -> tuple[str, str]:
    """(message, hint) for arguments that failed: which argument is missing or wrong, and the shape to send."""
    fields = schema.model_fields
    example = {name: f"<{name}>" for name, field in fields.items() if field.is_required()}
    hint = f"Call {tool} with one JSON object: {json.dumps(example)}." if example else ""
    if not isinstance(exc, ValidationError):
        return f"Invalid arguments for {tool}: {exc}"[:1500], hint
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        field = fields.get(str(error["loc"][0])) if error["loc"] else None
        described = f" ({field.description})" if field is not None and field.description else ""
        if error["type"] == "missing":
            problems.append(f"the required argument '{where}'{described} is missing")
        else:
            problems.append(f"'{where}'{described}: {error['msg']}")
    given = exc.errors()[0].get("input")
    sent = f" The call sent the keys: {', '.join(map(repr, given))}." if isinstance(given, dict) and given else ""
    return f"Invalid arguments for {tool}: {'; '.join(problems)}.{sent}"[:1500], hint
