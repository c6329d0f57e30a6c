"""SQL-safe names for tables and datasets, and unique column names.

Names reach SQL, file paths and the command line, so they are kept to `[a-z0-9_]` and start with a
letter; that removes any need for quoting and any chance of path tricks.
"""

from __future__ import annotations

import difflib
import re

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# A dataset name becomes a folder and file names in the cache (plus suffixes): well under the 255-byte
# limit of a file name, and short enough to type.
MAX_DATASET_NAME = 64


def normalize_name(raw: str) -> str:
    """`"2023 Sales-Report"` -> `"t_2023_sales_report"`: lowercase, runs of other chars -> `_`."""
    name = _NON_ALNUM.sub("_", raw.strip().lower()).strip("_")
    if not name:
        return "t_"
    if not name[0].isalpha():
        return f"t_{name}"
    return name


def dataset_name(given: str | None, derived_from: str) -> str:
    """The dataset's name: the user's (refused when too long) or one made from the file name (shortened)."""
    from csvanalyst.errors import UsageError

    if given is None:
        return normalize_name(derived_from)[:MAX_DATASET_NAME].rstrip("_")
    name = normalize_name(given)
    if len(name) > MAX_DATASET_NAME:
        raise UsageError(
            f"The dataset name is {len(name)} characters long; the most is {MAX_DATASET_NAME}.",
            hint=f"Choose a shorter --name (for example {name[:24].rstrip('_')!r}).",
        )
    return name


def unique_columns(raw: list[str]) -> tuple[list[str], list[str]]:
    """Make header names usable: blanks become `column_<n>`, repeats get `_2`, `_3`.

    Returns the names and human-readable notes about every change, so nothing is renamed silently.
    """
    names: list[str] = []
    notes: list[str] = []
    seen: set[str] = set()
    for position, original in enumerate(raw, start=1):
        name = original.strip()
        if not name:
            name = f"column_{position}"
            notes.append(f"column {position} has no name in the header; named it {name!r}")
        base, suffix = name, 2
        while name.lower() in seen:
            name = f"{base}_{suffix}"
            suffix += 1
        if name != original.strip() and original.strip():
            notes.append(f"column {position} repeats the name {original.strip()!r}; renamed it {name!r}")
        seen.add(name.lower())
        names.append(name)
    return names, notes


def close_matches(name: str, candidates: list[str]) -> list[str]:
    """Up to three candidates that look like `name`, for "did you mean" hints."""
    return difflib.get_close_matches(name.lower(), candidates, n=3, cutoff=0.5)
