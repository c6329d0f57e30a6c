"""Running the one SELECT a request carries and shaping its rows into a result."""

from __future__ import annotations

import json
from typing import Any

from .protocol import RunLimits, failure, result
from .values import json_row

SQL_HINT = "Fix the query: check table and column names against the schema and the types used."


class Rejected(Exception):
    """The code is not exactly one SELECT; the runner refuses it before execution."""


def check_single_select(con: Any, code: str) -> str:
    """DuckDB's own splitter decides what a statement is: a parser mismatch cannot smuggle in a second."""
    import duckdb

    try:
        statements = con.extract_statements(code)
    except duckdb.Error as exc:
        raise Rejected(f"The SQL could not be parsed: {exc}") from exc
    if len(statements) != 1:
        raise Rejected(f"Expected exactly one SQL statement, got {len(statements)}.")
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        raise Rejected(f"Only SELECT statements may run; got {statement.type.name}.")
    query: str = statement.query
    return query


def execute(con: Any, query: str, limits: RunLimits) -> dict[str, Any]:
    """Fetch at most max_rows + 1 rows so a missing LIMIT cannot flood memory or the pipe."""
    cursor = con.execute(query)
    description = cursor.description or []
    columns = [{"name": str(d[0]), "type": str(d[1])} for d in description]
    fetched = cursor.fetchmany(limits.max_rows + 1)
    truncated = len(fetched) > limits.max_rows
    rows = [json_row(r) for r in fetched[: limits.max_rows]]
    return result("ok", columns=columns, rows=rows, row_count=len(rows), truncated=truncated)


def fit_output(payload: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """Drop rows from the end until the JSON fits; binary search keeps this O(log n) encodes."""
    if _size(payload) <= max_bytes:
        return payload
    rows = payload["rows"]
    low, high = 0, len(rows)
    while low < high:
        mid = (low + high + 1) // 2
        if _size({**payload, "rows": rows[:mid], "row_count": mid, "truncated": True}) <= max_bytes:
            low = mid
        else:
            high = mid - 1
    fitted = {**payload, "rows": rows[:low], "row_count": low, "truncated": True}
    if _size(fitted) > max_bytes:
        return failure(
            "error",
            "output_too_large",
            f"Even an empty result is larger than the output cap of {max_bytes} bytes.",
            "Select fewer or shorter columns, or raise max_output_bytes.",
        )
    return fitted


def encode(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _size(payload: dict[str, Any]) -> int:
    return len(encode(payload).encode("utf-8"))
