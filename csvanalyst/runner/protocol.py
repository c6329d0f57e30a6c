"""The JSON shapes that cross the sandbox boundary, validated with the stdlib only.

The host-side pydantic models live in csvanalyst/executors/base.py; this module must not import
them so the runner can be copied alone into an image. protocol.md is the contract both follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("ok", "error", "rejected", "timeout", "oom", "sandbox_error")


class BadRequest(Exception):
    """The request JSON does not follow the protocol; the host has a bug, not the user."""


@dataclass(frozen=True)
class Table:
    path: str
    format: str
    csv_options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunLimits:
    max_rows: int = 10_000
    max_output_bytes: int = 64 * 1024 * 1024
    timeout_s: float = 60.0
    memory_mb: int = 4096
    threads: int = 2


@dataclass(frozen=True)
class Request:
    kind: str
    code: str
    tables: dict[str, Table]
    limits: RunLimits


def parse_request(data: Any) -> Request:
    """Check the shape strictly: a malformed request must fail loudly, not run something else."""
    if not isinstance(data, dict):
        raise BadRequest("the request must be a JSON object")
    kind = data.get("kind", "sql")
    code = data.get("code")
    if kind not in ("sql", "python"):
        raise BadRequest(f"unknown kind {kind!r}; expected 'sql' or 'python'")
    if not isinstance(code, str):
        raise BadRequest("'code' must be a string")
    tables = data.get("tables", {})
    if not isinstance(tables, dict):
        raise BadRequest("'tables' must be an object of name -> source")
    return Request(kind, code, {str(k): _table(k, v) for k, v in tables.items()}, _limits(data.get("limits")))


def _table(name: str, raw: Any) -> Table:
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
        raise BadRequest(f"table {name!r} needs a 'path' string")
    fmt = raw.get("format")
    if fmt not in ("parquet", "csv"):
        raise BadRequest(f"table {name!r}: format must be 'parquet' or 'csv', got {fmt!r}")
    options = raw.get("csv_options") or {}
    if not isinstance(options, dict):
        raise BadRequest(f"table {name!r}: 'csv_options' must be an object")
    return Table(raw["path"], fmt, options)


def _limits(raw: Any) -> RunLimits:
    if raw is None:
        return RunLimits()
    if not isinstance(raw, dict):
        raise BadRequest("'limits' must be an object")
    defaults = RunLimits()
    values: dict[str, Any] = {}
    for name in ("max_rows", "max_output_bytes", "timeout_s", "memory_mb", "threads"):
        value = raw.get(name, getattr(defaults, name))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise BadRequest(f"limit {name!r} must be a positive number, got {value!r}")
        values[name] = value if name == "timeout_s" else int(value)
    return RunLimits(**values)


def result(status: str, **fields: Any) -> dict[str, Any]:
    """A complete result object: every key present, so hosts never guess defaults."""
    base: dict[str, Any] = {
        "status": status,
        "columns": [],
        "rows": [],
        "row_count": 0,
        "truncated": False,
        "stdout": "",
        "chart": None,
        "timings": {},
        "error": None,
    }
    base.update(fields)
    return base


def failure(status: str, code: str, message: str, hint: str = "", **fields: Any) -> dict[str, Any]:
    return result(status, error={"code": code, "message": message, "hint": hint}, **fields)
