"""Turn an Intent into a QueryPlan dict, or into `Unsure` when any part would be a guess.

Every word of the question must be used: by the question's structure (parse), by a matched name or
value, or as a filler word. Anything else ("open", "last", a column the dataset does not have) makes
the planner decline and say which word it did not understand.
"""

from __future__ import annotations

from typing import Any

from csvanalyst.llm.offline import link
from csvanalyst.llm.offline.conditions import Conditions
from csvanalyst.llm.offline.match import Catalog, Col, Table
from csvanalyst.llm.offline.parse import Intent
from csvanalyst.llm.offline.resolve import Hit, Resolver, Revenue, Unsure, default_fn
from csvanalyst.llm.offline.shapes import Draft, Shapes

_BUCKET_WORDS = {"day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year"}
_FN_LABEL = {"sum": "total", "avg": "average", "min": "minimum", "max": "maximum", "median": "median"}
_ROW_WORDS = frozenset({"row", "rows", "record", "records", "entries", "entry", "lines", "line"})


class Planner(Conditions, Shapes):
    def __init__(self, intent: Intent, catalog: Catalog) -> None:
        self.intent = intent
        self.catalog = catalog
        phrases = {i for p in [intent.measure, intent.entity, *intent.groups] for i in p}
        phrases |= {i for c in intent.comparisons for i in c.phrase}
        self.pool = [i for i in intent.leftover() if i not in phrases]
        hinted = [catalog.match_table(_stems(intent.tokens[i])) for i in intent.leftover()]
        names = [t.name for t in hinted if t is not None]
        self.resolver = Resolver(catalog, intent.tokens, list(dict.fromkeys(names)))
        self.base: Table | None = None
        self.tables: list[str] = []
        self.used_cols: list[Col] = []
        self.filters: list[dict[str, Any]] = []
        self.conditions: list[str] = []
        self.notes: list[str] = []
        self.compare_whole: Table | None = None
        self.time_groups: list[Col] = []

    def build(self) -> Draft:
        intent = self.intent
        if intent.decline:
            raise Unsure(intent.decline)
        if intent.listing:
            return self._finish(self._listing())
        if intent.compare and not intent.measure:
            self._compare_measure()
        if intent.fn is None and not intent.measure:
            raise Unsure("I could not find what to count or compute")
        self._merge_per()
        if intent.lookup:
            return self._finish(self._lookup())
        if intent.fn in ("max", "min"):
            self.resolver.extreme = intent.fn
        elif intent.rank is not None and intent.fn is None:
            self.resolver.extreme = "max" if intent.rank.desc else "min"
        agg = self._measure()
        self._bucket_as_column()
        if intent.rank and self._row_ranking(agg[0]):
            return self._finish(self._rows(agg))
        groups = self._rank_entity() if intent.rank else []
        groups += [g for phrase in intent.groups for g in self._group(phrase)]
        groups = [{"column": self._ref(c)} for c in self.time_groups] + groups
        return self._finish(self._aggregate(agg, groups))

    # -- measure -------------------------------------------------------------------------------
    def _measure(self) -> tuple[dict[str, Any], str]:
        intent = self.intent
        phrase = intent.measure
        if intent.fn == "count" and intent.rank and phrase and self._numeric_measure(phrase):
            intent.fn = None  # "the most stock" ranks by stock, it does not count it
        if intent.fn in ("count", "count_distinct"):
            return self._count(phrase)
        if intent.fn == "share":
            return self._share(phrase)
        if intent.fn is None and (
            (self._names_table(phrase) and not self._exact_numeric(phrase))
            or self.resolver.find(phrase, "numeric", []) is None
        ):
            return self._count(phrase)
        counted = self._counted_table(phrase)
        if counted is not None:
            return counted
        hit = self._hit(phrase, "numeric" if intent.fn not in ("min", "max") else "column")
        target = hit.target
        if isinstance(target, Revenue):
            self._use_table(target.table)
            expr = {"op": "*", "left": self._ref(target.quantity), "right": self._ref(target.price)}
            fn = intent.fn or "sum"
            return {"fn": fn, "expr": expr, "as": "revenue"}, f"{_FN_LABEL.get(fn, fn)} {target.label}"
        assert isinstance(target, Col)
        self._use_table(target.table)
        self.used_cols.append(target)
        fn = intent.fn or default_fn(target)
        agg: dict[str, Any] = {"fn": fn, "column": self._ref(target), "as": f"{fn}_{target.name}"}
        if fn == "percentile":
            agg["p"] = intent.p
            agg["as"] = f"p{round((intent.p or 0) * 100)}_{target.name}"
            return agg, f"{round((intent.p or 0) * 100)}th percentile of {target.name}"
        return agg, f"{_FN_LABEL[fn]} {target.name}"

    def _numeric_measure(self, phrase: list[int]) -> bool:
        if self._names_table(phrase) and not self._exact_numeric(phrase):
            return False
        score, cols = self.catalog.match_columns(
            self.resolver.stems_of(phrase), [c for c in self.catalog.columns if c.numeric]
        )
        return bool(cols) and score >= 0.85

    def _exact_numeric(self, phrase: list[int]) -> bool:
        """`score` in a table named `scores`: the column is meant, not the table's rows."""
        score, cols = self.catalog.match_columns(
            self.resolver.stems_of(phrase), [c for c in self.catalog.columns if c.numeric]
        )
        return bool(cols) and score >= 1.0

    def _count(self, phrase: list[int]) -> tuple[dict[str, Any], str]:
        if not phrase and self.compare_whole is not None:
            return self._counted(self.compare_whole)
        if not phrase and self.intent.rank:
            table = self._only_table()
            self._use_table(table.name)
            return {"fn": "count", "as": "count"}, f"rows of {table.name}"
        if any(self.intent.tokens[i] in _ROW_WORDS or self._counts_days(i) for i in phrase):
            rows = [i for i in phrase if self.intent.tokens[i] in _ROW_WORDS or self._counts_days(i)]
            self.pool += [i for i in phrase if i not in rows]
            table = self._only_table()
            self._use_table(table.name)
            return {"fn": "count", "as": "count"}, f"rows of {table.name}"
        if self.resolver.find(phrase, "entity", self.tables) is None and self._counts_values_of_a_table(phrase):
            return self._count(self.resolver.hinted_phrase)
        hit = self._hit(phrase, "entity")
        target = hit.target
        if isinstance(target, Table):
            return self._counted(target)
        assert isinstance(target, Col)
        self._use_table(target.table)
        self.used_cols.append(target)
        said = self.resolver.text(hit.span)
        if target.family == "boolean":
            self.filters.append({"column": self._ref(target), "op": "=", "value": True})
            self.conditions.append(f"{target.name} = true")
            return {"fn": "count", "as": "count"}, said
        if target.family in ("float", "decimal"):
            self.notes.append(f"“{said}” counted as rows of {target.table}")
            return {"fn": "count", "as": "count"}, said
        return {"fn": "count_distinct", "column": self._ref(target), "as": "count"}, f"distinct {target.name}"

    def _counted(self, target: Table) -> tuple[dict[str, Any], str]:
        self._use_table(target.name)
        counts = link.count_column(target)
        if counts is not None:
            self.used_cols.append(counts)
            self.notes.append(f"{target.name} counted by summing its `{counts.name}` column")
            return {"fn": "sum", "column": self._ref(counts), "as": "count"}, target.name
        return {"fn": "count", "as": "count"}, target.name

    def _counts_values_of_a_table(self, phrase: list[int]) -> bool:
        """`how many A or B things`: the counted words are values; the table named after them is counted."""
        stems_ = self.resolver.stems_of(phrase)
        if not self.catalog.match_values(stems_):
            return False
        rest = [i for i in self.pool if i > phrase[-1] and self.catalog.match_table(_stems(self.intent.tokens[i]))]
        if not rest:
            return False
        self.pool = [i for i in self.pool if i != rest[0]] + phrase
        self.resolver.hinted_phrase = [rest[0]]
        return True

    def _counts_days(self, i: int) -> bool:
        """ "how many days of frost" on a table with one row per date counts rows."""
        if self.intent.tokens[i] not in ("day", "days"):
            return False
        tables = self._tables_in_play()
        return any(
            c.temporal and c.distinct is not None and t.rows is not None and c.distinct == t.rows
            for t in tables
            for c in t.columns
        )

    def _names_table(self, phrase: list[int]) -> bool:
        return bool(phrase) and self.catalog.match_table(self.resolver.stems_of(phrase)) is not None

    def _only_table(self) -> Table:
        hinted = self.resolver.hinted
        if hinted:
            table = self.catalog.table(hinted[0])
            assert table is not None
            return table
        if len(self.catalog.tables) == 1:
            return self.catalog.tables[0]
        raise Unsure(f"say which table to count: {', '.join(self.catalog.tables[i].name for i in range(2))}, …")

    def _hit(self, phrase: list[int], want: str) -> Hit:
        if not phrase:
            raise Unsure("I could not find what to count or compute")
        hit = self.resolver.find(phrase, want, self.tables)
        if hit is None:
            what = "numeric column" if want == "numeric" else "column or table"
            raise Unsure(f"no {what} of this dataset matches “{self.resolver.text(phrase)}”")
        self.pool += hit.rest
        self._note_link(hit)
        return hit

    def _note_link(self, hit: Hit) -> None:
        """Say how a name was read when the words differ from it (`qty` taken as “quantity”)."""
        if not isinstance(hit.target, Col):
            return
        said = self.resolver.stems_of(hit.span)
        if said != hit.target.stems and "".join(said) != "".join(hit.target.stems):
            note = f"`{hit.target.name}` taken as “{self.resolver.text(hit.span)}”"
            if note not in self.notes:
                self.notes.append(note)

    # -- groups --------------------------------------------------------------------------------
    def _rank_entity(self) -> list[dict[str, Any]]:
        entity = self.intent.entity
        text = self.resolver.text(entity)
        if text.rstrip("s") in _BUCKET_WORDS and self.intent.bucket is None:
            self.intent.bucket = _BUCKET_WORDS[text.rstrip("s")]
            self._bucket_as_column()
            return []
        return self._group(entity)

    def _group(self, phrase: list[int]) -> list[dict[str, Any]]:
        hit = self._hit(phrase, "entity")
        target = _own_column(hit.target)
        assert self.base is not None
        cols = self.resolver.label_columns(target, self.base) if isinstance(target, Table) else [target]
        out = []
        for col in cols:
            assert isinstance(col, Col)
            self._use_table(col.table)
            self.used_cols.append(col)
            out.append({"column": self._ref(col)})
        return out

    # -- assembling ----------------------------------------------------------------------------
    def _listing(self) -> tuple[dict[str, Any], Draft]:
        hit = self._hit(self.intent.entity, "entity")
        target = _own_column(hit.target)
        if isinstance(target, Table):
            self.base = target
            col = self.resolver.label_columns(target, target)[-1]
        else:
            assert isinstance(target, Col)
            col = target
        self._use_table(col.table)
        self.used_cols.append(col)
        plan = {"table": col.table, "select": [{"column": col.name}], "distinct": True,
                "order_by": [{"column": col.name}]}  # fmt: skip
        return plan, Draft(plan=plan, kind="distinct", measure=col.name, groups=[col.name])

    def _aggregate(self, agg_label: tuple[dict[str, Any], str], groups: list[dict[str, Any]]) -> tuple:
        agg, label = agg_label
        assert self.base is not None
        select = list(groups)
        names = [g["column"].split(".")[-1] for g in groups]
        if self.intent.bucket:
            col = self._date_column()
            select.insert(0, {"column": self._ref(col), "bucket": self.intent.bucket, "as": self.intent.bucket})
            names.insert(0, self.intent.bucket)
        plan: dict[str, Any] = {"table": self.base.name, "select": select, "aggregates": [agg]}
        rank = self.intent.rank
        order = [{"column": n} for n in names]
        if rank is not None:
            order.insert(0, {"column": agg["as"], "desc": rank.desc})
            plan["limit"] = rank.n
        if order:
            plan["order_by"] = order
        kind = "rank" if rank else "trend" if self.intent.bucket else "grouped" if groups else "value"
        draft = Draft(plan=plan, kind=kind, measure=label, value=agg["as"], groups=names, bucket=self.intent.bucket)
        draft.entity = self.resolver.text(self.intent.entity) if rank else ""
        return plan, draft

    def _finish(self, built: tuple[dict[str, Any], Draft]) -> Draft:
        plan, draft = built
        self._period()
        whole = len(self.filters)
        self._comparisons()
        self._values()
        if self.intent.compare:
            self._compared(plan, draft)
        if self.intent.fn == "share":
            part = self.filters[whole:]
            if not part:
                raise Unsure("say which part to take the share of (a value, a yes/no column or a number)")
            plan["aggregates"][0]["where"] = part
            self.filters = self.filters[:whole]
        self._check_pool()
        joins = self._joins(plan["table"])
        if self.filters:
            plan["filters"] = self.filters
        if joins:
            plan["joins"] = joins
        else:
            _unqualify(plan, f"{plan['table']}.")
        draft.conditions = self.conditions
        draft.notes = self.notes
        draft.plan = plan
        return draft

    def _joins(self, base: str) -> list[dict[str, Any]]:
        joins: list[dict[str, Any]] = []
        joined = [base]
        for name in self.tables:
            for src, dst, key in self.resolver.join_path(base, name):
                if dst not in joined:
                    joined.append(dst)
                    joins.append({"table": dst, "on": [[f"{src}.{key}", f"{dst}.{key}"]], "type": "left"})
        return joins

    # -- helpers -------------------------------------------------------------------------------
    def _use_table(self, name: str) -> None:
        if name not in self.tables:
            self.tables.append(name)
        if self.base is None:
            self.base = self.catalog.table(name)

    def _ref(self, col: Col) -> str:
        return f"{col.table}.{col.name}"


def _stems(word: str) -> tuple[str, ...]:
    from csvanalyst.llm.offline.match import stems, words

    return stems(words(word))


def _own_column(target: Col | Table | Any) -> Col | Table | Any:
    """A table grouped by its own name (`status` in a `status` table) is that column."""
    if isinstance(target, Table):
        same = [c for c in target.columns if c.stems == target.stems]
        if len(same) == 1:
            return same[0]
    return target


def build_plan(intent: Intent, catalog: Catalog) -> Draft:
    """The plan for a parsed question; raises Unsure when it would have to guess."""
    return Planner(intent, catalog).build()


def _unqualify(node: Any, prefix: str) -> None:
    """Bare column names when the plan reads one table: shorter SQL, same meaning."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in list(items):
        if key in ("column", "left", "right") and isinstance(value, str) and value.startswith(prefix):
            node[key] = value[len(prefix) :]
        elif isinstance(value, dict | list):
            _unqualify(value, prefix)
