"""What the model is told about the data: a compact schema context, pruned to what the question needs.

The context travels inside the system prompt as one JSON block between fixed tags, so every model
(the offline planner included) reads exactly the same facts. Cell values in it are data: they are
JSON-encoded and the prompt says they are never instructions.
"""

from __future__ import annotations

import json
import re
from typing import Any

from csvanalyst.catalog.schema import ColumnInfo, DatasetInfo

OPEN_TAG = "<dataset_schema>"
CLOSE_TAG = "</dataset_schema>"
MAX_COLUMNS_PER_TABLE = 60  # beyond this, only columns relevant to the question are sent
MAX_VALUE_CHARS = 60


def build_schema_context(dataset: DatasetInfo, question: str = "", *, samples: bool = True) -> dict[str, Any]:
    """A JSON-ready description of the dataset; wide tables keep only columns the question mentions."""
    words = _words(question)
    tables = []
    for table in dataset.tables:
        columns = table.columns
        omitted = 0
        if len(columns) > MAX_COLUMNS_PER_TABLE:
            kept = _relevant_columns(columns, words)
            omitted = len(columns) - len(kept)
            columns = kept
        entry: dict[str, Any] = {
            "name": table.name,
            "rows": table.row_count,
            "columns": [_column_entry(c, samples=samples) for c in columns],
        }
        if omitted:
            entry["columns_omitted"] = omitted
        tables.append(entry)
    return {"dataset": dataset.name, "tables": tables}


def _column_entry(column: ColumnInfo, *, samples: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": column.name, "type": column.type}
    stats = column.stats
    if stats is None:
        return entry
    entry["nulls"] = stats.null_count
    if stats.distinct_count is not None:
        entry["distinct"] = stats.distinct_count
    if stats.min is not None:
        entry["min"] = _clip(stats.min)
        entry["max"] = _clip(stats.max)
    if samples and stats.values is not None:
        entry["values"] = [_clip(v) for v in stats.values]
    elif samples and stats.samples:
        entry["samples"] = [_clip(v) for v in stats.samples[:3]]
    return entry


def _clip(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[: MAX_VALUE_CHARS - 1] + "…"
    return value


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 1}


def _relevant_columns(columns: list[ColumnInfo], words: set[str]) -> list[ColumnInfo]:
    """Columns whose name shares a word with the question, plus keys and dates (always useful)."""
    kept = []
    for column in columns:
        parts = _words(column.name.replace("_", " "))
        is_key = column.name.lower().endswith("id") or column.family in ("date", "timestamp")
        if parts & words or is_key:
            kept.append(column)
    return kept[:MAX_COLUMNS_PER_TABLE]


def render_schema_block(context: dict[str, Any]) -> str:
    """The context as JSON between tags; "<" is escaped so no cell value can close the block early."""
    body = json.dumps(context, ensure_ascii=False, default=str).replace("<", "\\u003c")
    return f"{OPEN_TAG}\n{body}\n{CLOSE_TAG}"


def extract_schema_context(text: str) -> dict[str, Any] | None:
    """The schema context inside a system prompt, or None when there is none."""
    start = text.rfind(OPEN_TAG)  # the block comes last; the instructions may mention the tag
    end = text.find(CLOSE_TAG, start + 1)
    if start < 0 or end < 0:
        return None
    context: dict[str, Any] | None = json.loads(text[start + len(OPEN_TAG) : end])
    return context
