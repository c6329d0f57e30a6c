"""Notes the model reads with a result, so an empty answer is never taken for a fact about the data.

A text filter value the column does not hold (`day = 'Saturday'` on a column of `Sat`, `Sun`) matches
nothing silently in SQL; the note names the column's nearest values. An empty result, or one whose
every cell is NULL, is said to be so.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from typing import Any

from csvanalyst.catalog.schema import DatasetInfo

_EQUALITY = frozenset({"=", "!=", "in", "not in"})
MISSING_VALUE = "has no value"


def is_missing_value_note(note: str) -> bool:
    """A note saying a filter compared a column with a value it never holds (so the result is suspect)."""
    return note.startswith("Column ") and f" {MISSING_VALUE} " in note


def result_notes(kind: str, text: str, dataset: DatasetInfo, rows: list[list[Any]], row_count: int) -> list[str]:
    notes = [_missing_value(col, value, dataset) for col, value in _text_filters(kind, text)]
    found = [n for n in notes if n]
    if row_count == 0:
        found.append("The result is empty: no row matched the query's conditions.")
    elif rows and all(cell is None for row in rows for cell in row):
        found.append("Every value of the result is NULL: no row matched the conditions, or the column is empty there.")
    return found


def _text_filters(kind: str, text: str) -> Iterator[tuple[str, str]]:
    if kind == "plan":
        yield from _plan_filters(text)
    elif kind == "sql":
        yield from _sql_filters(text)


def _plan_filters(text: str) -> Iterator[tuple[str, str]]:
    try:
        plan = json.loads(text)
    except ValueError:
        return
    filters = [*plan.get("filters", [])] if isinstance(plan, dict) else []
    while filters:
        item = filters.pop()
        if not isinstance(item, dict):
            continue
        filters.extend(item.get("any", []) if isinstance(item.get("any"), list) else [])
        if item.get("op") in _EQUALITY and isinstance(item.get("column"), str):
            given = item.get("value")
            values = given if isinstance(given, list) else [given]
            for value in values:
                if isinstance(value, str):
                    yield item["column"], value


def _sql_filters(text: str) -> Iterator[tuple[str, str]]:
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.ParseError:
        return
    for node in tree.find_all(exp.EQ, exp.NEQ, exp.In):
        column = node.this if isinstance(node.this, exp.Column) else node.expression
        if not isinstance(column, exp.Column):
            continue
        others = node.expressions if isinstance(node, exp.In) else [node.expression, node.this]
        for other in others:
            if isinstance(other, exp.Literal) and other.is_string:
                yield column.name, other.this


def _missing_value(column: str, value: str, dataset: DatasetInfo) -> str | None:
    """A note when the profile lists every value of the column and `value` is not one of them."""
    name = column.split(".")[-1]
    for table in dataset.tables:
        col = table.column(name)
        known = col.stats.values if col is not None and col.stats is not None else None
        if not known:
            continue
        spelled = [str(v) for v in known if v is not None]
        if value in spelled:
            return None
        near = _nearest(value, spelled)
        listed = ", ".join(repr(v) for v in near) if near else ", ".join(repr(v) for v in spelled[:5])
        return f"Column {name} {MISSING_VALUE} {value!r}; its nearest values are {listed}."
    return None


def _nearest(value: str, spelled: list[str]) -> list[str]:
    low = value.lower().strip()
    same = [v for v in spelled if v.lower().strip() == low]
    prefix = [v for v in spelled if len(v) >= 3 and (low.startswith(v.lower()) or v.lower().startswith(low))]
    close = difflib.get_close_matches(value, spelled, n=3, cutoff=0.5)
    return list(dict.fromkeys([*same, *prefix, *close]))[:3]
