"""Compile a checked QueryPlan to DuckDB SQL with sqlglot's expression builders.

The SQL is built as a tree, never by pasting strings, so identifiers are always quoted (odd names like
"Unit Price" or "select" just work) and values are always literals, whatever text they contain.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlglot import exp

from csvanalyst.catalog.schema import DatasetInfo
from csvanalyst.plan.model import Aggregate, Arithmetic, QueryPlan, SelectItem
from csvanalyst.plan.names import Column
from csvanalyst.plan.validate import CheckedPlan, Condition, Output, Target, check_plan

_ARITH: dict[str, type[exp.Binary]] = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul, "/": exp.Div}
_COMPARE: dict[str, type[exp.Binary]] = {
    "=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE,
}  # fmt: skip
_TEXT_FUNCS = {"contains": "CONTAINS", "starts with": "STARTS_WITH", "ends with": "ENDS_WITH"}
_AGG_FUNCS = {"sum": "SUM", "avg": "AVG", "min": "MIN", "max": "MAX", "median": "MEDIAN"}


def compile_plan(plan: QueryPlan, dataset: DatasetInfo) -> str:
    """DuckDB SQL for the plan; raises PlanError when the plan does not fit the dataset."""
    return compile_plan_expression(plan, dataset).sql(dialect="duckdb")


def compile_plan_expression(plan: QueryPlan, dataset: DatasetInfo) -> exp.Select:
    checked = check_plan(plan, dataset)
    return _Builder(checked).select()


class _Builder:
    def __init__(self, checked: CheckedPlan) -> None:
        self.checked = checked
        self.plan = checked.plan

    def select(self) -> exp.Select:
        plan, checked = self.plan, self.checked
        query = exp.select(*self._projections()).from_(exp.table_(checked.table, quoted=True))
        for join in checked.joins:
            on = exp.and_(*(exp.EQ(this=self.col(a), expression=self.col(b)) for a, b in join.pairs))
            query = query.join(exp.table_(join.table, quoted=True), on=on, join_type=join.type)
        if checked.where:
            query = query.where(exp.and_(*(self._where_item(w) for w in checked.where)))
        if checked.group_by:
            query = query.group_by(*(self.target(t) for t in checked.group_by))
        if checked.having:
            query = query.having(exp.and_(*(self.condition(c) for c in checked.having)))
        if checked.order_by:
            query = query.order_by(*(self._ordered(t, desc) for t, desc in checked.order_by))
        if plan.distinct:
            query = query.distinct()
        if plan.limit is not None:
            query = query.limit(plan.limit)
        return query

    def _projections(self) -> list[exp.Expr]:
        if not self.checked.outputs:
            return [exp.Star()]
        return [self._projection(out) for out in self.checked.outputs]

    def _projection(self, out: Output) -> exp.Expr:
        expression = self.output(out)
        item = out.item
        plain = isinstance(item, SelectItem) and item.column is not None and item.bucket is None
        if plain and item.alias is None:
            return expression
        return exp.alias_(expression, out.name, quoted=True)

    def col(self, column: Column) -> exp.Column:
        table = column.table if self.checked.qualify else None
        return exp.column(column.name, table=table, quoted=True)

    def ref(self, name: str) -> exp.Column:
        return self.col(self.checked.refs[name])

    def target(self, target: Target) -> exp.Expr:
        return self.col(target) if isinstance(target, Column) else self.output(target)

    def output(self, out: Output) -> exp.Expr:
        item = out.item
        if isinstance(item, Aggregate):
            return self._share(item, out) if item.fn == "share" else self._aggregate(item)
        if item.expr is not None:
            return self._arith(item.expr)
        assert item.column is not None
        column = self.ref(item.column)
        if item.bucket is None:
            return column
        trunc = exp.func("DATE_TRUNC", exp.Literal.string(item.bucket), column)
        return exp.cast(trunc, exp.DataType.Type.DATE)

    def _aggregate(self, agg: Aggregate) -> exp.Expr:
        if agg.expr is not None:
            arg: exp.Expr = self._arith(agg.expr)
        elif agg.column is not None:
            arg = self.ref(agg.column)
        else:
            return exp.Count(this=exp.Star())
        if agg.fn == "count":
            return exp.Count(this=arg)
        if agg.fn == "count_distinct":
            return exp.Count(this=exp.Distinct(expressions=[arg]))
        if agg.fn == "percentile":
            return exp.func("QUANTILE_CONT", arg, exp.Literal.number(agg.p))
        return exp.func(_AGG_FUNCS[agg.fn], arg)

    def _share(self, agg: Aggregate, out: Output) -> exp.Expr:
        """100 * part / whole, with the part as `agg FILTER (WHERE ...)`; an empty whole gives NULL."""
        if agg.expr is not None:
            whole: exp.Expr = exp.func("SUM", self._arith(agg.expr))
        elif agg.column is not None:
            whole = exp.func("SUM", self.ref(agg.column))
        else:
            whole = exp.Count(this=exp.Star())
        cond = exp.and_(*(self.condition(c) for c in out.part))
        part = exp.Filter(this=whole.copy(), expression=exp.Where(this=cond))
        ratio = exp.Div(this=exp.Mul(this=exp.Literal.number(100.0), expression=part),
                        expression=exp.func("NULLIF", whole, exp.Literal.number(0)))  # fmt: skip
        return ratio

    def _arith(self, expr: Arithmetic) -> exp.Expr:
        left, right = self._operand(expr.left), self._operand(expr.right)
        if expr.op == "/":
            # A zero divisor gives NULL, not inf, so one bad row cannot poison a sum or average.
            right = exp.func("NULLIF", right, exp.Literal.number(0))
        return _ARITH[expr.op](this=left, expression=right)

    def _operand(self, operand: Arithmetic | float | int | str) -> exp.Expr:
        if isinstance(operand, Arithmetic):
            return exp.paren(self._arith(operand))
        if isinstance(operand, str):
            return self.ref(operand)
        return _number(operand)

    def _where_item(self, item: Condition | list[Condition]) -> exp.Expr:
        if isinstance(item, list):
            return exp.paren(exp.or_(*(self.condition(c) for c in item)))
        return self.condition(item)

    def condition(self, cond: Condition) -> exp.Expr:
        subject = self.target(cond.target)
        if cond.by_day:
            subject = exp.cast(subject, exp.DataType.Type.DATE)
        values = [literal(v) for v in cond.values]
        return _predicate(cond.op, subject, values)

    def _ordered(self, target: Target, desc: bool) -> exp.Ordered:
        key = exp.column(target.name, quoted=True) if isinstance(target, Output) else self.col(target)
        return exp.Ordered(this=key, desc=desc, nulls_first=False)


def _predicate(op: str, subject: exp.Expr, values: list[exp.Expr]) -> exp.Expr:
    if op in _COMPARE:
        return _COMPARE[op](this=subject, expression=values[0])
    if op == "between":
        return exp.Between(this=subject, low=values[0], high=values[1])
    if op in ("in", "not in"):
        isin = subject.isin(*values)
        return exp.not_(isin) if op == "not in" else isin
    if op in ("is null", "is not null"):
        null = exp.Is(this=subject, expression=exp.Null())
        return exp.not_(null) if op == "is not null" else null
    # Functions, not LIKE: wildcards in the value (% and _) are matched literally.
    lowered = [exp.func("LOWER", subject), exp.func("LOWER", values[0])]
    return exp.func(_TEXT_FUNCS[op], *lowered)


def literal(value: Any) -> exp.Expr:
    """A typed SQL literal for a value already coerced to its column's type."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.Type.TIMESTAMP)
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    if isinstance(value, dt.time):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.TIME)
    return exp.Literal.string(str(value))


def _number(value: float | int | Decimal) -> exp.Expr:
    # A negative literal is parenthesised so `a - -1` can never read as a comment start (`--`).
    number = exp.Literal.number(value)
    return exp.paren(number) if value < 0 else number
