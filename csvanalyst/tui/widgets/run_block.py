"""One run on screen: its SQL (highlighted, collapsible, copyable), its result table, and its chart."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Collapsible, Static

from csvanalyst.events import RunFinished
from csvanalyst.tui.widgets.chart_series import chart_series
from csvanalyst.tui.widgets.result_table import ResultTable


def sql_renderable(sql: str) -> Any:
    """The SQL, highlighted once into styled text: a Syntax object would be highlighted again each time the
    conversation is laid out (its height is measured on every reflow while a turn streams in)."""
    from rich.syntax import Syntax  # pygments loads after the first paint (jobs.preload)

    from csvanalyst.core.terminal import printable

    sql = printable(sql)
    text = Syntax(sql, "sql", theme="monokai", word_wrap=True, background_color="default").highlight(sql)
    text.rstrip()
    return text


class RunBlock(Vertical):
    """Holds the run's event; the rows shown are the preview until `show_rows` gets the full result."""

    BINDINGS = [  # noqa: RUF012
        Binding("c", "copy_sql", "Copy SQL", tooltip="copy the result's SQL"),
        Binding("a", "load_all", "All rows", tooltip="load all rows (runs the SQL again)"),
        Binding("x", "export", "Export", tooltip="export the result to a file"),
    ]

    def __init__(self, run: RunFinished, **kwargs: Any) -> None:
        super().__init__(classes="run-block", **kwargs)
        self.run = run
        self.columns: list[dict[str, str]] = run.columns
        self.rows: list[list[Any]] = run.rows
        self.complete = run.row_count <= len(run.rows)
        self.chart_spec: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._caption(), classes="run-caption")
        with Collapsible(title="SQL", collapsed=False, classes="run-sql"):
            yield Static(sql_renderable(self.run.sql))
        if self.run.columns:
            yield ResultTable(run_id=self.run.run_id, classes="run-table")
        yield Vertical(classes="chart-slot")

    def on_mount(self) -> None:
        if self.run.columns:
            self.query_one(ResultTable).show(self.columns, self.rows)
        if self.chart_spec is not None:
            self._draw_chart()

    def _caption(self) -> str:
        run = self.run
        shown = len(self.rows)
        more = "" if self.complete else f" · showing {shown} (a: load all)"
        flag = " (truncated at the row cap)" if run.truncated and self.complete else ""
        return f"run {run.run_id} · {run.row_count} row(s){flag}{more}"

    def show_rows(self, columns: list[dict[str, str]], rows: list[list[Any]]) -> None:
        """Every row of the run, paged into the table without blocking."""
        self.columns, self.rows, self.complete = columns, rows, True
        self.query_one(".run-caption", Static).update(self._caption())
        self.query_one(ResultTable).show(columns, rows)

    def add_chart(self, spec: dict[str, Any]) -> bool:
        """Draw the chart under the table; False when it is not a bar or line chart."""
        if chart_series(spec) is None:
            return False
        self.chart_spec = spec
        if self.is_mounted:  # else on_mount draws it, once the slot exists
            self._draw_chart()
        return True

    def _draw_chart(self) -> None:
        from csvanalyst.tui.widgets.chart_view import ChartView  # plotext loads with the first chart

        slot = self.query_one(".chart-slot", Vertical)
        slot.remove_children()
        slot.mount(ChartView(self.chart_spec or {}, classes="run-chart"))

    def on_descendant_focus(self) -> None:
        self.app.selected_run = self  # type: ignore[attr-defined]

    def action_copy_sql(self) -> None:
        self.app.copy_to_clipboard(self.run.sql)
        self.notify("SQL copied to the clipboard")

    def action_load_all(self) -> None:
        if not self.complete:
            self.post_message(self.LoadAll(self))

    def action_export(self) -> None:
        self.post_message(self.ExportRequested(self))

    class LoadAll(Message):
        """Re-run this run's SQL to show every row (events carry only a preview)."""

        def __init__(self, block: RunBlock) -> None:
            super().__init__()
            self.block = block

    class ExportRequested(Message):
        def __init__(self, block: RunBlock) -> None:
            super().__init__()
            self.block = block
