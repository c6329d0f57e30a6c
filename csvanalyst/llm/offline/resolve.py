"""Resolve the phrases of an Intent to schema objects: a measure, an entity, a date column, joins.

Each phrase is searched longest span first ("first response minutes" before "minutes"); the words of a
phrase that were not part of the match go back to the pool of left-over words, where they may still
name a category value, a table or a date column. Ambiguity raises `Unsure` with the candidates.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from csvanalyst.llm.offline.match import Catalog, Col, Table, name_score, stems, words

STRONG = 0.75
WEAK = 0.57  # a near-miss: difflib ratio >= 0.82
REVENUE_WORDS = frozenset({"revenue", "sale", "sales", "turnover", "gmv"})
ADDITIVE = frozenset(
    {"quantity", "qty", "amount", "revenue", "sale", "cost", "total", "profit", "unit", "item", "spend", "fee"}
)
_PRIMARY_DATE = frozenset({"created", "date", "timestamp", "time", "ts", "reading", "event", "order"})


class Unsure(Exception):
    """The question cannot be planned without guessing; the message says why (and the candidates)."""


@dataclass(frozen=True)
class Revenue:
    """quantity × price, for questions about revenue when no revenue column exists."""

    table: str
    quantity: Col
    price: Col

    @property
    def label(self) -> str:
        return f"revenue ({self.quantity.name} × {self.price.name})"


@dataclass(frozen=True)
class Hit:
    target: Col | Table | Revenue
    span: list[int]
    rest: list[int]


def spans(phrase: list[int]) -> Iterator[list[int]]:
    """Contiguous sub-phrases, longest first, then left to right."""
    for size in range(len(phrase), 0, -1):
        for start in range(len(phrase) - size + 1):
            yield phrase[start : start + size]


class Resolver:
    def __init__(self, catalog: Catalog, tokens: list[str], hinted: list[str]) -> None:
        self.catalog = catalog
        self.tokens = tokens
        self.hinted = hinted  # tables the question names somewhere, in order
        self.hinted_phrase: list[int] = []  # the table word a count was moved to
        self.extreme: str | None = None  # "max"/"min" when the question asks for the highest/lowest

    def stems_of(self, span: list[int]) -> tuple[str, ...]:
        return stems(words(" ".join(self.tokens[i] for i in span)))

    def text(self, span: list[int]) -> str:
        return " ".join(self.tokens[i] for i in span)

    def find(self, phrase: list[int], want: str, prefer: list[str]) -> Hit | None:
        """The best match of a phrase: want is `table`, `numeric`, `column` or `entity` (table or column)."""
        for cutoff in (STRONG, WEAK):
            for span in spans(phrase):
                target = self._match(span, want, prefer, cutoff)
                if target is not None:
                    return Hit(target, span, [i for i in phrase if i not in span])
        if want == "numeric":
            return self._revenue(phrase, prefer)
        return None

    def _match(self, span: list[int], want: str, prefer: list[str], cutoff: float) -> Col | Table | None:
        phrase = self.stems_of(span)
        t_score, table = self._table(phrase)
        if want == "table":
            return table if t_score >= cutoff else None
        pool = [c for c in self.catalog.columns if _fits(c, want)]
        c_score, cols = self.catalog.match_columns(phrase, pool)
        if want == "entity" and table is not None and t_score >= max(c_score, cutoff):
            return table
        if c_score < cutoff or not cols:
            return None
        return self.pick(cols, prefer, self.text(span))

    def _table(self, phrase: tuple[str, ...]) -> tuple[float, Table | None]:
        scored = sorted(((name_score(phrase, t.stems, t.name), i) for i, t in enumerate(self.catalog.tables)))
        if not scored or scored[-1][0] == 0:
            return 0.0, None
        best, index = scored[-1]
        if len(scored) > 1 and scored[-2][0] == best:
            return 0.0, None
        return best, self.catalog.tables[index]

    def pick(self, cols: list[Col], prefer: list[str], said: str) -> Col:
        """One column among equally good matches: same name in several tables is settled by table order."""
        names = list(dict.fromkeys(c.name for c in cols))
        if len(names) > 1 and self.extreme:
            # "highest speed" among speed_max and speed_min: the name that says max.
            agree = [c for c in cols if self.extreme in c.stems or any(p.startswith(self.extreme) for p in c.stems)]
            if len({c.name for c in agree}) == 1:
                cols, names = agree, [agree[0].name]
        if len(names) > 1:
            raise Unsure(f"“{said}” could mean {_or([f'{c.table}.{c.name}' for c in cols])}")
        order = [*prefer, *self.hinted, *self._by_rows()]
        return min(cols, key=lambda c: order.index(c.table) if c.table in order else len(order))

    def _by_rows(self) -> list[str]:
        tables = sorted(self.catalog.tables, key=lambda t: -(t.rows or 0))
        return [t.name for t in tables]

    def _revenue(self, phrase: list[int], prefer: list[str]) -> Hit | None:
        said = [i for i in phrase if self.tokens[i] in REVENUE_WORDS]
        if not said:
            return None
        order = [*prefer, *self.hinted, *self._by_rows()]
        for name in order:
            table = self.catalog.table(name)
            if table is None:
                continue
            qty = [
                c for c in table.columns if c.numeric and (set(c.stems) & {"quantity", "qty"} or c.stems == ("unit",))
            ]
            price = [c for c in table.columns if c.numeric and "price" in c.stems]
            if len(qty) == 1 and len(price) == 1:
                return Hit(Revenue(table.name, qty[0], price[0]), said, [i for i in phrase if i not in said])
        return None

    def label_columns(self, table: Table, base: Table) -> list[Col]:
        """How to show one row of an entity table: its key if the base holds it, else a unique name."""
        key = _key_of(table)
        names = [c for c in table.columns if c.family == "text" and ("name" in c.stems or "title" in c.stems)]
        own = sorted(names, key=lambda c: (c.stems[0] != table.stems[-1], len(c.stems)))
        if own:
            label = own[0]
            if label.distinct is not None and table.rows is not None and label.distinct >= table.rows:
                return [label]
            return [key, label] if key is not None else [label]
        if key is not None and base.column(key.name) is not None:
            return [base.column(key.name)]  # type: ignore[list-item]
        if key is not None:
            return [key]
        raise Unsure(f"table {table.name} has no key or name column to group by")

    def date_column(self, tables: list[Table], hinted: list[Col]) -> Col:
        """The date column a period or a bucket applies to: named in the question, else the main one."""
        for col in hinted:
            if col.table in [t.name for t in tables]:
                return col
        for table in tables:
            dates = [c for c in table.columns if c.temporal]
            if len(dates) == 1:
                return dates[0]
            main = [c for c in dates if set(c.stems) & _PRIMARY_DATE or c.stems[0] == table.stems[-1]]
            if len(main) == 1:
                return main[0]
            if dates:
                raise Unsure(f"several date columns could be meant: {_or([c.name for c in dates])}")
        raise Unsure("no date column in the tables this question uses")

    def join_path(self, start: str, goal: str) -> list[tuple[str, str, str]]:
        """Hops (from_table, to_table, key) over shared `*_id` columns, shortest first."""
        seen: dict[str, list[tuple[str, str, str]]] = {start: []}
        queue = deque([start])
        while queue:
            here = queue.popleft()
            if here == goal:
                return seen[here]
            for there, key in self._neighbours(here):
                if there not in seen:
                    seen[there] = [*seen[here], (here, there, key)]
                    queue.append(there)
        raise Unsure(f"tables {start} and {goal} share no key column to join on")

    def _neighbours(self, name: str) -> list[tuple[str, str]]:
        table = self.catalog.table(name)
        assert table is not None
        keys = [c.name for c in table.columns if c.is_key]
        out = []
        for other in self.catalog.tables:
            shared = [k for k in keys if other.name != name and other.column(k) is not None]
            if shared:
                out.append((other.name, shared[0]))
        return out


def _fits(col: Col, want: str) -> bool:
    if want == "numeric":
        return col.numeric
    return True


def _key_of(table: Table) -> Col | None:
    keys = [c for c in table.columns if c.is_key]
    own = [c for c in keys if c.stems[:-1] == table.stems[-1:] or c.name == "id"]
    return (own or keys or [None])[0]


def default_fn(col: Col) -> str:
    """Ranking by a bare measure: sum what adds up (quantity, amount), average the rest (scores, rates)."""
    return "sum" if set(col.stems) & ADDITIVE else "avg"


def _or(items: list[str]) -> str:
    items = list(dict.fromkeys(items))
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else "".join(items)
