"""Check a QueryPlan against a dataset's schema and resolve every name it uses.

Errors name the clause, what was wrong and the closest valid names, because the reader is often a
model that will retry with the suggestion. Names match exactly; a name differing only in letter case
is accepted when it is the only such match, since that is never ambiguous and models get case wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from csvanalyst.catalog.schema import DatasetInfo, TypeFamily
from csvanalyst.errors import PlanError
from csvanalyst.plan.model import TEXT_OPS, Aggregate, AnyOf, Arithmetic, Filter, QueryPlan, SelectItem
from csvanalyst.plan.names import Column, JoinSpec, Scope, add_join, resolve_table, suggest
from csvanalyst.plan.values import coerce_values

NUMERIC: frozenset[TypeFamily] = frozenset({"integer", "float", "decimal"})
NUMERIC_FNS = frozenset({"sum", "avg", "median", "percentile", "share"})


@dataclass(frozen=True)
class Output:
    """One output column of the query, in output order."""

    name: str
    item: SelectItem | Aggregate
    family: TypeFamily
    part: tuple[Condition, ...] = ()  # a share's conditions

    @property
    def is_aggregate(self) -> bool:
        return isinstance(self.item, Aggregate)


Target = Column | Output


@dataclass(frozen=True)
class Condition:
    """A filter with its target resolved and its values typed; `by_day` compares timestamps as dates."""

    target: Target
    op: str
    values: list[Any]
    by_day: bool = False


@dataclass
class CheckedPlan:
    """Everything the compiler needs, already checked: it never has to raise."""

    plan: QueryPlan
    table: str
    qualify: bool
    refs: dict[str, Column] = field(default_factory=dict)
    joins: list[JoinSpec] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    where: list[Condition | list[Condition]] = field(default_factory=list)
    group_by: list[Target] = field(default_factory=list)
    having: list[Condition] = field(default_factory=list)
    order_by: list[tuple[Target, bool]] = field(default_factory=list)

    @property
    def aggregated(self) -> bool:
        return bool(self.plan.aggregates) or self.plan.group_by is not None


def validate_plan(plan: QueryPlan, dataset: DatasetInfo) -> None:
    """Raise PlanError for the first problem found; return quietly for a plan that compiles."""
    check_plan(plan, dataset)


def check_plan(plan: QueryPlan, dataset: DatasetInfo) -> CheckedPlan:
    base = resolve_table(dataset, plan.table, "table")
    scope = Scope(dataset, [base])
    checked = CheckedPlan(plan=plan, table=base.name, qualify=bool(plan.joins))
    for i, join in enumerate(plan.joins):
        checked.joins.append(add_join(scope, join, f"joins[{i}]"))
    checker = _Checker(scope, checked)
    checker.outputs()
    checker.where()
    checker.groups()
    checker.having()
    checker.order()
    return checked


class _Checker:
    """Walks the plan's clauses in SQL order, filling a CheckedPlan."""

    def __init__(self, scope: Scope, checked: CheckedPlan) -> None:
        self.scope = scope
        self.checked = checked
        self.plan = checked.plan

    def column(self, ref: str, where: str) -> Column:
        col = self.scope.column(ref, where)
        self.checked.refs[ref] = col
        return col

    def outputs(self) -> None:
        for i, item in enumerate(self.plan.select):
            self.checked.outputs.append(self._select(item, f"select[{i}]"))
        for i, agg in enumerate(self.plan.aggregates):
            self.checked.outputs.append(self._aggregate(agg, f"aggregates[{i}]"))
        seen: dict[str, int] = {}
        for i, out in enumerate(self.checked.outputs):
            if out.name in seen:
                raise PlanError(
                    f"Two output columns are both named '{out.name}'.",
                    hint="Give one of them a different name with `as`.",
                )
            seen[out.name] = i

    def _select(self, item: SelectItem, where: str) -> Output:
        if item.expr is not None:
            return Output(item.alias or "", item, self._arith(item.expr, where))
        assert item.column is not None
        col = self.column(item.column, where)
        if item.bucket is None:
            return Output(item.alias or col.name, item, col.family)
        if col.family not in ("date", "timestamp"):
            raise PlanError(
                f"{where}: cannot bucket {col.label} by {item.bucket}: it is {col.family}, not a date.",
                hint=f"Buckets apply to date or timestamp columns.{self.scope.of_family(('date', 'timestamp'))}",
            )
        return Output(item.alias or f"{col.name}_{item.bucket}", item, "date")

    def _aggregate(self, agg: Aggregate, where: str) -> Output:
        family: TypeFamily = "integer"
        label, subject = "", "the input"
        if agg.expr is not None:
            family, label = self._arith(agg.expr, where), "expr"
        elif agg.column is not None:
            col = self.column(agg.column, where)
            family, label, subject = col.family, col.name, col.label
        if agg.fn in NUMERIC_FNS and family not in NUMERIC and (agg.fn != "share" or label):
            raise PlanError(
                f"{where}: {agg.fn} needs a numeric column, but {subject} is {family}.",
                hint="Use count, count_distinct, min or max for non-numeric columns." + self.scope.of_family(NUMERIC),
            )
        part = tuple(
            condition(self.column(f.column, f"{where}.where[{k}]"), f, f"{where}.where[{k}]")
            for k, f in enumerate(agg.where)
        )
        return Output(agg.alias or _default_name(agg, label), agg, _result_family(agg.fn, family), part)

    def _arith(self, expr: Arithmetic, where: str) -> TypeFamily:
        for ref in expr.columns():
            col = self.column(ref, where)
            if col.family not in NUMERIC:
                raise PlanError(
                    f"{where}: arithmetic needs numbers, but {col.label} is {col.family}.",
                    hint="Only numeric columns and numbers can be combined with + - * /."
                    + self.scope.of_family(NUMERIC),
                )
        return "float"

    def where(self) -> None:
        for i, item in enumerate(self.plan.filters):
            if isinstance(item, AnyOf):
                group = [self._filter(f, f"filters[{i}].any[{k}]") for k, f in enumerate(item.any)]
                self.checked.where.append(group)
            else:
                self.checked.where.append(self._filter(item, f"filters[{i}]"))

    def _filter(self, flt: Filter, where: str) -> Condition:
        # A real column wins over an output alias, as in SQL's WHERE.
        output = None if self.scope.has(flt.column) else self._output(flt.column)
        if output is None:
            return condition(self.column(flt.column, where), flt, where)
        if output.is_aggregate:
            raise PlanError(
                f"{where}: '{flt.column}' is an aggregate; filters apply to rows before aggregation.",
                hint=f"Move this condition to `having`: {{'column': '{flt.column}', 'op': '{flt.op}', ...}}.",
            )
        return condition(output, flt, where)

    def _output(self, name: str) -> Output | None:
        return next((o for o in self.checked.outputs if o.name == name), None)

    def groups(self) -> None:
        plan, checked = self.plan, self.checked
        plain = [o for o in checked.outputs if not o.is_aggregate]
        if plan.group_by is None:
            checked.group_by = list(plain) if plan.aggregates else []
            return
        for i, name in enumerate(plan.group_by):
            checked.group_by.append(self._group_key(name, f"group_by[{i}]"))
        for out in plain:
            if not self._grouped(out):
                raise PlanError(
                    f"select column '{out.name}' is neither aggregated nor listed in group_by.",
                    hint=f"Add '{out.name}' to group_by, or drop group_by to group by every selected column.",
                )

    def _group_key(self, name: str, where: str) -> Target:
        output = self._output(name)
        if output is not None and output.is_aggregate:
            raise PlanError(f"{where}: cannot group by the aggregate '{name}'.", hint="Group by columns.")
        return output if output is not None else self.column(name, where)

    def _grouped(self, target: Target) -> bool:
        keys = self.checked.group_by
        if target in keys:
            return True
        if isinstance(target, Output):
            item = target.item
            if isinstance(item, SelectItem) and item.column is not None and item.bucket is None:
                return self.checked.refs[item.column] in keys
            return False
        return any(isinstance(k, Output) and self._plain_column(k) == target for k in keys)

    def _plain_column(self, out: Output) -> Column | None:
        item = out.item
        if isinstance(item, SelectItem) and item.column is not None and item.bucket is None:
            return self.checked.refs[item.column]
        return None

    def having(self) -> None:
        for i, flt in enumerate(self.plan.having):
            where = f"having[{i}]"
            target: Target | None = self._output(flt.column)
            if target is None and self.scope.has(flt.column):
                col = self.column(flt.column, where)
                target = col if self._grouped(col) else None
            if target is None:
                names = [o.name for o in self.checked.outputs]
                raise PlanError(
                    f"{where}: '{flt.column}' is not an aggregate or a group column.{suggest(flt.column, names)}",
                    hint=f"Having conditions name outputs: {', '.join(names)}.",
                )
            self.checked.having.append(condition(target, flt, where))

    def order(self) -> None:
        for i, order in enumerate(self.plan.order_by):
            where = f"order_by[{i}]"
            target: Target | None = self._output(order.column)
            if target is None:
                target = self._order_column(order.column, where)
            self.checked.order_by.append((target, order.desc))

    def _order_column(self, name: str, where: str) -> Column:
        names = [o.name for o in self.checked.outputs]
        if not self.scope.has(name):
            extra = suggest(name, names + self.scope.all_refs())
            raise PlanError(
                f"{where}: '{name}' is neither an output column nor a column of the plan's tables.{extra}",
                hint=f"Order by an output column: {', '.join(names) or '(none selected)'}.",
            )
        col = self.column(name, where)
        if self.plan.distinct:
            allowed = col in [self._plain_column(o) for o in self.checked.outputs]
        else:
            allowed = not self.checked.aggregated or self._grouped(col)
        if not allowed:
            raise PlanError(
                f"{where}: cannot order by {col.label}: it is not among the grouped or selected columns.",
                hint=f"Order by one of: {', '.join(names)}.",
            )
        return col


def condition(target: Target, flt: Filter, where: str) -> Condition:
    """Check the operator against the target's type and type the values."""
    family = target.family
    if flt.op in TEXT_OPS and family != "text":
        raise PlanError(
            f"{where}: `{flt.op}` needs a text column, but '{flt.column}' is {family}.",
            hint="Use =, <, >, between or in for numbers and dates.",
        )
    values, by_day = coerce_values(flt.values(), family, where)
    return Condition(target=target, op=flt.op, values=values, by_day=by_day)


def _default_name(agg: Aggregate, label: str) -> str:
    if not label:
        return "share" if agg.fn == "share" else "count"
    if agg.fn == "percentile":
        assert agg.p is not None
        percent = f"{agg.p * 100:.6f}".rstrip("0").rstrip(".").replace(".", "_")
        return f"p{percent}_{label}"
    return f"{agg.fn}_{label}"


def _result_family(fn: str, arg: TypeFamily) -> TypeFamily:
    if fn in ("count", "count_distinct"):
        return "integer"
    if fn in ("min", "max"):
        return arg
    return "float"
