"""Full results of the runs this server executed, kept in memory (bounded) for `GET /runs/{id}/result`.

The store keeps only a preview of each run; a run executed by another process (or before a restart)
is served from that preview, and the response says so.
"""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csvanalyst.core.export import to_csv, to_json_document

MAX_KEPT = 32


@dataclass(frozen=True)
class Table:
    columns: list[dict[str, str]]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    complete: bool  # False: only the stored preview of a larger result


class ResultCache:
    def __init__(self, max_kept: int = MAX_KEPT) -> None:
        self._items: OrderedDict[str, Table] = OrderedDict()
        self._lock = threading.Lock()
        self.max_kept = max_kept

    def put(self, run_id: str, table: Table) -> None:
        with self._lock:
            self._items[run_id] = table
            self._items.move_to_end(run_id)
            while len(self._items) > self.max_kept:
                self._items.popitem(last=False)

    def get(self, run_id: str) -> Table | None:
        with self._lock:
            return self._items.get(run_id)


def as_csv(table: Table) -> bytes:
    return to_csv([c["name"] for c in table.columns], table.rows).encode("utf-8")


def as_json(run_id: str, table: Table) -> bytes:
    payload = {
        "run_id": run_id,
        "columns": table.columns,
        "rows": table.rows,
        "row_count": table.row_count,
        "truncated": table.truncated,
        "complete": table.complete,
    }
    return to_json_document(payload).encode("utf-8")


def as_parquet(table: Table) -> bytes:
    """Parquet with the run's own column types, written by the one Parquet export every front end uses."""
    from csvanalyst.core.parquet_export import write_parquet

    with tempfile.TemporaryDirectory(prefix="csvanalyst-parquet-") as tmp:
        out = Path(tmp) / "result.parquet"
        write_parquet(out, table.columns, table.rows)
        return out.read_bytes()
