"""Match the words of a question to tables, columns and category values of a schema context.

The offline planner never sees the data, only the schema context the agent puts in the system prompt,
so everything here works on that JSON. Names match in this order of preference: the same words
(tolerating case, plurals, snake_case and spaces) > the name without a suffix such as `_id`, `_at`,
`_c` or `_pct` > every word of the phrase inside the name > a near-miss (difflib). Two different
columns matching equally well are reported as ambiguous, never settled by guessing.

Category values come from the context's `values` (every distinct value of a low-cardinality column).
Spellings that only differ in case or surrounding spaces ("North", "north ", "NORTH") are the same
value for matching, and a filter on it keeps all of them (`in` with every spelling).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from csvanalyst.catalog.schema import TypeFamily, type_family

NUMERIC: frozenset[str] = frozenset({"integer", "float", "decimal"})
TEMPORAL: frozenset[str] = frozenset({"date", "timestamp"})
# Trailing name parts that say how a value is stored, not what it is: "device_id" is the device.
_SUFFIXES = frozenset({"id", "at", "on", "date", "ts", "c", "f", "pct", "percent", "usd", "eur", "num", "no"})
# Units a name carries that the question leaves out: `weight_kg` is the weight.
_UNITS = frozenset({"mm", "cm", "m", "km", "g", "kg", "lb", "lbs", "in", "ft", "s", "sec", "ms", "usd",
                    "eur", "pct", "percent", "c", "f", "mph", "kmh"})  # fmt: skip
# Common abbreviations that are not prefixes of the word they stand for (prefixes match by themselves:
# `dur` for duration, `temp` for temperature, `max` for maximum).
ABBREVIATIONS = {"avg": "average", "qty": "quantity", "amt": "amount", "no": "number", "num": "number",
                 "nr": "number", "cnt": "count", "pct": "percent", "wt": "weight", "yr": "year", "mo": "month",
                 "lbs": "pound", "lb": "pound", "dept": "department", "mgr": "manager", "cust": "customer",
                 "tot": "total", "std": "standard", "hr": "hour", "dt": "date", "desc": "description"}  # fmt: skip
MIN_PREFIX = 3
FUZZY_CUTOFF = 0.82
# Words people add to a measure's name that a column often leaves out.
_GENERIC = frozenset({"score", "value", "level", "rate", "reading", "figure", "amount"})


def words(text: str) -> list[str]:
    """Lowercase word parts of a name or phrase: `satisfactionScore`, `Unit Price` -> two words."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(text))
    return re.findall(r"[a-z0-9]+", spaced.lower())


