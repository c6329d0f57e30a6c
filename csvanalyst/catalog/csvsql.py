"""Render `read_csv(path, **options)` as DuckDB SQL with every value a proper literal.

Options hold user-controlled strings (column names, paths), so they are escaped here, in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def literal(value: Any) -> str:
    """A DuckDB literal for str, bool, int, float, list and dict (dict -> struct literal)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return "'" + str(value).replace("'", "''") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no DuckDB literal for {type(value).__name__}")


def read_csv_sql(path: Path | str, options: dict[str, Any]) -> str:
    """`read_csv('<path>', k => v, ...)` for use in FROM clauses."""
    args = "".join(f", {key}={literal(value)}" for key, value in options.items())
    return f"read_csv({literal(str(path))}{args})"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
