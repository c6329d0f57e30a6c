"""Linking question words to what a table holds, beyond its names: time-named columns, yes/no columns,
counted tables, and the spellings of category values people use.

Each rule reads the schema context only (names, types, distinct counts, value lists), so it works on
any table:

- a column named like a time unit (`day`, `year`) that is not a date is grouped or filtered as it is:
  "by day" on a text `day` column groups by it; "in 2007" on an integer `year` column is `year = 2007`;
- a yes/no column (`member BOOLEAN`) named in the question is a filter: "members" is `member`,
  "non members" is `NOT member`;
- a table of counts (a numeric column named `count`, `n`, `frequency`, …) is counted by summing it;
- "stormy"/"muddy" name the values `storm`/`mud`; "monday" names `Mon` (calendar abbreviations).
"""

from __future__ import annotations

import calendar
from typing import Any

from csvanalyst.llm.offline.match import ABBREVIATIONS, Col, Table, normal_value
from csvanalyst.llm.offline.time import Period

TIME_UNITS = frozenset({"day", "week", "month", "quarter", "year"})
_COUNT_NAMES = frozenset({("count",), ("n",), ("number",), ("frequency",), ("freq",), ("cnt",), ("num",)})
_CALENDAR = {w.lower() for w in [*calendar.day_name, *calendar.month_name] if w}
NEGATIONS = frozenset({"non", "not", "no", "without"})


def time_named_column(unit: str, tables: list[Table]) -> Col | None:
    """A column that is not a date but is named by a time unit (`day`, `year`, `yr`)."""
    for table in tables:
        for col in table.columns:
            parts = tuple(ABBREVIATIONS.get(p, p) for p in col.stems)
            if parts == (unit,) and not col.temporal:
                return col
    return None


def integer_year_column(tables: list[Table]) -> Col | None:
    col = time_named_column("year", tables)
    return col if col is not None and col.family == "integer" else None


def year_filter(period: Period, col: Col) -> tuple[str, Any] | None:
    """A calendar period as a filter on an integer year column; None when it is finer than a year."""
    years = [v[:4] for v in period.values]
    whole = all(v[5:] in ("01-01", "12-31") for v in period.values)
    if not whole:
        return None
    if period.op == "between":
        low, high = int(years[0]), int(years[1])
        return ("=", low) if low == high else ("between", [low, high])
    if period.op == ">":
        return ">", int(years[0])
    if period.op == "<":
        return "<", int(years[0])
    return period.op, int(years[0])


def count_column(table: Table) -> Col | None:
    """The column a table of counts keeps its counts in (`item, count`): counting it means summing it."""
    cols = [c for c in table.columns if c.numeric and c.stems in _COUNT_NAMES]
    return cols[0] if len(cols) == 1 else None


def value_forms(word: str) -> list[str]:
    """Other spellings a value may have in the data: `stormy` → `storm`, `muddy` → `mud`."""
    forms = []
    if len(word) > 4 and word.endswith("y"):
        stem = word[:-1]
        forms.append(stem)
        if len(stem) > 3 and stem[-1] == stem[-2]:
            forms.append(stem[:-1])
    return forms


def calendar_hits(word: str, cols: list[Col]) -> list[tuple[Col, tuple[Any, ...]]]:
    """`monday` for a value `Mon`, `september` for `Sept`: calendar names written short in the data."""
    if word not in _CALENDAR:
        return []
    hits = []
    for col in cols:
        if col.values is None or col.family != "text":
            continue
        same = tuple(
            v
            for v in col.values
            if v is not None and len(normal_value(v)) >= 3 and word.startswith(normal_value(v).replace(" ", ""))
        )
        if len({normal_value(v) for v in same}) == 1:
            hits.append((col, same))
    return hits


def boolean_column(stems: tuple[str, ...], cols: list[Col], score: Any) -> Col | None:
    """A yes/no column the words name (`members` for `member`), if exactly one fits well."""
    found = [c for c in cols if c.family == "boolean" and score(stems, c.stems, c.name) >= 0.85]
    return found[0] if len(found) == 1 else None