def singular(word: str) -> str:
    """A crude singular that is applied to both sides of every comparison, so it only must be stable."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "uses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def stems(parts: list[str]) -> tuple[str, ...]:
    return tuple(singular(w) for w in parts)


def normal_value(value: Any) -> str:
    """How a category value is compared: case, spaces and punctuation do not matter."""
    return " ".join(stems(words(str(value))))


@dataclass(frozen=True)
class Col:
    table: str
    name: str
    family: TypeFamily
    values: tuple[Any, ...] | None = None
    distinct: int | None = None

    @property
    def stems(self) -> tuple[str, ...]:
        return stems(words(self.name))

    @property
    def numeric(self) -> bool:
        return self.family in NUMERIC and not self.is_key

    @property
    def temporal(self) -> bool:
        return self.family in TEMPORAL

    @property
    def is_key(self) -> bool:
        parts = self.stems
        return bool(parts) and parts[-1] == "id"

    @property
    def label(self) -> str:
        return self.name


@dataclass(frozen=True)
class Table:
    name: str
    rows: int | None
    columns: tuple[Col, ...]

    @property
    def stems(self) -> tuple[str, ...]:
        return stems(words(self.name))

    def column(self, name: str) -> Col | None:
        return next((c for c in self.columns if c.name == name), None)


def name_score(phrase: tuple[str, ...], name: tuple[str, ...], raw: str) -> float:
    """How well singular phrase words name something (0 = not at all); see the module docstring."""
    if not phrase or not name:
        return 0.0
    if phrase == name:
        return 1.0
    if "".join(phrase) == "".join(name):
        return 0.97  # "unitprice" for "unit_price"
    core = name[:-1] if len(name) > 1 and name[-1] in _SUFFIXES else name
    if phrase == core:
        return 0.9
    linked = link_score(phrase, name)
    if set(name) < set(phrase) and set(phrase) - set(name) <= _GENERIC:
        return max(linked, 0.85)  # "satisfaction score" for `satisfaction`
    if set(phrase) < set(name):
        return max(linked, 0.8 - 0.02 * (len(name) - len(phrase)))
    if linked:
        return linked
    ratio = max(
        difflib.SequenceMatcher(None, " ".join(phrase), " ".join(core)).ratio(),
        difflib.SequenceMatcher(None, " ".join(phrase), raw.lower()).ratio(),
        difflib.SequenceMatcher(None, "".join(phrase), "".join(core)).ratio(),
    )
    return 0.7 * ratio if ratio >= FUZZY_CUTOFF else 0.0


def _word_match(said: str, part: str) -> bool:
    """A question word and a name part: equal, an abbreviation, or one a prefix of the other."""
    if said == part or ABBREVIATIONS.get(part) == said or ABBREVIATIONS.get(said) == part:
        return True
    short, long = sorted((said, part), key=len)
    return len(short) >= MIN_PREFIX and long.startswith(short)


def _initials(said: str, parts: tuple[str, ...]) -> int:
    """How many name parts a word abbreviates by initials (`kpl` = km per litre), 0 if none."""
    if len(said) < 2 or len(said) > len(parts):
        return 0
    for start in range(len(parts) - len(said) + 1):
        if all(parts[start + k][0] == said[k] for k in range(len(said))):
            return len(said) if start == 0 else 0
    return 0


def link_score(phrase: tuple[str, ...], name: tuple[str, ...]) -> float:
    """Question words against name parts in order: abbreviations, prefixes, initials, run-together parts.

    `duration` links to `dur`, `cost per unit` to `costPerunit`, `kpl` to `Km_per_Litre`,
    `maximum speed` to `speed_max`. Units in the name (`_mm`, `_g`, `_in_lbs`) may be left out.
    Every phrase word must be used; name parts left over lower the score.
    """
    if len(phrase) == 1 and _initials(phrase[0], name) == len(name) > 1:
        return 0.86  # `kpl` for km per litre, units included
    parts = tuple(p for p in name if p not in _UNITS) or name
    used_parts: set[int] = set()
    i = 0
    while i < len(phrase):
        word = phrase[i]
        n = _initials(word, parts) if len(phrase) == 1 else 0
        if n:
            used_parts.update(range(n))
            i += 1
            continue
        match, span = _run_together(phrase, i, parts, used_parts)
        if match is None:
            match = next((k for k, p in enumerate(parts) if k not in used_parts and _word_match(word, p)), None)
            span = 1
        if match is None:
            return 0.0
        i += span
        used_parts.add(match)
    missing = len(parts) - len(used_parts)
    return 0.86 if missing == 0 else max(0.0, 0.78 - 0.03 * missing)


def _run_together(phrase: tuple[str, ...], i: int, parts: tuple[str, ...], used: set[int]) -> tuple[int | None, int]:
    """A name part spelling several question words at once (`perunit` for `per unit`)."""
    for k, part in enumerate(parts):
        if k in used:
            continue
        joined = phrase[i]
        for j in range(i + 1, len(phrase)):
            if not part.startswith(joined) or len(part) <= len(joined):
                break
            joined += phrase[j]
            if joined.startswith(part) or part.startswith(joined):
                return k, j - i + 1
    return None, 0


@dataclass(frozen=True)
class ValueHit:
    """Category value(s) named in the question: every spelling of the value in `column`."""

    column: Col
    spellings: tuple[Any, ...]
    shown: str


class Catalog:
    """The tables and columns of a schema context, with name and value lookups."""

    def __init__(self, context: dict[str, Any]) -> None:
        self.dataset = str(context.get("dataset", ""))
        self.tables = tuple(_table(t) for t in context.get("tables", []))

    @property
    def columns(self) -> list[Col]:
        return [c for t in self.tables for c in t.columns]

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)

    def match_table(self, phrase: tuple[str, ...], cutoff: float = 0.9) -> Table | None:
        scored = [(name_score(phrase, t.stems, t.name), t) for t in self.tables]
        best = max((s for s, _ in scored), default=0.0)
        hits = [t for s, t in scored if s == best and s >= cutoff]
        return hits[0] if len(hits) == 1 else None

    def match_columns(self, phrase: tuple[str, ...], cols: list[Col] | None = None) -> tuple[float, list[Col]]:
        """The best score and every column reaching it (several: ambiguous or one name in many tables)."""
        scored = [(name_score(phrase, c.stems, c.name), c) for c in (self.columns if cols is None else cols)]
        best = max((s for s, _ in scored), default=0.0)
        return best, [c for s, c in scored if s == best and s > 0]

    def match_values(self, phrase: tuple[str, ...], cols: list[Col] | None = None) -> list[ValueHit]:
        """Columns holding a value spelled like the phrase (singular/plural and case do not matter)."""
        target = " ".join(phrase)
        hits = []
        for col in cols if cols is not None else self.columns:
            if col.values is None or col.family != "text":
                continue
            same = tuple(v for v in col.values if v is not None and normal_value(v) == target)
            if same:
                hits.append(ValueHit(col, same, str(same[0]).strip()))
        return hits or self._near_values(target, cols)

    def _near_values(self, target: str, cols: list[Col] | None) -> list[ValueHit]:
        if len(target) < 5:
            return []
        hits = []
        for col in cols if cols is not None else self.columns:
            if col.values is None or col.family != "text":
                continue
            by_norm: dict[str, list[Any]] = {}
            for v in col.values:
                if v is not None:
                    by_norm.setdefault(normal_value(v), []).append(v)
            close = difflib.get_close_matches(target, list(by_norm), n=1, cutoff=0.85)
            if close:
                same = tuple(by_norm[close[0]])
                hits.append(ValueHit(col, same, str(same[0]).strip()))
        return hits


def _table(entry: dict[str, Any]) -> Table:
    name = str(entry["name"])
    cols = tuple(
        Col(
            table=name,
            name=str(c["name"]),
            family=type_family(str(c.get("type", ""))),
            values=tuple(c["values"]) if isinstance(c.get("values"), list) else None,
            distinct=c.get("distinct"),
        )
        for c in entry.get("columns", [])
    )
    return Table(name=name, rows=entry.get("rows"), columns=cols)
