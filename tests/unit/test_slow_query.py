"""The shared slow query is slow by construction on this DuckDB: its plan streams 10^15 rows through a hash
with nothing to cut it short, and a run of it ends only by being interrupted."""

from __future__ import annotations

import re
import threading

import duckdb

from tests.support.slow import NEVER_ENDING_SQL, ROWS


def test_the_plan_scans_every_row_with_nothing_to_stop_early() -> None:
    plan = duckdb.connect().execute("EXPLAIN " + NEVER_ENDING_SQL).fetchall()[0][1]
    estimates = [int(n.replace(",", "")) for n in re.findall(r"~([\d,]+) rows", plan)]
    assert max(estimates) >= ROWS
    assert "hash(" in plan and not re.search(r"(?i)\b(filter|limit|top_n)\b", plan)


def test_it_ends_only_when_interrupted() -> None:
    con = duckdb.connect()
    running = threading.Event()
    outcome: dict[str, object] = {}

    def query() -> None:
        running.set()
        try:
            outcome["rows"] = con.execute(NEVER_ENDING_SQL).fetchall()
        except duckdb.InterruptException as exc:
            outcome["interrupted"] = exc

    worker = threading.Thread(target=query, daemon=True)
    worker.start()
    running.wait()
    # An interrupt sent before DuckDB starts the query is lost, so keep sending until the query ends.
    for _ in range(6000):
        con.interrupt()
        worker.join(timeout=0.05)
        if not worker.is_alive():
            break
    assert not worker.is_alive(), "the query ignored every interrupt"
    assert "interrupted" in outcome, f"the never-ending query finished: {outcome}"
    assert "rows" not in outcome
