"""Turn DuckDB's CSV errors into InputErrors that name the file, the line and what to do.

DuckDB messages quote the offending line verbatim (which may be 100 MB); we keep only the facts.
"""

from __future__ import annotations

import re
from pathlib import Path

from csvanalyst.catalog.precheck import MAX_LINE_BYTES
from csvanalyst.errors import InputError

_LINE = re.compile(r"CSV Error on Line: (\d+)")

_KINDS: list[tuple[str, str, str]] = [
    (
        "maximum line size",
        "has a line longer than the limit of {limit:,} bytes",
        "Check that line for a missing closing quote or an embedded file; trim or split the field.",
    ),
    (
        "unterminated quote",
        "has a quoted value that is never closed",
        'Close the quote (a literal quote inside a quoted value is written as "").',
    ),
    (
        "invalid unicode",
        "is not valid UTF-8",
        "Re-save the file as UTF-8, or fix the bytes on that line.",
    ),
    (
        "expected number of columns",
        "has a row whose number of fields differs from the header",
        "Fix that row (a missing or extra delimiter, or an unquoted value that contains one).",
    ),
    (
        "could not convert",
        "has a value that does not match its column's type",
        "Fix the value, or make the column consistently typed.",
    ),
    (
        "not possible to automatically detect",
        "could not be read as a table (no consistent delimiter, quoting or number of fields)",
        "Check that it is a CSV file with the same number of fields on every line.",
    ),
]


def line_of(message: str) -> int | None:
    match = _LINE.search(message)
    return int(match.group(1)) if match else None


def csv_error(exc: Exception, path: Path, original: Path | None = None) -> InputError:
    """An InputError for a DuckDB exception raised while reading `path` (a copy of `original`)."""
    message = str(exc)
    # DuckDB lists every "possible fix" (max_line_size among them) after the error itself: only the
    # error may decide what we say, or a 5 KB file is told its line is over the size limit.
    lowered = re.split(r"possible fixes:|parser options:", message.lower(), maxsplit=1)[0]
    shown = original or path
    line = line_of(message)
    where = f" (line {line})" if line else ""
    for needle, what, hint in _KINDS:
        if needle in lowered:
            return InputError(f"{shown}{where} {what.format(limit=MAX_LINE_BYTES)}.", hint=hint)
    first = message.splitlines()[0][:300] if message else type(exc).__name__
    return InputError(
        f"{shown}{where} could not be read as CSV: {first}",
        hint="Check the file's format; if it opens in a spreadsheet, export it again as CSV.",
    )
