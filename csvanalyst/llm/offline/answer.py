"""The words of the offline planner: the answer built from a run's rows, and the plain "I can't" text.

Every number in an answer is read from the rows the run returned, formatted with thousands separators
and at most two decimals; nothing is computed here that the query did not compute.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from csvanalyst.llm.offline.build import Draft
from csvanalyst.llm.offline.match import Catalog, Col

MAX_ITEMS = 12
SHAPES = (
    "counts (“how many orders”, “number of tickets per priority”)",
    "totals, averages, minimum, maximum, median and percentiles of a column, optionally by one or two "
    "columns and filtered by a category value, a number or a year",
    "top or bottom N (“top 5 products by revenue”)",
    "distinct values (“which regions are there”)",
    "trends per day, week, month, quarter or year (“orders per month in 2024”)",
)


def number(value: Any) -> str:
    """4870 -> `4,870`; 12345.6 -> `12,345.60`; 0.0421 -> `0.0421`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if value != value:
        return "NaN"
    if abs(value) >= 1 or value == 0:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def cell(value: Any, bucket: str | None = None) -> str:
    """A group label: a bucket date reads as `Jan 2024`, `Q1 2024`, `2024`; text keeps odd spaces visible."""
    if value is None:
        return "(empty)"
    if isinstance(value, dt.date):
        value = value.isoformat()
    if bucket and isinstance(value, str) and len(value) >= 10:
        try:
            day = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
        return _bucket_label(day, bucket)
    if isinstance(value, str):
        return f"“{value}”" if value != value.strip() or not value else value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a label (a year, a size, a code) reads as written, without separators
    return number(value)


def _bucket_label(day: dt.date, bucket: str) -> str:
    if bucket == "month":
        return day.strftime("%b %Y")
    if bucket == "quarter":
        return f"Q{(day.month - 1) // 3 + 1} {day.year}"
    if bucket == "year":
        return str(day.year)
    if bucket == "week":
        return f"week of {day.isoformat()}"
    return day.isoformat()


def answer(draft: Draft, result: dict[str, Any]) -> str:
    """One or two sentences from the run's rows, ending with the run reference."""
    rows = result.get("rows") or []
    text = _body(draft, rows, int(result.get("row_count", len(rows))))
    if draft.notes:
        text += f" Read as: {'; '.join(draft.notes)}."
    return f"{text} (run {result.get('run_id', '?')})"


def _body(draft: Draft, rows: list[list[Any]], total: int) -> str:
    where = f" ({'; '.join(draft.conditions)})" if draft.conditions else ""
    if not rows:
        return f"No rows match{where}, so there is no {draft.measure} to report."
    if draft.kind == "rows":
        shown = [cell(r[-1]) if isinstance(r[-1], str) else number(r[-1]) for r in rows]
        if draft.groups:
            shown = [f"{_label(draft, r)} ({v})" for r, v in zip(rows, shown, strict=True)]
        values = _items(shown, total)
        return f"{_cap(draft.measure)}{where}: {values}."
    if draft.kind == "distinct":
        items = _items([cell(r[0]) for r in rows], total)
        return f"There are {number(total)} distinct {draft.measure} values{where}: {items}."
    if draft.kind == "value":
        value = rows[0][-1]
        if draft.plan["aggregates"][0]["fn"] == "count" or draft.plan["aggregates"][0].get("as") == "count":
            return f"There are {number(value)} {draft.measure}{where}."
        if draft.plan["aggregates"][0]["fn"] == "share":
            shown = f"{number(value)}%" if value is not None else "empty (no rows)"
            return f"The share of {draft.measure}{where} is {shown}."
        if draft.plan["aggregates"][0]["fn"] == "count_distinct":
            return f"There are {number(value)} {draft.measure} values{where}."
        return f"The {draft.measure}{where} is {number(value) if value is not None else 'empty (no values)'}."
    if draft.kind == "trend" and len(draft.groups) == 1:
        return _trend(draft, rows, total, where)
    return _table(draft, rows, total, where)


def _label(draft: Draft, row: list[Any]) -> str:
    keys = row[: len(draft.groups)]
    return " / ".join(cell(v, draft.bucket if i == 0 and draft.bucket else None) for i, v in enumerate(keys))


def _table(draft: Draft, rows: list[list[Any]], total: int, where: str) -> str:
    pairs = [f"{_label(draft, r)} ({number(r[-1])})" for r in rows]
    by = " and ".join(draft.groups)
    rank = draft.plan.get("limit") if draft.kind == "rank" else None
    desc = bool(draft.plan["order_by"][0].get("desc")) if rank else False
    if rank == 1:
        aggregates = draft.plan.get("aggregates") or []  # a ranking of rows has none
        counted = bool(aggregates) and aggregates[0]["fn"] == "count"
        word = ("most" if desc else "fewest") if counted else ("highest" if desc else "lowest")
        return f"{_label(draft, rows[0])} has the {word} {draft.measure}{where}: {number(rows[0][-1])}."
    if rank:
        side = "Top" if desc else "Bottom"
        return f"{side} {len(rows)} {draft.entity or by} by {draft.measure}{where}: {_items(pairs, total)}."
    text = f"{_cap(draft.measure)} by {by}{where}: {_items(pairs, total)}."
    if draft.compared and len(rows) == 2 and all(isinstance(r[-1], int | float) for r in rows):
        (a, b) = rows
        if a[-1] == b[-1]:
            return f"{text} They are equal."
        high = a if a[-1] > b[-1] else b
        return f"{text} {_label(draft, high)} is higher."
    return text


