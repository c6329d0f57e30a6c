"""`SQL:` turns announce their checked SQL and a status before the sandbox starts the run.

The executor records which events the consumer had already received when the run began; since the
event stream is a generator, that is exactly what a TUI, an SSE client or `ask --events` has seen.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from csvanalyst.catalog.schema import TableSource
from csvanalyst.core.query import DataScope
from csvanalyst.core.session import Session
from csvanalyst.events import Event
from csvanalyst.executors.base import ClosingExecutor, Limits, RunRequest, RunResult
from csvanalyst.executors.local.executor import LocalExecutor


class WatchedExecutor(ClosingExecutor):
    """The real local sandbox, noting what the consumer had seen when each run began."""

    name = "local"

    def __init__(self, seen: list[Event]) -> None:
        self.inner = LocalExecutor()
        self.seen = seen
        self.seen_at_start: list[str] = []

    @property
    def isolation(self) -> str:
        return self.inner.isolation

    def prepare(self, tables: Sequence[TableSource], limits: Limits) -> None:
        self.inner.prepare(tables, limits)

    def ready(self) -> str:
        return self.inner.ready()

    def run(self, request: RunRequest, cancel: threading.Event | None = None) -> RunResult:
        self.seen_at_start = [event.type for event in self.seen]
        return self.inner.run(request, cancel)

    def close(self) -> None:
        self.inner.close()


def test_sql_turn_streams_the_compiled_sql_and_a_status_before_the_run() -> None:
    seen: list[Event] = []
    with WatchedExecutor(seen) as executor:
        session = Session(provider="offline", executor=executor)
        for event in session.ask("SQL: SELECT count(*) AS n FROM orders", DataScope(dataset="retail")):
            seen.append(event)
    assert "sql_compiled" in executor.seen_at_start and "status" in executor.seen_at_start
    kinds = [event.type for event in seen]
    assert kinds.count("sql_compiled") == 1, kinds
    assert kinds.index("sql_compiled") < kinds.index("run_finished") < kinds.index("done")


def test_rejected_sql_is_not_announced_and_still_reported() -> None:
    seen: list[Event] = []
    with WatchedExecutor(seen) as executor:
        session = Session(provider="offline", executor=executor)
        events = list(session.ask("SQL: DROP TABLE orders", DataScope(dataset="retail")))
    kinds = [event.type for event in events]
    assert "sql_compiled" not in kinds and kinds[-2:] == ["error", "done"], kinds
