"""The one slow query every test that needs a run in flight uses.

It cannot be finished early on any machine: 10^15 rows go through `hash()` into `max()`, and nothing lets
DuckDB skip a row (no filter, no LIMIT, no statistics on a hash), unlike `count(*) FROM range(N)`, which
DuckDB 2 answers at billions of rows a second. It streams, so it holds no memory while it runs: only a
cancel, a timeout or a kill ends it. tests/unit/test_slow_query.py proves both on this DuckDB.
"""

from __future__ import annotations

ROWS = 10**15
NEVER_ENDING_SQL = f"SELECT max(hash(range)) AS h FROM range({ROWS})"


def never_ending_over(table: str) -> str:
    """The same query, but naming a dataset table, for executors that must mount one."""
    return f"SELECT max(hash(r.range)) AS h FROM range({ROWS}) r, (SELECT 1 FROM {table} LIMIT 1) t"
