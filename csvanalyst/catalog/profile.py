"""Column statistics in one scan per table: nulls, distinct counts, min, max, and a few samples.

One aggregate query with every column's stats keeps a wide table at one scan instead of one per column.
Samples come from the first rows (no scan at all), in file order, so they are deterministic.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import TYPE_CHECKING, Any

from csvanalyst.catalog.csvsql import quote_ident
from csvanalyst.catalog.schema import ColumnInfo, ColumnStats

if TYPE_CHECKING:
    import duckdb

EXACT_DISTINCT_ROWS = 1_000_000  # above this, approx_count_distinct (HyperLogLog) is close enough
MAX_VALUE_CHARS = 80
SAMPLE_COUNT = 5
SAMPLE_ROWS = 1000
MAX_CATEGORY_VALUES = 30  # a text column with at most this many distinct values lists them all
# Short names (countries, states, codes) are listed up to this many when they fit in the character budget,
# so a question naming one of them can be linked to its column.
MAX_NAME_VALUES = 250
NAME_VALUES_CHARS = 2500


def profile_table(source_sql: str, columns: list[ColumnInfo]) -> tuple[int, list[ColumnInfo]]:
    """Row count and columns with `stats` filled, for the relation `source_sql` (a FROM item)."""
    import duckdb

    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        rows = int(_one_row(con, f"SELECT count(*) FROM {source_sql}")[0])
        if not columns:
            return rows, []
        exprs = [e for i, col in enumerate(columns) for e in _aggregates(i, col, rows)]
        values = _one_row(con, f"SELECT {', '.join(exprs)} FROM {source_sql}")
        stats = _unpack(columns, values, rows)
        head = con.execute(f"SELECT * FROM {source_sql} LIMIT {SAMPLE_ROWS}").fetchall()
        for col, column_stats in zip(columns, stats, strict=True):
            column_stats.values = _category_values(con, source_sql, col, column_stats)
    for index, column_stats in enumerate(stats):
        column_stats.samples = _samples([row[index] for row in head])
    return rows, [col.model_copy(update={"stats": s}) for col, s in zip(columns, stats, strict=True)]


def _one_row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    """The row of an aggregate without GROUP BY, which always returns exactly one."""
    row = con.execute(sql).fetchone()
    assert row is not None
    return row


def _aggregates(index: int, col: ColumnInfo, rows: int) -> list[str]:
    name = quote_ident(col.name)
    distinct = f"count(DISTINCT {name})" if rows <= EXACT_DISTINCT_ROWS else f"approx_count_distinct({name})"
    exprs = [f"count({name})", distinct]
    if col.family == "other":
        return [*exprs, "NULL", "NULL"]
    if col.family == "text":
        return [*exprs, f"left(min({name}), {MAX_VALUE_CHARS})", f"left(max({name}), {MAX_VALUE_CHARS})"]
    return [*exprs, f"min({name})", f"max({name})"]


def _unpack(columns: list[ColumnInfo], values: tuple[Any, ...], rows: int) -> list[ColumnStats]:
    stats = []
    for i in range(len(columns)):
        non_null, distinct, low, high = values[4 * i : 4 * i + 4]
        stats.append(
            ColumnStats(
                null_count=rows - int(non_null),
                distinct_count=int(distinct),
                min=jsonable(low),
                max=jsonable(high),
            )
        )
    return stats


def _category_values(con: Any, source_sql: str, col: ColumnInfo, stats: ColumnStats) -> list[Any] | None:
    """Every distinct value of a category-like text column, most frequent first (ties by value)."""
    if col.family != "text" or stats.distinct_count is None or not 0 < stats.distinct_count <= MAX_NAME_VALUES:
        return None
    name = quote_ident(col.name)
    rows = con.execute(
        f"SELECT {name} FROM {source_sql} WHERE {name} IS NOT NULL GROUP BY {name}"
        f" ORDER BY count(*) DESC, {name} LIMIT {MAX_NAME_VALUES + 1}"
    ).fetchall()
    values = [jsonable(row[0]) for row in rows]
    if len(values) > MAX_CATEGORY_VALUES and sum(len(str(v)) for v in values) > NAME_VALUES_CHARS:
        return None
    return values


def _samples(values: list[Any]) -> list[Any]:
    """First few distinct non-null values, shortened, as JSON-friendly scalars."""
    seen: list[Any] = []
    for value in values:
        converted = jsonable(value)
        if converted is not None and converted not in seen:
            seen.append(converted)
            if len(seen) == SAMPLE_COUNT:
                break
    return seen


def jsonable(value: Any) -> Any:
    """JSON-native form of a DuckDB value: ISO strings for dates and times, floats for decimals."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"
