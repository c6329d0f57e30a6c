"""Vega-Lite specs over a run's result: the one chart format every front end renders.

Every spec names its axes (the aggregate included: "average of Horsepower"), never stacks bars (a stack
of averages is a number nobody computed), and carries a legend whenever colour means something.
"""

from __future__ import annotations

from typing import Any

from csvanalyst.events import RunFinished
from csvanalyst.viz.roles import ColumnRole, column_roles

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
MAX_CHART_ROWS = 200


class ChartError(ValueError):
    """The chart asks for something the result does not have."""


def chart_spec(
    run: RunFinished, *, mark: str, x: str, y: str, color: str | None = None, title: str | None = None
) -> dict[str, Any]:
    """The spec the model asked for, checked against the result so it cannot mislead."""
    roles = {r.name: r for r in column_roles(run)}
    for role, name in (("x", x), ("y", y), ("color", color)):
        if name is not None and name not in roles:
            raise ChartError(f"Chart {role} column {name!r} is not in run {run.run_id}; columns: {', '.join(roles)}.")
    keys = [x] if mark == "arc" else [x, color] if color else [x]
    if mark in ("bar", "line", "area", "arc") and repeated_keys(run, keys):
        raise ChartError(
            f"Values of {' and '.join(keys)} repeat in run {run.run_id}, so the {mark} would add them up. "
            "Aggregate by them first, or pass the other grouping column as color."
        )
    colour = roles[color] if color else None
    return build_spec(run, mark, x=roles[x], y=roles[y], colour=colour, title=title)


def build_spec(
    run: RunFinished,
    mark: str,
    *,
    x: ColumnRole,
    y: ColumnRole,
    colour: ColumnRole | None = None,
    label: ColumnRole | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """A self-contained spec (data inlined) over the run's preview rows."""
    names = [c["name"] for c in run.columns]
    values = [dict(zip(names, row, strict=False)) for row in run.rows[:MAX_CHART_ROWS]]
    if mark == "arc":
        encoding: dict[str, Any] = {
            "theta": _channel(y, "quantitative"),
            "color": {**_channel(x, "nominal"), "legend": {"title": x.title}},
        }
    else:
        encoding = {"x": _x_channel(x, mark), "y": _channel(y, y.kind)}
        if colour is not None:
            encoding["color"] = {**_channel(colour, "nominal"), "legend": {"title": colour.title}}
            if mark == "bar":
                encoding["xOffset"] = {"field": colour.name, "type": "nominal"}
        tooltip = [x, y] + [r for r in (colour, label) if r is not None]
        encoding["tooltip"] = [_channel(r, r.kind) for r in tooltip]
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": title or _title(x, y, colour, mark),
        "data": {"values": values},
        "mark": {"type": mark, "tooltip": True, **({"point": True} if mark == "line" else {})},
        "encoding": encoding,
    }


def repeated_keys(run: RunFinished, names: list[str]) -> bool:
    """True when some combination of these columns' values occurs in more than one row."""
    index = [c["name"] for c in run.columns]
    positions = [index.index(n) for n in names]
    keys = [tuple(repr(row[p]) for p in positions) for row in run.rows]
    return len(set(keys)) < len(keys)


def _channel(role: ColumnRole, kind: str) -> dict[str, Any]:
    return {"field": role.name, "type": kind, "title": role.title}


def _x_channel(x: ColumnRole, mark: str) -> dict[str, Any]:
    if mark == "bar" and x.kind == "nominal":
        return {**_channel(x, "nominal"), "sort": "-y"}
    if mark == "bar" and x.kind == "quantitative":
        return _channel(x, "ordinal")  # a numeric group key: its natural order, one bar each
    return _channel(x, x.kind)


def _title(x: ColumnRole, y: ColumnRole, colour: ColumnRole | None, mark: str) -> str:
    if mark == "point":
        return f"{y.title} against {x.title}"
    by = f"{x.title} and {colour.title}" if colour else x.title
    return f"{y.title} by {by}"
