"""Time words of a question: a period ("in 2024", "since March 2023") and a bucket ("per month", "weekly").

Periods are whole calendar ranges turned into inclusive date filters, so "in 2024" means
2024-01-01..2024-12-31 on the chosen date column. Relative words ("last month") are not understood on
purpose: the data's "now" is unknown, so they are left for the planner to decline.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from csvanalyst.llm.offline.parse import Intent

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_BUCKET_NOUNS = {"day": "day", "days": "day", "week": "week", "weeks": "week", "month": "month",
                 "months": "month", "quarter": "quarter", "quarters": "quarter", "year": "year",
                 "years": "year"}  # fmt: skip
_BUCKET_ADJ = {"daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter",
               "yearly": "year", "annual": "year", "annually": "year"}  # fmt: skip
_BUCKET_LEAD = (("for", "each"), ("for", "every"), ("in", "each"), ("per",), ("by",), ("each",), ("every",),
                ("a",), ("over", "the"))  # fmt: skip


@dataclass(frozen=True)
class Period:
    """A date filter: `op` is between, >= or <=; values are ISO dates."""

    op: str
    values: tuple[str, ...]
    label: str


def is_year(tok: str) -> bool:
    return re.fullmatch(r"(19|20)\d\d", tok) is not None


def _month_span(year: int, month: int) -> tuple[str, str]:
    last = calendar.monthrange(year, month)[1]
    return f"{year}-{month:02d}-01", f"{year}-{month:02d}-{last:02d}"


def read_period(intent: Intent) -> None:
    """The first calendar period named in the question, if any; its words are marked as used."""
    toks = intent.tokens
    for i in range(len(toks)):
        if not intent.free(i):
            continue
        found = _range_at(intent, i) or _single_at(intent, i)
        if found:
            period, end = found
            lead = i - 1 if intent.free(i - 1) and toks[i - 1] in ("in", "during", "for", "within", "of") else i
            intent.take(*range(lead, end))
            intent.period = period
            return


def _span_at(intent: Intent, i: int) -> tuple[str, str, str, int] | None:
    """A year, `march 2024`, `q1 2024` or an ISO date at i: (first day, last day, label, next position)."""
    toks = intent.tokens
    if not intent.free(i):
        return None
    tok = toks[i]
    nxt = toks[i + 1] if intent.free(i + 1) else ""
    if is_year(tok):
        return f"{tok}-01-01", f"{tok}-12-31", tok, i + 1
    if tok in _MONTHS and is_year(nxt):
        first, last = _month_span(int(nxt), _MONTHS[tok])
        return first, last, f"{calendar.month_name[_MONTHS[tok]]} {nxt}", i + 2
    if re.fullmatch(r"q[1-4]", tok) and is_year(nxt):
        q = int(tok[1])
        first, _ = _month_span(int(nxt), 3 * q - 2)
        _, last = _month_span(int(nxt), 3 * q)
        return first, last, f"Q{q} {nxt}", i + 2
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", tok):
        return tok, tok, tok, i + 1
    return None


def _range_at(intent: Intent, i: int) -> tuple[Period, int] | None:
    toks = intent.tokens
    tok = toks[i]
    a = _span_at(intent, i + 1) if tok in ("between", "from") else None
    if a and intent.free(a[3]) and toks[a[3]] in ("and", "to", "until", "through", "till"):
        b = _span_at(intent, a[3] + 1)
        if b:
            return Period("between", (a[0], b[1]), f"from {a[2]} to {b[2]}"), b[3]
    if tok in ("since", "after", "from") and (a := _span_at(intent, i + 1)):
        if tok == "after":
            return Period(">", (a[1],), f"after {a[2]}"), a[3]
        return Period(">=", (a[0],), f"since {a[2]}"), a[3]
    if tok in ("before", "until", "till") and (a := _span_at(intent, i + 1)):
        if tok == "before":
            return Period("<", (a[0],), f"before {a[2]}"), a[3]
        return Period("<=", (a[1],), f"until {a[2]}"), a[3]
    return None


def _single_at(intent: Intent, i: int) -> tuple[Period, int] | None:
    span = _span_at(intent, i)
    if span is None:
        return None
    first, last, label, end = span
    return Period("between", (first, last), f"in {label}" if first != last else f"on {label}"), end


def read_bucket(intent: Intent) -> None:
    """`per month`, `by week`, `monthly`, `over time` (= per month); the words are marked as used."""
    toks = intent.tokens
    for i, tok in enumerate(toks):
        if not intent.free(i):
            continue
        if tok in _BUCKET_ADJ:
            intent.bucket = _BUCKET_ADJ[tok]
            intent.take(i)
            return
        if tok == "over" and intent.at(i + 1, "time"):
            intent.bucket = "month"
            intent.take(i, i + 1)
            return
        for lead in _BUCKET_LEAD:
            end = i + len(lead)
            if intent.at(i, *lead) and intent.free(end) and toks[end] in _BUCKET_NOUNS:
                intent.bucket = _BUCKET_NOUNS[toks[end]]
                intent.take(*range(i, end + 1))
                return
