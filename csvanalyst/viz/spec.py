"""Vega-Lite specs over a run's result: the one chart format every front end renders."""

from __future__ import annotations

from typing import Any

from csvanalyst.catalog.schema import type_family
from csvanalyst.events import RunFinished

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
MAX_CHART_ROWS = 200


class ChartError(ValueError):
    """The chart asks for something the result does not have."""


def _encoding_type(duckdb_type: str) -> str:
    family = type_family(duckdb_type)
    if family in ("date", "timestamp"):
        return "temporal"
    if family in ("integer", "float", "decimal"):
        return "quantitative"
    return "nominal"


def chart_spec(
    run: RunFinished, *, mark: str, x: str, y: str, color: str | None = None, title: str | None = None
) -> dict[str, Any]:
    """A self-contained spec (data inlined) over the run's preview rows."""
    types = {c["name"]: c["type"] for c in run.columns}
    for role, name in (("x", x), ("y", y), ("color", color)):
        if name is not None and name not in types:
            raise ChartError(f"Chart {role} column {name!r} is not in run {run.run_id}; columns: {', '.join(types)}.")
    names = [c["name"] for c in run.columns]
    values = [dict(zip(names, row, strict=False)) for row in run.rows[:MAX_CHART_ROWS]]
    if mark == "arc":
        encoding: dict[str, Any] = {
            "theta": {"field": y, "type": "quantitative"},
            "color": {"field": x, "type": _encoding_type(types[x])},
        }
    else:
        encoding = {
            "x": {"field": x, "type": _encoding_type(types[x])},
            "y": {"field": y, "type": _encoding_type(types[y])},
        }
        if color:
            encoding["color"] = {"field": color, "type": _encoding_type(types[color])}
    if mark == "bar" and encoding["x"]["type"] == "nominal":
        encoding["x"]["sort"] = "-y"
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": title or f"{y} by {x}",
        "data": {"values": values},
        "mark": {"type": mark, "tooltip": True},
        "encoding": encoding,
    }


def default_chart(run: RunFinished) -> dict[str, Any] | None:
    """A sensible chart for a two-column result (label/date + number), or None when none fits."""
    if len(run.columns) < 2 or run.row_count < 2:
        return None
    first, second = run.columns[0], run.columns[-1]
    if _encoding_type(second["type"]) != "quantitative":
        return None
    kind = _encoding_type(first["type"])
    if kind == "quantitative":
        return None
    return chart_spec(run, mark="line" if kind == "temporal" else "bar", x=first["name"], y=second["name"])
