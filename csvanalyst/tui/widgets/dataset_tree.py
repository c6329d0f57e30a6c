"""Datasets → tables → columns (type, nulls, distinct); highlighting a column shows its samples."""

from __future__ import annotations

from typing import Any

from textual.widgets import Tree

from csvanalyst.catalog.schema import ColumnInfo, DatasetInfo
from csvanalyst.markup import escape


def column_label(column: ColumnInfo) -> str:
    stats = column.stats
    extra = ""
    if stats is not None:
        distinct = "?" if stats.distinct_count is None else f"{stats.distinct_count:,}"
        extra = f" [dim]nulls {stats.null_count:,} · distinct {distinct}[/dim]"
    return f"{escape(column.name)} [i]{escape(column.type.lower())}[/i]{extra}"


def column_samples(column: ColumnInfo) -> str:
    stats = column.stats
    if stats is None:
        return f"{column.name}: no profile"
    values = stats.values if stats.values is not None else stats.samples
    shown = ", ".join(repr(v) for v in values[:8]) or "(none)"
    span = f" · min {stats.min!r} · max {stats.max!r}" if stats.min is not None else ""
    return f"{column.name}: {shown}{span}"


class DatasetTree(Tree[Any]):
    """Root children are dataset names; the active one is expanded with its tables and columns."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("datasets", **kwargs)
        self.show_root = False

    def set_datasets(self, names: list[str], active: str | None) -> None:
        self.clear()
        for name in names:
            label = f"[b]{escape(name)}[/b]" if name == active else escape(name)
            self.root.add(label, data={"dataset": name}, allow_expand=False)

    def show_dataset(self, info: DatasetInfo) -> None:
        """The active dataset's tables and columns, expanded, under its own node; the others folded."""
        node = None
        for child in self.root.children:
            name = (child.data or {}).get("dataset")
            if name == info.name:
                node = child
                child.set_label(f"[b]{escape(name)}[/b]")
            elif name is not None:
                child.set_label(escape(name))
                child.remove_children()
                child.allow_expand = False
        if node is None:
            node = self.root.add(f"[b]{escape(info.name)}[/b]", data={"dataset": info.name})
        node.remove_children()
        node.allow_expand = True
        for table in info.tables:
            rows = "" if table.row_count is None else f" [dim]{table.row_count:,} rows[/dim]"
            branch = node.add(f"{escape(table.name)}{rows}", data={"table": table.name}, expand=True)
            for column in table.columns:
                branch.add_leaf(column_label(column), data={"column": column})
        node.expand()
