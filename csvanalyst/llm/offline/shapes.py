"""Question shapes beyond a plain aggregate, as Planner methods: measures named with "per", time-named
columns, row rankings, comparisons, lookups and shares; and the Draft every shape produces.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from csvanalyst.llm.offline import link
from csvanalyst.llm.offline.match import Col, Table
from csvanalyst.llm.offline.resolve import WEAK, Unsure, spans

if TYPE_CHECKING:
    from csvanalyst.llm.offline.build import Planner


@dataclass
class Draft:
    """A plan plus what the answer needs to describe it."""

    plan: dict[str, Any]
    kind: str  # value | grouped | rank | distinct | trend
    measure: str  # e.g. "orders", "average satisfaction"
    value: str = ""  # output name of the aggregate
    groups: list[str] = field(default_factory=list)  # output names of the group columns
    bucket: str | None = None
    conditions: list[str] = field(default_factory=list)  # e.g. "in 2024", "priority = high"
    entity: str = ""  # what a ranking ranks, as the question says it ("products")
    compared: bool = False  # two values side by side: the answer says which is higher
    notes: list[str] = field(default_factory=list)  # how words were linked: "`qty` taken as quantity"


class Shapes:
    """Methods of the Planner for the shapes above."""

    # -- linking beyond names ------------------------------------------------------------------
    def _merge_per(self: Planner) -> None:
        """`cost per unit`, `km per litre`: a measure named with "per" is not a grouping."""
        intent = self.intent
        if not intent.measure:
            return
        for group in list(intent.groups):
            per = group[0] - 1
            if per != intent.measure[-1] + 1 or intent.tokens[per] != "per":
                continue
            joined = [*intent.measure, per, *group]
            score, cols = self.catalog.match_columns(self.resolver.stems_of(joined))
            alone, _ = self.catalog.match_columns(self.resolver.stems_of(intent.measure))
            if cols and score > alone and score >= WEAK:
                intent.measure = joined
                intent.groups.remove(group)

    def _bucket_as_column(self: Planner) -> None:
        """ "by day" where `day` is a column (not a date): group by the column the data holds."""
        unit = self.intent.bucket
        tables = self._tables_in_play()
        col = link.time_named_column(unit, tables) if unit else None
        if col is None:
            return
        self.intent.bucket = None
        self._use_table(col.table)
        self.used_cols.append(col)
        self.time_groups.append(col)
        self.notes.append(f"“{unit}” read as the column `{col.name}`")

    def _compare_measure(self: Planner) -> None:
        """What a comparison compares when no aggregate word says it: a named numeric column, else rows."""
        numeric = [c for c in self.catalog.columns if c.numeric]
        for span in spans(self.pool):
            score, cols = self.catalog.match_columns(self.resolver.stems_of(span), numeric)
            if cols and score >= 0.85 and all(b == a + 1 for a, b in itertools.pairwise(span)):
                self.intent.measure = span
                self.pool = [i for i in self.pool if i not in span]
                return
        self.intent.fn = "count"
        self.compare_whole = self._only_table()

    def _compared(self: Planner, plan: dict[str, Any], draft: Draft) -> None:
        """The column holding both compared values becomes the grouping, so each value gets its row."""
        pairs = [f for f in self.filters if f["op"] == "in" and len(f["value"]) >= 2]
        if len(pairs) != 1:
            raise Unsure("name the two values to compare (e.g. “more A than B”)")
        column = pairs[0]["column"]
        plan["select"] = [{"column": column}, *plan.get("select", [])]
        plan["order_by"] = [{"column": column}]
        draft.kind = "grouped"
        draft.compared = True
        draft.groups = [column.split(".")[-1], *draft.groups]

    def _lookup(self: Planner) -> tuple[dict[str, Any], Draft]:
        """`life expectancy of X in 2007`: the values of a well-named column on the rows asked about."""
        phrase = self.intent.measure
        numeric = [c for c in self.catalog.columns if c.numeric]
        score, _ = self.catalog.match_columns(self.resolver.stems_of(phrase), numeric)
        if score < 0.85:
            raise Unsure("I could not find what to count or compute")
        hit = self._hit(phrase, "numeric")
        assert isinstance(hit.target, Col)
        col = hit.target
        self._use_table(col.table)
        self.used_cols.append(col)
        plan: dict[str, Any] = {"table": col.table, "select": [{"column": self._ref(col)}], "limit": 20}
        draft = Draft(plan=plan, kind="rows", measure=col.name, value=col.name)
        return plan, _needs_filters(self, draft)

    def _tables_in_play(self: Planner) -> list[Table]:
        tables = [t for t in (self.catalog.table(n) for n in self.tables) if t is not None]
        return tables or list(self.catalog.tables)

    def _row_ranking(self: Planner, agg: dict[str, Any]) -> bool:
        """`top 5 products by price`, `which product has the most stock`: rows, not groups."""
        if self.intent.fn not in (None, "count") or "column" not in agg or agg["fn"] == "count_distinct":
            return False
        hit = self.resolver.find(self.intent.entity, "entity", self.tables) if self.intent.entity else None
        return hit is not None and isinstance(hit.target, Table) and hit.target == self.base

    def _rows(self: Planner, agg_label: tuple[dict[str, Any], str]) -> tuple[dict[str, Any], Draft]:
        agg = agg_label[0]
        assert self.base is not None and self.intent.rank is not None
        shown = self.resolver.label_columns(self.base, self.base)
        measure = agg["column"]
        select = [{"column": self._ref(c)} for c in shown] + [{"column": measure}]
        rank = self.intent.rank
        plan: dict[str, Any] = {"table": self.base.name, "select": select, "limit": rank.n,
                                "order_by": [{"column": measure, "desc": rank.desc}]}  # fmt: skip
        self.filters.append({"column": measure, "op": "is not null"})
        name = measure.split(".")[-1]
        draft = Draft(plan=plan, kind="rank", measure=name, value=name, groups=[c.name for c in shown])
        draft.entity = self.resolver.text(self.intent.entity)
        return plan, draft

    def _share(self: Planner, phrase: list[int]) -> tuple[dict[str, Any], str]:
        """The whole a share is taken of: rows of a table (or its count column), or a numeric column's sum."""
        self.intent.fn = "count"
        agg, label = self._count(phrase) if not self._numeric_measure(phrase) else self._sum_of(phrase)
        self.intent.fn = "share"
        if agg["fn"] == "count_distinct":
            raise Unsure(f"a share of distinct “{label}” is not something I can compute offline")
        share: dict[str, Any] = {"fn": "share", "as": "share_pct"}
        if agg["fn"] == "sum":
            share["column"] = agg["column"]
        return share, label

    def _sum_of(self: Planner, phrase: list[int]) -> tuple[dict[str, Any], str]:
        hit = self._hit(phrase, "numeric")
        assert isinstance(hit.target, Col)
        self._use_table(hit.target.table)
        self.used_cols.append(hit.target)
        return {"fn": "sum", "column": self._ref(hit.target)}, hit.target.name

    def _counted_table(self: Planner, phrase: list[int]) -> tuple[dict[str, Any], str] | None:
        """`total items` in a table of counts: the sum of its count column; other words stay as filters."""
        if self.intent.fn not in (None, "sum") or self._numeric_measure(phrase):
            return None
        hit = self.resolver.find(phrase, "table", [])
        counts = link.count_column(hit.target) if hit is not None and isinstance(hit.target, Table) else None
        if hit is None or counts is None:
            return None
        self.pool += hit.rest
        self._use_table(counts.table)
        self.used_cols.append(counts)
        self.notes.append(f"{counts.table} counted by summing its `{counts.name}` column")
        return {"fn": "sum", "column": self._ref(counts), "as": "count"}, self.resolver.text(phrase)


def _needs_filters(planner: Planner, draft: Draft) -> Draft:
    """A lookup shows values of the rows the question names; with no condition it would be a dump."""
    planner._period()
    planner._comparisons()
    planner._values()
    if not planner.filters:
        raise Unsure("say which rows to look up, or what to compute (average, total, maximum …)")
    several = [f["column"] for f in planner.filters if f["op"] in ("in", "between") and len(f["value"]) > 1]
    draft.plan["select"] = [{"column": c} for c in several] + draft.plan["select"]  # each value with its row
    draft.groups = [c.split(".")[-1] for c in several]
    planner.intent.period = None
    planner.intent.comparisons = []
    return draft
