"""Compare a loaded table with a corpus case's clean table, cell by cell, after one value normalisation."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from typing import Any

from tests.messy_corpus import Case, Rows


def norm(value: Any) -> str:
    """One spelling per value, so `12.50` read as 12.5 and a DATE read from text compare equal."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return repr(float(text))
    except ValueError:
        return text


def key(row: list[Any] | tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(norm(v) for v in row)


def misplaced(case: Case, loaded: list[tuple[Any, ...]]) -> list[tuple[str, ...]]:
    """Loaded rows that are neither a clean row nor an accepted polluted variant (a shifted or changed cell)."""
    allowed = Counter(key(r) for r in [*case.rows, *case.variants])
    wrong = []
    for row in loaded:
        k = key(row)
        if allowed[k] > 0:
            allowed[k] -= 1
        else:
            wrong.append(k)
    return wrong


def cell_scores(case: Case, header: list[str], loaded: list[tuple[Any, ...]]) -> dict[str, tuple[int, int, int]]:
    """(true positives, loaded, expected) for header names, records and cells, for precision and recall."""
    expected_rows: Rows = case.rows
    header_tp = sum(1 for a, b in zip(header, case.header, strict=False) if a.strip() == b)
    want = Counter(key(r) for r in expected_rows)
    got = Counter(key(r) for r in loaded)
    record_tp = sum((want & got).values())
    cells_want = Counter((i, v) for r in expected_rows for i, v in enumerate(key(r)))
    cells_got = Counter((i, v) for r in loaded for i, v in enumerate(key(r)))
    cell_tp = sum((cells_want & cells_got).values())
    return {
        "header": (header_tp, len(header), len(case.header)),
        "record": (record_tp, len(loaded), len(expected_rows)),
        "cell": (cell_tp, sum(cells_got.values()), sum(cells_want.values())),
    }
