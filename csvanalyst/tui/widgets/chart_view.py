"""A Vega-Lite bar or line chart drawn in the terminal with plotext, from the spec's inlined data."""

from __future__ import annotations

from typing import Any

from textual_plotext import PlotextPlot

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


class ChartView(PlotextPlot):
    """Shows one chart; the app decides whether a spec can be drawn (see `chart_series`)."""

    def __init__(self, spec: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec

    def on_mount(self) -> None:
        series = chart_series(self.spec)
        if series is None:
            return
        mark, labels, values = series
        plt = self.plt
        plt.title(str(self.spec.get("title", "")))
        if mark == "bar":
            plt.bar(labels, values)
        else:
            positions = list(range(len(labels)))
            plt.plot(positions, values, marker="braille")
            step = max(1, len(labels) // 8)
            plt.xticks(positions[::step], labels[::step])