def _trend(draft: Draft, rows: list[list[Any]], total: int, where: str) -> str:
    bucket = draft.bucket or "period"
    first, last = cell(rows[0][0], bucket), cell(rows[-1][0], bucket)
    valued = [r for r in rows if isinstance(r[-1], int | float)]
    text = f"{_cap(draft.measure)} per {bucket}{where}, from {first} to {last}"
    if total > len(rows):
        text = f"{_cap(draft.measure)} per {bucket}{where}: {number(total)} {bucket}s, the first {len(rows)} shown"
        text += f" from {first} to {last}"
    if valued:
        high = max(valued, key=lambda r: r[-1])
        low = min(valued, key=lambda r: r[-1])
        among = " among those shown" if total > len(rows) else ""
        text += f"; highest{among} in {cell(high[0], bucket)} ({number(high[-1])})"
        text += f", lowest in {cell(low[0], bucket)} ({number(low[-1])})"
    return text + "."


def _items(items: list[str], total: int) -> str:
    shown = items[:MAX_ITEMS]
    more = total - len(shown)
    return ", ".join(shown) + (f", … and {number(more)} more" if more > 0 else "")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def sql_answer(result: dict[str, Any]) -> str:
    """The answer to an escape-hatch `SQL:` question: the first rows, as they came."""
    rows = result.get("rows") or []
    total = int(result.get("row_count", len(rows)))
    names = [c.get("name", "?") for c in result.get("columns", [])]
    if total == 1 and len(names) == 1 and rows:
        text = f"{names[0]} = {number(rows[0][0])}."
    else:
        shown = "; ".join(", ".join(cell(v) for v in r) for r in rows[:5])
        text = f"The query returned {number(total)} row{'s' if total != 1 else ''} ({', '.join(names)})"
        text += f": {shown}" + ("; …" if total > 5 else "") + "." if rows else "."
    return f"{text} (run {result.get('run_id', '?')})"


def failure(error: dict[str, Any] | str, run_id: str | None) -> str:
    """An honest answer for a failed run: its message and hint, no numbers."""
    if isinstance(error, str):
        text = f"The query failed: {error.strip()}"
    else:
        text = f"The query failed: {error.get('message', 'unknown error')}"
        if error.get("hint"):
            text += f" {error['hint']}"
    return text + (f" (run {run_id})" if run_id else "")


def decline(reason: str, catalog: Catalog | None) -> str:
    """Why the offline planner stops, what it can do, examples from this dataset, and the ways out."""
    lines = [f"I can't answer that offline: {reason}.", "", "Without a language model I understand:"]
    lines += [f"- {shape}" for shape in SHAPES]
    examples = example_questions(catalog) if catalog else []
    if examples:
        lines += ["", "For example, on this dataset:"] + [f"- {q}" for q in examples]
    lines += ["", f"To run SQL yourself, start the question with `SQL:`, e.g. `{example_sql(catalog)}`."]
    lines.append(
        "For open questions, configure a model: set OPENAI_API_KEY or ANTHROPIC_API_KEY, or OPENAI_BASE_URL "
        "for a local OpenAI-compatible server (Ollama, vLLM, llama.cpp)."
    )
    return "\n".join(lines)


def _fact_table(catalog: Catalog) -> Any:
    return max(catalog.tables, key=lambda t: (t.rows or 0, -catalog.tables.index(t)))


def _category(cols: tuple[Col, ...]) -> Col | None:
    cats = [c for c in cols if c.family == "text" and not c.is_key and (c.distinct or 10**9) <= 50]
    return min(cats, key=lambda c: c.distinct or 0) if cats else None


def example_questions(catalog: Catalog) -> list[str]:
    """Two or three questions the offline planner answers on this dataset, from its real names."""
    if not catalog.tables:
        return []
    table = _fact_table(catalog)
    cat = _category(table.columns)
    num = next((c for c in table.columns if c.numeric), None)
    date = next((c for c in table.columns if c.temporal), None)
    out = [f"how many {table.name} are there" + (f" per {cat.name}" if cat else "")]
    if num is not None:
        out.append(f"average {num.name} by {cat.name}" if cat else f"maximum {num.name}")
    if date is not None:
        out.append(f"{table.name} per month")
    elif num is not None and cat is not None:
        out.append(f"top 5 {cat.name} by total {num.name}")
    return out[:3]


def example_sql(catalog: Catalog | None) -> str:
    if catalog is None or not catalog.tables:
        return "SQL: SELECT count(*) FROM my_table"
    table = _fact_table(catalog)
    cat = _category(table.columns)
    if cat is None:
        return f"SQL: SELECT count(*) FROM {table.name}"
    col = cat.name if re.fullmatch(r"[a-z_][a-z0-9_]*", cat.name) else '"' + cat.name.replace('"', '""') + '"'
    return f"SQL: SELECT {col}, count(*) AS n FROM {table.name} GROUP BY {col} ORDER BY n DESC"
