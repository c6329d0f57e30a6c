"""Which Vega-Lite specs the terminal can draw, and their series. Kept apart from the plotext widget so
that deciding about a chart does not import plotext (it is loaded when the first chart is drawn)."""

from __future__ import annotations

from typing import Any

MAX_BARS = 30


def chart_series(spec: dict[str, Any]) -> tuple[str, list[str], list[float]] | None:
    """(mark, x labels, y values) of a bar/line spec, or None when the spec is something else."""
    mark = spec.get("mark")
    mark_type = mark.get("type") if isinstance(mark, dict) else mark
    encoding = spec.get("encoding", {})
    x, y = encoding.get("x", {}).get("field"), encoding.get("y", {}).get("field")
    values = spec.get("data", {}).get("values", [])
    if mark_type not in ("bar", "line") or not x or not y or not values:
        return None
    points = [(str(v.get(x)), float(v[y])) for v in values if isinstance(v.get(y), int | float)]
    if mark_type == "bar":
        points = points[:MAX_BARS]
    return mark_type, [p[0] for p in points], [p[1] for p in points]
