"""Turning a result into CSV or JSON text, and writing files so a crash never leaves half of one.

Shared by the CLI, the TUI and the server so every front end exports the same way.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

# A text cell starting with one of these is run as a formula by spreadsheet programs (CWE-1236).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: Any) -> Any:
    """Prefix a quote to text a spreadsheet would evaluate; numbers (even negative) stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv(columns: list[str], rows: list[list[Any]], *, escape_formulas: bool = True) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([neutralise_formula(c) if escape_formulas else c for c in columns])
    for row in rows:
        cells = ["" if v is None else v for v in row]
        if escape_formulas:
            cells = [neutralise_formula(v) for v in cells]
        writer.writerow([_csv_cell(v) for v in cells])
    return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def to_json_document(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, default=str)


def write_atomic(path: Path, text: str) -> None:
    """Write to a temp file beside `path`, then rename: readers see the old file or the whole new one."""
    if not isinstance(text, str):
        raise TypeError(f"expected text, got {type(text).__name__}")
    write_atomic_bytes(path, text.encode("utf-8"))


def write_atomic_bytes(path: Path, data: bytes) -> None:
    path = path.expanduser()
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
