"""Turning a result into CSV or JSON text, and writing files so a crash never leaves half of one.

Shared by the CLI, the TUI and the server so every front end exports the same way.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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
    with atomic_target(path) as tmp:
        tmp.write_bytes(data)


@contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """A temp file beside `path` to write; renamed over `path` when the block succeeds, removed if not.

    The file gets the mode a plain `open()` would give it (0666 less the umask; an existing file's own
    mode), not mkstemp's private 0600: an export is meant to be read like any file the user writes."""
    import shutil

    path = path.expanduser()
    directory = path.parent if str(path.parent) else Path(".")
    # A private (0700) directory beside the target: nobody else can plant a file or link at the temp
    # name, whoever creates the file (DuckDB's COPY does it itself), and the rename stays on one disk.
    private = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory))
    tmp = private / path.name
    try:
        yield tmp
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def current_umask() -> int:
    """The process umask, read without changing it where Linux tells it (os.umask is process-wide)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
