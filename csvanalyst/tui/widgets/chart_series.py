"""Which Vega-Lite specs the terminal can draw, and their series. Kept apart from the plotext widget so
that deciding about a chart does not import plotext (it is loaded when the first chart is drawn)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from csvanalyst.viz.choose import MAX_BARS


@dataclass
class ChartSeries:
    """What plotext draws: x labels (or numbers, for a scatter) and one y series per colour."""

    mark: str
    labels: list[str] = field(default_factory=list)
    series: dict[str, list[float]] = field(default_factory=dict)
    x_values: list[float] = field(default_factory=list)
    legend: str = ""
    hidden: int = 0  # bars beyond MAX_BARS, said in the title rather than dropped silently


def chart_series(spec: dict[str, Any]) -> ChartSeries | None:
    """The series of a bar/line/point spec, or None when the spec is something else."""
    mark = spec.get("mark")
    mark_type = mark.get("type") if isinstance(mark, dict) else mark
    encoding = spec.get("encoding", {})
    x, y = encoding.get("x", {}).get("field"), encoding.get("y", {}).get("field")
    colour = encoding.get("color", {}).get("field")
    values = [v for v in spec.get("data", {}).get("values", []) if _number(v.get(y)) is not None]
    if mark_type not in ("bar", "line", "point") or not x or not y or not values:
        return None
    if mark_type == "point":
        points = [
            (px, py) for v in values if (px := _number(v.get(x))) is not None and (py := _number(v.get(y))) is not None
        ]
        return ChartSeries("point", x_values=[px for px, _ in points], series={y: [py for _, py in points]})
    labels = _ordered_labels(values, x, y, sort=encoding["x"].get("sort"))
    hidden = max(0, len(labels) - MAX_BARS) if mark_type == "bar" else 0
    labels = labels[: len(labels) - hidden]
    groups = sorted({str(v.get(colour)) for v in values}) if colour else [y]
    cells = {(str(v.get(x)), str(v.get(colour)) if colour else y): _number(v[y]) for v in values}
    series = {g: [cells.get((label, g)) or 0.0 for label in labels] for g in groups}
    legend = str(encoding.get("color", {}).get("title", colour or ""))
    return ChartSeries(mark_type, labels=labels, series=series, legend=legend, hidden=hidden)


def _ordered_labels(values: list[dict[str, Any]], x: str, y: str, *, sort: Any) -> list[str]:
    """The x categories in the order the spec draws them: by total value for '-y', else natural."""
    totals: dict[str, float] = {}
    for v in values:
        totals[str(v.get(x))] = totals.get(str(v.get(x)), 0.0) + (_number(v[y]) or 0.0)
    if sort == "-y":
        return sorted(totals, key=lambda label: -totals[label])
    keys: dict[str, Any] = {str(v.get(x)): v.get(x) for v in values}
    try:
        return sorted(totals, key=lambda label: keys[label])
    except TypeError:
        return list(totals)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
