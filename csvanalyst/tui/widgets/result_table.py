"""A result as a DataTable that holds one page of rows at a time, so 100k rows never block a frame.

DataTable measures every cell it holds when it lays out; with a page of a few hundred rows that costs a
few milliseconds, while a 100k-row table would freeze the screen for seconds. Sorting sorts the whole
result, then shows its first page.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from csvanalyst.core.terminal import printable

if TYPE_CHECKING:
    from rich.console import JustifyMethod

PAGE_ROWS = 200
SORT_RUN = 5_000
SYNC_SORT_ROWS = 20_000  # up to here a sort takes a few ms and stays on the UI thread


def cell(value: Any) -> Any:
    """Display value of one cell: numbers by the product's one number rule, right-aligned; None as an
    empty cell; nested values as text."""
    from csvanalyst.core.numbers import format_number, is_number

    if value is None:
        return ""
    if is_number(value):
        from rich.text import Text

        return Text(format_number(value), justify="right")
    if isinstance(value, dict | list):
        return printable(str(value), one_line=True)
    if isinstance(value, str):
        return printable(value, one_line=True)
    return value


def exact(value: Any) -> str:
    """The full-precision text of a cell (shown for the cell under the cursor)."""
    return "null" if value is None else repr(value) if isinstance(value, float) else str(value)


def sort_key(value: Any) -> tuple[int, Any]:
    """Nulls last; numbers before text; mixed types never raise."""
    if value is None:
        return (2, 0)
    if isinstance(value, bool | int | float):
        return (0, value)
    return (1, str(value))


class ResultTable(DataTable[Any]):
    BINDINGS = [  # noqa: RUF012
        Binding("s", "sort_column", "Sort", tooltip="sort the whole result by the cursor's column"),
        Binding("right_square_bracket", "page(1)", "Next page", tooltip="next page of a long result"),
        Binding("left_square_bracket", "page(-1)", "Prev page", tooltip="previous page"),
    ]

    class PageShown(Message):
        """A page of the result is in the table."""

        def __init__(self, table: ResultTable, page: int, first: int, last: int) -> None:
            super().__init__()
            self.table, self.page, self.first, self.last = table, page, first, last

    def __init__(self, *, run_id: str = "", **kwargs: Any) -> None:
        super().__init__(zebra_stripes=True, cursor_type="cell", **kwargs)
        self.run_id = run_id
        self.rows_all: list[list[Any]] = []
        self.page = 0
        self._sorted_by: tuple[int, bool] | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.rows_all) // PAGE_ROWS))

    def show(self, columns: list[dict[str, str]], rows: list[list[Any]]) -> None:
        """Replace the content with a new result, at its first page."""
        from rich.text import Text

        from csvanalyst.core.numbers import is_numeric_type

        self.clear(columns=True)
        for column in columns:
            justify: JustifyMethod = "right" if is_numeric_type(column.get("type", "")) else "left"
            self.add_column(Text(printable(column["name"], one_line=True), justify=justify))
        self.rows_all, self.page, self._sorted_by = rows, 0, None
        self._show_page()

    def _show_page(self) -> None:
        first = self.page * PAGE_ROWS
        page = self.rows_all[first : first + PAGE_ROWS]
        self.clear()
        self.add_rows([cell(v) for v in row] for row in page)
        last = first + len(page)
        if self.pages > 1:
            self.border_subtitle = f"rows {first + 1:,}-{last:,} of {len(self.rows_all):,} · [ ] page"
        self.post_message(self.PageShown(self, self.page, first, last))

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        row = self.page * PAGE_ROWS + event.coordinate.row
        if row < len(self.rows_all) and event.coordinate.column < len(self.rows_all[row]):
            self.tooltip = exact(self.rows_all[row][event.coordinate.column])

    def action_page(self, step: int) -> None:
        page = min(max(self.page + step, 0), self.pages - 1)
        if page != self.page:
            self.page = page
            self._show_page()

    def action_sort_column(self) -> None:
        """Sort the whole result by the column under the cursor; again to reverse. A large result is
        sorted in a thread worker (a 100k-row sort would hold the screen for a few hundred ms)."""
        if not self.columns:
            return
        column = self.cursor_column
        descending = self._sorted_by == (column, False)
        if len(self.rows_all) <= SYNC_SORT_ROWS:
            self._sorted(_sort_rows(self.rows_all, column, descending), column, descending)
        else:
            self.border_subtitle = f"sorting {len(self.rows_all):,} rows…"
            self._sort_in_thread(self.rows_all, column, descending)

    @work(thread=True, exclusive=True, group="sort", description="sort a result")  # no repr of the rows
    def _sort_in_thread(self, rows: list[list[Any]], column: int, descending: bool) -> None:
        ordered = _sort_rows(rows, column, descending)
        self.app.call_from_thread(self._sorted, ordered, column, descending)

    def _sorted(self, rows: list[list[Any]], column: int, descending: bool) -> None:
        cursor = self.cursor_coordinate
        self.rows_all, self._sorted_by, self.page = rows, (column, descending), 0
        self._mark_sorted_column(column, descending)
        self._show_page()
        self.move_cursor(row=0, column=cursor.column)  # stay on the sorted column

    def _mark_sorted_column(self, sorted_index: int, descending: bool) -> None:
        """An arrow on the sorted column's header (▲ ascending, ▼ descending), none on the others."""
        from rich.text import Text

        for index, column in enumerate(self.columns.values()):
            label = column.label
            plain = label.plain.rstrip(" ▲▼")
            arrow = (" ▼" if descending else " ▲") if index == sorted_index else ""
            column.label = Text(plain + arrow, justify=label.justify)
        self.refresh()


def _sort_rows(rows: list[list[Any]], column: int, descending: bool) -> list[list[Any]]:
    """Stable sort by one column. A large result is sorted in runs merged in Python: one C-level sort of
    100k rows holds the GIL (and so the screen) for ~100 ms, a run of SORT_RUN rows for a few ms."""

    def key(row: list[Any]) -> tuple[int, Any]:
        return sort_key(row[column])

    if len(rows) <= SORT_RUN:
        return sorted(rows, key=key, reverse=descending)
    runs = [sorted(rows[i : i + SORT_RUN], key=key, reverse=descending) for i in range(0, len(rows), SORT_RUN)]
    return list(heapq.merge(*runs, key=key, reverse=descending))
