"""A result as a DataTable that holds one page of rows at a time, so 100k rows never block a frame.

DataTable measures every cell it holds when it lays out; with a page of a few hundred rows that costs a
few milliseconds, while a 100k-row table would freeze the screen for seconds. Sorting sorts the whole
result, then shows its first page.
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

PAGE_ROWS = 200


def cell(value: Any) -> Any:
    """Display value of one cell: None as an empty cell, nested values as text."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return str(value)
    return value


def sort_key(value: Any) -> tuple[int, Any]:
    """Nulls last; numbers before text; mixed types never raise."""
    if value is None:
        return (2, 0)
    if isinstance(value, bool | int | float):
        return (0, value)
    return (1, str(value))


class ResultTable(DataTable[Any]):
    BINDINGS = [  # noqa: RUF012
        Binding("s", "sort_column", "Sort"),
        Binding("right_square_bracket", "page(1)", "Next page"),
        Binding("left_square_bracket", "page(-1)", "Prev page"),
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
        self.clear(columns=True)
        self.add_columns(*[c["name"] for c in columns])
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

    def action_page(self, step: int) -> None:
        page = min(max(self.page + step, 0), self.pages - 1)
        if page != self.page:
            self.page = page
            self._show_page()

    def action_sort_column(self) -> None:
        """Sort the whole result by the column under the cursor; again to reverse."""
        if not self.columns:
            return
        column = self.cursor_column
        descending = self._sorted_by == (column, False)
        self.rows_all = sorted(self.rows_all, key=lambda row: sort_key(row[column]), reverse=descending)
        self._sorted_by, self.page = (column, descending), 0
        self._show_page()
