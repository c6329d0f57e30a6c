"""Resolve the table and column names a plan writes (`amount`, `customers.region`), joins included."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from csvanalyst.catalog.schema import DatasetInfo, TableSchema, TypeFamily
from csvanalyst.errors import PlanError
from csvanalyst.plan.model import Join

_COMPARABLE = ({"integer", "float", "decimal"}, {"date", "timestamp"})


@dataclass(frozen=True)
class Column:
    table: str
    name: str
    family: TypeFamily

    @property
    def label(self) -> str:
        return f"{self.table}.{self.name}"


def suggest(name: str, candidates: Iterable[str]) -> str:
    """` Did you mean 'x' or 'y'?` for the nearest names, or nothing when none is near."""
    pool = list(dict.fromkeys(candidates))
    by_lower = {c.lower(): c for c in pool}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(f"'{by_lower[c]}'" for c in close) + "?"


@dataclass(frozen=True)
class JoinSpec:
    table: str
    type: str
    pairs: list[tuple[Column, Column]]


class Scope:
    """The tables a plan reads, in join order; answers which table a column name belongs to."""

    def __init__(self, dataset: DatasetInfo, tables: list[TableSchema], *, qualify: bool = False) -> None:
        self.dataset = dataset
        self.tables = tables
        self.qualify = qualify

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tables]

    def has(self, ref: str) -> bool:
        return bool(self._find(ref))

    def column(self, ref: str, where: str) -> Column:
        found = self._find(ref)
        if len(found) == 1:
            return found[0]
        if found:
            options = " or ".join(c.label for c in found)
            raise PlanError(
                f"{where}: column '{ref}' is ambiguous: it exists in {', '.join(c.table for c in found)}.",
                hint=f"Qualify it with its table: {options}.",
            )
        raise self._unknown(ref, where)

    def all_refs(self) -> list[str]:
        """Every column, written the way the plan may write it (qualified when several tables)."""
        many = self.qualify or len(self.tables) > 1
        return [f"{t.name}.{c.name}" if many else c.name for t in self.tables for c in t.columns]

    def of_family(self, families: Iterable[TypeFamily]) -> str:
        wanted = set(families)
        matching = [r for r, c in zip(self.all_refs(), self._columns(), strict=True) if c.family in wanted]
        return f" Candidates: {', '.join(matching[:12])}." if matching else ""

    def _columns(self) -> list[Column]:
        return [Column(t.name, c.name, c.family) for t in self.tables for c in t.columns]

    def _find(self, ref: str) -> list[Column]:
        """Exact bare name, then `table.column`, then a unique case-insensitive match of either."""
        for fold in (False, True):
            bare = [c for c in self._columns() if _same(c.name, ref, fold)]
            if bare:
                return bare if not fold or len(bare) == 1 else []
            qualified = [c for c in self._columns() if _same(c.label, ref, fold)]
            if len(qualified) == 1:
                return qualified
        return []

    def _unknown(self, ref: str, where: str) -> PlanError:
        table, _, column = ref.partition(".")
        dataset_table = self.dataset.table(table) if column else None
        if dataset_table is not None and table not in self.names:
            return PlanError(
                f"{where}: column '{ref}' belongs to table '{table}', which this plan does not join.",
                hint=f"Add a join to '{table}', or use the tables in the plan: {', '.join(self.names)}.",
            )
        inside = ", ".join(self.names)
        near = suggest(ref, self.all_refs()) or suggest(column or ref, self.all_refs())
        return PlanError(
            f"{where}: unknown column '{ref}' (looked in {inside}).{near}",
            hint=f"Columns available: {', '.join(self.all_refs()[:30])}.",
        )


def resolve_table(dataset: DatasetInfo, name: str, where: str) -> TableSchema:
    table = dataset.table(name)
    if table is None:
        folded = [t for t in dataset.tables if t.name.lower() == name.lower()]
        if len(folded) == 1:
            return folded[0]
        raise PlanError(
            f"{where}: unknown table '{name}' in dataset '{dataset.name}'.{suggest(name, dataset.table_names)}",
            hint=f"Tables in this dataset: {', '.join(dataset.table_names)}.",
        )
    return table


def add_join(scope: Scope, join: Join, where: str) -> JoinSpec:
    """Check one join and widen the scope by its table; each `on` pair links it to an earlier table."""
    table = resolve_table(scope.dataset, join.table, where)
    if table.name in scope.names:
        raise PlanError(
            f"{where}: table '{table.name}' is already in the plan; a table can appear only once.",
            hint="Join each table once; self-joins are not supported in plans.",
        )
    earlier = Scope(scope.dataset, list(scope.tables), qualify=True)
    scope.tables.append(table)
    joined = Scope(scope.dataset, [table], qualify=True)
    pairs = [_join_pair(earlier, joined, on, f"{where}.on[{k}]") for k, on in enumerate(join.on)]
    return JoinSpec(table=table.name, type=join.type, pairs=pairs)


def _join_pair(earlier: Scope, joined: Scope, on: tuple[str, str] | str, where: str) -> tuple[Column, Column]:
    left_ref, right_ref = (on, on) if isinstance(on, str) else on
    try:
        pair = (earlier.column(left_ref, where), joined.column(right_ref, where))
    except PlanError as first:
        try:
            pair = (earlier.column(right_ref, where), joined.column(left_ref, where))
        except PlanError:
            raise first from None
    left, right = pair
    if left.family != right.family and not any({left.family, right.family} <= g for g in _COMPARABLE):
        raise PlanError(
            f"{where}: cannot join {left.label} ({left.family}) to {right.label} ({right.family}).",
            hint="Join on columns holding the same kind of key (both numbers or both text).",
        )
    return pair


def _same(a: str, b: str, fold: bool) -> bool:
    return a.lower() == b.lower() if fold else a == b
