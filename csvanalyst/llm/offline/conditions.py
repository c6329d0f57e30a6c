"""Conditions of an offline plan: periods, number comparisons, category values and yes/no columns.

A mixin of the Planner: it reads the words left in the pool after the measure and groups were matched,
turns each into a filter, and checks that no word is left that nobody understood.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from csvanalyst.llm.offline import link
from csvanalyst.llm.offline.match import Col, ValueHit, name_score, stems, words
from csvanalyst.llm.offline.parse import BOUNDARY, STOPWORDS
from csvanalyst.llm.offline.resolve import WEAK, Unsure, spans

if TYPE_CHECKING:
    from csvanalyst.llm.offline.build import Planner

# Verbs and prepositions that carry no condition of their own ("won", "at noon", "observed in 2020").
FILLERS = STOPWORDS | {"or", "and", "the", "a", "an", "than", "at", "from", "win", "won", "wins", "observed",
                       "lived", "live", "took", "place", "type", "types", "happened", "occurred"}  # fmt: skip


class Conditions:
    """Filters from the left-over words; methods run on a Planner."""

    def _period(self: Planner) -> None:
        period = self.intent.period
        if period is None:
            return
        year = link.integer_year_column(self._tables_in_play())
        if year is not None and not any(c.temporal for t in self._tables_in_play() for c in t.columns):
            found = link.year_filter(period, year)
            if found is None:
                raise Unsure(f"“{period.label}” is finer than the year column `{year.name}` can say")
            self._use_table(year.table)
            self.used_cols.append(year)
            self.filters.append({"column": self._ref(year), "op": found[0], "value": found[1]})
            self.conditions.append(f"{period.label} ({year.name})")
            return
        col = self._date_column()
        self.filters.append({"column": self._ref(col), "op": period.op, "value": _value(period.values)})
        self.conditions.append(f"{period.label} ({col.name})")

    def _date_column(self: Planner) -> Col:
        tables = [self.catalog.table(t) for t in self.tables]
        col = self.resolver.date_column([t for t in tables if t is not None], self._date_hints())
        self._use_table(col.table)
        return col

    def _date_hints(self: Planner) -> list[Col]:
        """Date columns named by left-over words (`created`, `resolved`, `order date`)."""
        found = []
        for span in spans(self.pool):
            if any(i not in self.pool for i in span) or _contiguous(span) is False:
                continue
            if all(self.intent.tokens[i] in STOPWORDS for i in span):
                continue
            score, cols = self.catalog.match_columns(self.resolver.stems_of(span), self._date_pool())
            if score >= WEAK and cols:
                col = self.resolver.pick(cols, self.tables, self.resolver.text(span))
                found.append(col)
                self.pool = [i for i in self.pool if i not in span]
                self.used_cols.append(col)
        return found or [c for c in self.used_cols if c.temporal]

    def _date_pool(self: Planner) -> list[Col]:
        return [c for c in self.catalog.columns if c.temporal and c.table in self.tables]

    def _comparisons(self: Planner) -> None:
        for comp in self.intent.comparisons:
            hit = self._hit(comp.phrase, "numeric")
            if not isinstance(hit.target, Col):
                raise Unsure(f"“{self.resolver.text(comp.phrase)}” is not a column to compare")
            self._use_table(hit.target.table)
            self.used_cols.append(hit.target)
            value = int(comp.value) if comp.value.is_integer() else comp.value
            self.filters.append({"column": self._ref(hit.target), "op": comp.op, "value": value})
            self.conditions.append(f"{hit.target.name} {comp.op} {value}")

    def _values(self: Planner) -> None:
        found: dict[Col, list[ValueHit]] = {}
        for span in list(spans(self.pool)):
            if any(i not in self.pool for i in span) or not _contiguous(span):
                continue
            if all(self.intent.tokens[i] in FILLERS | BOUNDARY for i in span):
                continue  # "or", "in", "me" are words here even where a column holds `OR`, `IN`, `ME`
            if self._boolean(span):
                self.pool = [i for i in self.pool if i not in span]
                continue
            hit = self._value_hit(span)
            if hit is not None:
                found.setdefault(hit.column, []).append(hit)
                self.pool = [i for i in self.pool if i not in span]
        for col, hits in found.items():
            spellings = [v for h in hits for v in h.spellings]
            self._use_table(col.table)
            self.used_cols.append(col)
            self.filters.append({"column": self._ref(col), "op": "in", "value": spellings})
            self.conditions.append(f"{col.name} = {' or '.join(h.shown for h in hits)}")

    def _boolean(self: Planner, span: list[int]) -> bool:
        """A yes/no column named by the words: a filter on it (`non members` = false)."""
        words = [i for i in span if self.intent.tokens[i] not in link.NEGATIONS]
        if not words or (len(words) < len(span) and span[0] not in [i for i in span if i not in words]):
            return False
        cols = [c for c in self.catalog.columns if not self.tables or c.table in self.tables]
        col = link.boolean_column(self.resolver.stems_of(words), cols, name_score)
        if col is None:
            return False
        truth = len(words) == len(span)
        before = span[0] - 1
        if truth and before in self.pool and self.intent.tokens[before] in link.NEGATIONS:
            truth = False
            self.pool.remove(before)
        self._use_table(col.table)
        self.used_cols.append(col)
        self.filters.append({"column": self._ref(col), "op": "=", "value": truth})
        self.conditions.append(f"{col.name} = {'true' if truth else 'false'}")
        return True

    def _value_hit(self: Planner, span: list[int]) -> ValueHit | None:
        phrase = self.resolver.stems_of(span)
        near = [c for c in self.catalog.columns if c.table in self.tables]
        hits = self.catalog.match_values(phrase, near) or self.catalog.match_values(phrase)
        if not hits and len(phrase) == 1:
            for form in link.value_forms(phrase[0]):
                hits = hits or self.catalog.match_values((form,), near) or self.catalog.match_values((form,))
            found = link.calendar_hits(self.intent.tokens[span[0]], near or self.catalog.columns)
            hits = hits or [ValueHit(col, same, str(same[0]).strip()) for col, same in found]
        if not hits:
            return None
        said = {self.intent.tokens[i] for i in self.pool}
        named = [h for h in hits if set(h.column.stems) & {_stems(w)[0] for w in said if _stems(w)}]
        in_plan = [h for h in hits if h.column.table in self.tables]
        for choice in (hits, named, in_plan):
            if len({h.column.name for h in choice}) == 1:
                return self._closest(choice)
        raise Unsure(f"“{self.resolver.text(span)}” is a value of {', '.join(h.column.name for h in hits)}")

    def _closest(self: Planner, hits: list[ValueHit]) -> ValueHit:
        order = [*self.tables, *self.resolver.hinted]
        return min(hits, key=lambda h: order.index(h.column.table) if h.column.table in order else len(order))

    def _check_pool(self: Planner) -> None:
        """Every left-over word must be a filler, a used table/column name, or the planner declines."""
        known = {w for c in self.used_cols for w in c.stems} | {w for t in self.tables for w in _stems(t)}
        for i in self.pool:
            tok = self.intent.tokens[i]
            parts = _stems(tok)
            if tok in FILLERS or (parts and all(w in known for w in parts)) or self._counts_days(i):
                continue
            raise Unsure(f"I don't know what “{tok}” refers to in this dataset")


def _stems(word: str) -> tuple[str, ...]:
    return stems(words(word))


def _contiguous(span: list[int]) -> bool:
    return all(b == a + 1 for a, b in itertools.pairwise(span))


def _value(values: tuple[str, ...]) -> Any:
    return list(values) if len(values) > 1 else values[0]
