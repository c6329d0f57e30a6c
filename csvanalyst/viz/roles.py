"""What each column of a result is for a chart: a dimension (a group key, label or date) or a measure,
and, for a measure, which aggregate of which column it is (so axis titles can name it).

The roles come from the run's SQL (the outermost SELECT and its GROUP BY, read with sqlglot) and fall
back to the column types when the SQL cannot be read (Python runs, set operations). What a SQL text
says of its columns is remembered on disk (by the text, the names, this module's source and the sqlglot
release), so a repeat question's chart does not import sqlglot.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from csvanalyst import memo
from csvanalyst.catalog.schema import type_family
from csvanalyst.events import RunFinished

Kind = Literal["temporal", "quantitative", "nominal"]

_AGGREGATE_WORDS = {
    "Avg": "average",
    "Sum": "total",
    "Min": "minimum",
    "Max": "maximum",
    "Median": "median",
    "Stddev": "standard deviation",
    "StddevSamp": "standard deviation",
    "StddevPop": "standard deviation",
    "Variance": "variance",
    "VariancePop": "variance",
    "Quantile": "percentile",
    "QuantileCont": "percentile",
    "AnyValue": "a value",
}


@dataclass(frozen=True)
class ColumnRole:
    """One result column as a chart sees it."""

    name: str
    kind: Kind
    dimension: bool
    title: str
    distinct: int


def encoding_kind(duckdb_type: str) -> Kind:
    family = type_family(duckdb_type)
    if family in ("date", "timestamp"):
        return "temporal"
    if family in ("integer", "float", "decimal"):
        return "quantitative"
    return "nominal"


def column_roles(run: RunFinished) -> list[ColumnRole]:
    """The role of every column, in result order."""
    names = [c["name"] for c in run.columns]
    described = _described_projections(run.sql, names)
    roles = []
    for index, column in enumerate(run.columns):
        kind = encoding_kind(column["type"])
        aggregate, grouped = described.get(column["name"], (None, False))
        dimension = grouped or (aggregate is None and kind != "quantitative")
        distinct = len({_hashable(row[index]) for row in run.rows if index < len(row)})
        roles.append(ColumnRole(column["name"], kind, dimension, aggregate or column["name"], distinct))
    return roles


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else repr(value)


Described = dict[str, tuple[str | None, bool]]


def _described_projections(sql: str, names: list[str]) -> Described:
    """Output name → (aggregate description or None, is a GROUP BY key), for SQL we can read."""
    return dict(_remembered(sql, tuple(names)))


@lru_cache(maxsize=64)
def _remembered(sql: str, names: tuple[str, ...]) -> Described:
    from csvanalyst.config import get_settings

    directory = get_settings().cache_dir / "charts"
    key = memo.key_of({"reader": _reader_version(), "sql": sql, "names": list(names)})
    entry = memo.read(directory, key)
    described = entry.get("described") if entry is not None else None
    if isinstance(described, dict) and all(_is_role(v) for v in described.values()):
        return {name: (value[0], bool(value[1])) for name, value in described.items()}
    fresh = _read_projections(sql, list(names))
    memo.write(directory, key, {"described": fresh})
    return fresh


def _is_role(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str | None)


@lru_cache(maxsize=1)
def _reader_version() -> str:
    return memo.source_digest([Path(__file__)], library="sqlglot")


def _read_projections(sql: str, names: list[str]) -> Described:
    select = _outer_select(sql)
    if select is None or len(select.expressions) != len(names):
        return {}
    import sqlglot.expressions as exp

    grouped = bool(select.args.get("group"))
    described: Described = {}
    for name, projection in zip(names, select.expressions, strict=True):
        if isinstance(projection, exp.Star):
            return {}
        aggregate = projection.find(exp.AggFunc)
        if aggregate is not None and aggregate.find_ancestor(exp.Window) is None:
            described[name] = (_describe(aggregate), False)
        else:
            described[name] = (None, grouped and projection.find(exp.AggFunc) is None)
    return described


def _outer_select(sql: str) -> Any:
    import sqlglot
    import sqlglot.expressions as exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except (SqlglotError, ValueError):
        return None
    return tree if isinstance(tree, exp.Select) else None


def _describe(aggregate: Any) -> str:
    """'average of Horsepower', 'number of rows', 'number of distinct customer_id'."""
    import sqlglot.expressions as exp

    argument = aggregate.this
    if isinstance(aggregate, exp.Count):
        if argument is None or isinstance(argument, exp.Star):
            return "number of rows"
        if isinstance(argument, exp.Distinct):
            return f"number of distinct {', '.join(_plain(e) for e in argument.expressions)}"
        return f"number of {_plain(argument)}"
    word = _AGGREGATE_WORDS.get(type(aggregate).__name__, aggregate.sql_name().lower())
    return f"{word} of {_plain(argument)}" if argument is not None else word


def _plain(expression: Any) -> str:
    """An expression as a reader would write it: identifiers unquoted."""
    import sqlglot.expressions as exp

    if isinstance(expression, exp.Column):
        return expression.name
    text: str = expression.sql(dialect="duckdb", identify=False)
    return text
