"""A Vega-Lite bar or line chart drawn in the terminal with plotext, from the spec's inlined data."""

from __future__ import annotations

from typing import Any

from textual import work
from textual_plotext import PlotextPlot

from csvanalyst.tui.widgets.chart_series import chart_series
from csvanalyst.viz.choose import MAX_BARS

__all__ = ["MAX_BARS", "ChartView", "chart_series"]


class ChartView(PlotextPlot):
    """Shows one chart; the app decides whether a spec can be drawn (see `chart_series`)."""

    def __init__(self, spec: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self._drawn: tuple[tuple[int, int, str], Any] | None = None
        self._drawing: tuple[int, int, str] | None = None

    def render(self) -> Any:
        """The plot as last drawn for this size and theme. PlotextPlot builds it in `render`, on the UI
        thread, on every refresh (the conversation refreshes it each time it grows or scrolls while a turn
        streams in): 50-100 ms each here. It is drawn in a thread worker instead, once per size and theme."""
        from textual.content import Content

        key = (self.size.width, self.size.height, self.app.theme)
        if (self._drawn is None or self._drawn[0] != key) and self._drawing != key and self.size.area:
            self._drawing = key
            self._draw(key, self._get_plotext_theme_name(self.app.theme))
        return self._drawn[1] if self._drawn is not None else Content("drawing the chart…")

    @work(thread=True, exclusive=True, group="chart", description="draw a chart")
    def _draw(self, key: tuple[int, int, str], plotext_theme: str) -> None:
        from rich.text import Text
        from textual.content import Content

        width, height, _ = key
        plot = self.plt
        plot.plotsize(width, height)
        plot._set_size(width, height)  # as PlotextPlot.render does (textual-plotext issue 5)
        plot.theme(plotext_theme)
        content = Content.from_rich_text(Text.from_ansi(plot.build()))
        self.app.call_from_thread(self._show, key, content)

    def _show(self, key: tuple[int, int, str], content: Any) -> None:
        self._drawn = (key, content)
        if self._drawing == key:
            self._drawing = None
        self.refresh()

    def on_mount(self) -> None:
        series = chart_series(self.spec)
        if series is None:
            return
        plt = self.plt
        hidden = f" (first {len(series.labels)}; {series.hidden} more not drawn)" if series.hidden else ""
        plt.title(str(self.spec.get("title", "")) + hidden)
        named = len(series.series) > 1
        if series.mark == "point":
            (values,) = series.series.values()
            plt.scatter(series.x_values, values, marker="braille")
        elif series.mark == "bar" and named:
            # plotext takes `labels` here; textual-plotext's stub misspells it as `label`.
            plt.multiple_bar(series.labels, list(series.series.values()), labels=list(series.series))  # type: ignore[call-arg]
        elif series.mark == "bar":
            plt.bar(series.labels, next(iter(series.series.values())))
        else:
            positions: list[float] = list(range(len(series.labels)))
            for name, values in series.series.items():
                plt.plot(positions, values, marker="braille", label=name if named else None)
            step = max(1, len(series.labels) // 8)
            plt.xticks(positions[::step], series.labels[::step])
