"""QueryPlan: the structured question the planner emits instead of raw SQL.

A plan is JSON. It names one base `table`, optional `joins` to other tables of the same dataset, what to
`select` and which `aggregates` to compute, `filters` (all must hold; an `{"any": [...]}` item holds when
one of its filters does), an optional `group_by`, `having`, `order_by` and `limit`. Example:

    {"table": "orders",
     "joins": [{"table": "customers", "on": [["orders.customer_id", "customers.customer_id"]],
                "type": "left"}],
     "select": [{"column": "customers.region"},
                {"column": "order_date", "bucket": "month", "as": "month"}],
     "aggregates": [{"fn": "sum", "column": "amount", "as": "revenue"},
                    {"fn": "count", "as": "orders"},
                    {"fn": "percentile", "column": "amount", "p": 0.9}],
     "filters": [{"column": "status", "op": "in", "value": ["shipped", "delivered"]},
                 {"column": "order_date", "op": "between", "value": ["2024-01-01", "2024-12-31"]}],
     "having": [{"column": "revenue", "op": ">", "value": 1000}],
     "order_by": [{"column": "revenue", "desc": true}],
     "limit": 10}

Rules worth knowing:
- Columns are written bare (`amount`) when only one table in the plan has that name, else qualified
  (`customers.region`). Names match exactly; a name that differs only in letter case is accepted when it
  is the only such match.
- `select` items are a `column` (optionally with a time `bucket`: day, week, month, quarter, year; weeks
  start on Monday and a bucket is a DATE), or an arithmetic `expr` such as
  `{"expr": {"op": "*", "left": "quantity", "right": "unit_price"}, "as": "line_total"}` (operands are
  column names, numbers or nested exprs; division by zero gives null). A bare string is short for
  `{"column": ...}`. Output columns are the selects, then the aggregates; with neither, every column.
  `"distinct": true` drops duplicate rows.
- Aggregates: count (of rows, or of non-null values of `column`), count_distinct, sum, avg, min, max,
  median, percentile (with `p` strictly between 0 and 1). Sum/avg/median/percentile need a numeric
  column or `expr`. Without `as`, names are derived: `count`, `count_x`, `count_distinct_x`, `sum_x`,
  `p90_x`, ...
- Filter ops: =, !=, <, <=, >, >=, in, not in, between (two values, inclusive), is null, is not null,
  contains, starts with, ends with (the last three on text, case-insensitive, no wildcards). Dates are
  ISO strings ("2024-01-31"); a date-only value against a timestamp column compares whole days.
  Filters may name a non-aggregate select alias (e.g. a bucket). As in SQL, rows where the column is
  null match no comparison (`!=` and `not in` included); use `is null` for them.
- With aggregates and no `group_by`, the non-aggregate selects are the groups. `having` names aggregate
  aliases or group columns; `order_by` names output aliases or columns (a bare string sorts ascending).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from csvanalyst.errors import PlanError

Scalar = str | int | float | bool
FilterOp = Literal[
    "=", "!=", "<", "<=", ">", ">=", "in", "not in", "between", "is null", "is not null",
    "contains", "starts with", "ends with",
]  # fmt: skip
AggFn = Literal["count", "count_distinct", "sum", "avg", "min", "max", "median", "percentile", "share"]
Bucket = Literal["day", "week", "month", "quarter", "year"]
ArithOp = Literal["+", "-", "*", "/"]

LIST_OPS = frozenset({"in", "not in"})
NULL_OPS = frozenset({"is null", "is not null"})
TEXT_OPS = frozenset({"contains", "starts with", "ends with"})

# Spellings a model or a person tends to write; mapped before validation so the schema stays small.
_OP_SYNONYMS = {"==": "=", "<>": "!=", "eq": "=", "ne": "!=", "neq": "!=", "lt": "<", "le": "<=",
                "lte": "<=", "gt": ">", "ge": ">=", "gte": ">=", "like": "contains",
                "startswith": "starts with", "endswith": "ends with", "is": "is null",
                "not null": "is not null", "null": "is null", "nin": "not in"}  # fmt: skip
_FN_SYNONYMS = {"mean": "avg", "average": "avg", "distinct_count": "count_distinct",
                "countdistinct": "count_distinct", "quantile": "percentile", "n": "count",
                "total": "sum", "minimum": "min", "maximum": "max"}  # fmt: skip
_MAX_EXPR_DEPTH = 4


class _Strict(BaseModel):
    """Unknown keys are mistakes: reject them instead of silently ignoring part of a question."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Arithmetic(_Strict):
    """`left op right` over numbers; operands are column names, numbers or nested expressions."""

    op: ArithOp = Field(description="the arithmetic operator")
    left: Arithmetic | float | int | str = Field(description="a column name, a number or a nested expression")
    right: Arithmetic | float | int | str = Field(description="a column name, a number or a nested expression")

    @field_validator("left", "right")
    @classmethod
    def _operand(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("operands are column names, numbers or nested expressions, not booleans")
        if isinstance(value, str) and not value.strip():
            raise ValueError("an operand column name is empty")
        return value

    def depth(self) -> int:
        subs = [o.depth() for o in (self.left, self.right) if isinstance(o, Arithmetic)]
        return 1 + max(subs, default=0)

    def columns(self) -> list[str]:
        """Column operands, left to right."""
        found: list[str] = []
        for operand in (self.left, self.right):
            if isinstance(operand, Arithmetic):
                found.extend(operand.columns())
            elif isinstance(operand, str):
                found.append(operand)
        return found


class SelectItem(_Strict):
    """One output column: a column (optionally time-bucketed) or an arithmetic expression."""

    column: str | None = Field(default=None, description="`amount` or `customers.region`")
    bucket: Bucket | None = Field(default=None, description="truncate a date/timestamp column; gives a DATE")
    expr: Arithmetic | None = Field(default=None, description="an arithmetic expression instead of a column")
    alias: str | None = Field(default=None, alias="as", description="output column name")

    @field_validator("bucket", mode="before")
    @classmethod
    def _bucket(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _shape(self) -> SelectItem:
        if (self.column is None) == (self.expr is None):
            raise ValueError("a select item needs exactly one of `column` or `expr`")
        if self.bucket is not None and self.column is None:
            raise ValueError("`bucket` applies to a `column`, not to an `expr`")
        if self.expr is not None and not self.alias:
            raise ValueError("an `expr` select item needs a name in `as`")
        if self.expr is not None and self.expr.depth() > _MAX_EXPR_DEPTH:
            raise ValueError(f"expressions nest at most {_MAX_EXPR_DEPTH} levels deep")
        return self


class Aggregate(_Strict):
    """An aggregate over the rows of each group (or of the whole filtered table)."""

    fn: AggFn = Field(
        description="the aggregate function; count without a column counts rows; share is the percentage of "
        "rows (or of a column's sum) for which `where` holds"
    )
    column: str | None = Field(default=None, description="the column aggregated (`amount`, `orders.amount`)")
    expr: Arithmetic | None = Field(default=None, description="an arithmetic expression instead of a column")
    p: float | None = Field(default=None, description="percentile only: 0 < p < 1, e.g. 0.9")
    alias: str | None = Field(default=None, alias="as", description="output column name")
    where: list[Filter] = Field(default_factory=list, description="share only: the conditions of the part")

    @field_validator("fn", mode="before")
    @classmethod
    def _fn(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        key = value.strip().lower().replace(" ", "_").replace("-", "_")
        return _FN_SYNONYMS.get(key, key)

    @model_validator(mode="after")
    def _shape(self) -> Aggregate:
        if self.column is not None and self.expr is not None:
            raise ValueError("an aggregate takes `column` or `expr`, not both")
        if self.column is None and self.expr is None and self.fn not in ("count", "share"):
            raise ValueError(f"aggregate `{self.fn}` needs a `column` (only `count` may omit it)")
        if self.fn == "percentile":
            if self.p is None:
                raise ValueError("aggregate `percentile` needs `p`, e.g. 0.9 for the 90th percentile")
            if not 0 < self.p < 1:
                raise ValueError(f"percentile `p` must be strictly between 0 and 1, got {self.p}")
        elif self.p is not None:
            raise ValueError(f"`p` only applies to `percentile`, not to `{self.fn}`")
        if (self.fn == "share") != bool(self.where):
            raise ValueError("`share` needs `where` (the part's conditions), and only `share` takes `where`")
        if self.expr is not None and self.expr.depth() > _MAX_EXPR_DEPTH:
            raise ValueError(f"expressions nest at most {_MAX_EXPR_DEPTH} levels deep")
        return self


class Filter(_Strict):
    """`column op value`; the value's shape depends on the operator."""

    column: str = Field(description="the column tested (or an aggregate alias in `having`)")
    op: FilterOp = Field(description="the comparison; text values are compared exactly")
    value: Scalar | list[Scalar] | None = Field(
        default=None, description="one value; a list for in/not in; [low, high] for between; none for is null"
    )

    @field_validator("op", mode="before")
    @classmethod
    def _op(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        key = " ".join(value.strip().lower().replace("_", " ").split())
        return _OP_SYNONYMS.get(key, key)

    @model_validator(mode="after")
    def _shape(self) -> Filter:
        value, op = self.value, self.op
        if op in NULL_OPS:
            if value is not None:
                raise ValueError(f"`{op}` takes no value")
        elif op == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise ValueError("`between` needs a list of exactly two values [low, high]")
        elif op in LIST_OPS:
            if not isinstance(value, list) or not value:
                raise ValueError(f"`{op}` needs a non-empty list of values")
        elif value is None or isinstance(value, list):
            raise ValueError(f"`{op}` needs a single value (use `in` for a list, `is null` for nulls)")
        return self

    def values(self) -> list[Scalar]:
        """The value(s) as a list, whatever the operator."""
        if self.value is None:
            return []
        return list(self.value) if isinstance(self.value, list) else [self.value]


class AnyOf(_Strict):
    """Holds when at least one of its filters holds (SQL OR)."""

    any: list[Filter] = Field(min_length=1, description="filters of which at least one must hold (SQL OR)")


def _filter_kind(value: Any) -> str:
    """Pick the branch up front so an error names one shape, not both."""
    if isinstance(value, dict):
        return "any" if "any" in value else "filter"
    return "any" if isinstance(value, AnyOf) else "filter"


class Join(_Strict):
    """Join another table of the dataset on equal columns.

    Each `on` item is a pair `["orders.customer_id", "customers.customer_id"]`, or one name when both
    sides share it (`"customer_id"`).
    """

    table: str = Field(description="the table joined")
    on: list[tuple[str, str] | str] = Field(
        min_length=1, description='pairs ["orders.customer_id", "customers.customer_id"], or one shared name'
    )
    type: Literal["inner", "left"] = Field("inner", description="inner keeps matched rows only; left keeps all")

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class OrderBy(_Strict):
    column: str = Field(description="an output column or alias")
    desc: bool = Field(False, description="true for descending order")


class QueryPlan(_Strict):
    """The whole question; see the module docstring for the JSON shape."""

    table: str = Field(description="the main table")
    joins: list[Join] = Field(default_factory=list, description="other tables joined on equal columns")
    select: list[SelectItem] = Field(default_factory=list, description="output columns; with aggregates, the groups")
    aggregates: list[Aggregate] = Field(default_factory=list, description="aggregates per group (or over all rows)")
    filters: list[
        Annotated[Annotated[Filter, Tag("filter")] | Annotated[AnyOf, Tag("any")], Discriminator(_filter_kind)]
    ] = Field(default_factory=list, description="row conditions, all of which must hold (SQL WHERE)")
    group_by: list[str] | None = Field(default=None, description="default: the non-aggregate selects")
    having: list[Filter] = Field(default_factory=list, description="conditions on aggregate aliases")
    order_by: list[OrderBy] = Field(default_factory=list, description="sort order of the output")
    distinct: bool = Field(False, description="drop duplicate output rows")
    limit: int | None = Field(default=None, ge=1, description="at most this many rows")

    @field_validator("select", mode="before")
    @classmethod
    def _select_strings(cls, value: Any) -> Any:
        # `"select": ["region"]` is what people write first; accept it as `{"column": "region"}`.
        if isinstance(value, list):
            return [{"column": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("order_by", mode="before")
    @classmethod
    def _order_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"column": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _shape(self) -> QueryPlan:
        if self.having and not (self.aggregates or self.group_by):
            raise ValueError("`having` needs `aggregates` or `group_by`; use `filters` for row conditions")
        if self.group_by is not None and not (self.select or self.aggregates):
            raise ValueError("`group_by` needs `select` or `aggregates` to say what to return per group")
        if self.distinct and self.aggregates:
            raise ValueError("`distinct` cannot be combined with `aggregates`; use count_distinct")
        return self


def parse_plan(data: str | bytes | dict[str, Any] | QueryPlan) -> QueryPlan:
    """Parse JSON (text or already decoded) into a plan, turning every shape problem into PlanError."""
    if isinstance(data, QueryPlan):
        return data
    try:
        raw = json.loads(data) if isinstance(data, str | bytes) else data
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"The plan is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            hint="Send the plan as one JSON object.",
        ) from exc
    if not isinstance(raw, dict):
        raise PlanError(f"The plan must be a JSON object, got {type(raw).__name__}.", hint=_SHAPE_HINT)
    try:
        return QueryPlan.model_validate(raw)
    except ValidationError as exc:
        raise PlanError(_describe(exc), hint=_SHAPE_HINT) from exc


_SHAPE_HINT = "Fix the fields named above; the plan schema lists every allowed key and value."


def _describe(exc: ValidationError) -> str:
    """One line per problem, with its place in the plan, e.g. `filters[0]: between needs ...`."""
    lines = []
    for err in exc.errors(include_url=False)[:8]:
        where = _location(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"{where or 'plan'}: {message}")
    return "Invalid plan: " + "; ".join(lines)


def _location(loc: tuple[int | str, ...]) -> str:
    """`("filters", 0, "filter", "op")` -> `filters[0].op`; the union tag after a filter index is noise."""
    text = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        elif not (i >= 2 and loc[i - 2] == "filters" and isinstance(loc[i - 1], int)):
            text += f".{part}"
    return text.lstrip(".")


def plan_json_schema() -> dict[str, Any]:
    """The JSON schema of a plan, keyed by the names used in JSON (`as`, not `alias`)."""
    return QueryPlan.model_json_schema(by_alias=True)
