"""A large, deterministic single-table CSV for benchmarks, written by DuckDB in seconds.

Every value is a hash or modulo of the row number and the seed, so the file is reproducible without
shipping it, and DuckDB's parallel COPY (which keeps insertion order) writes millions of rows quickly.
"""

from __future__ import annotations

import os
from pathlib import Path

from csvanalyst.catalog.csvsql import literal

_QUERY = """
SELECT
    i + 1 AS order_id,
    DATE '2023-01-01' + CAST(hash(i, {s}) % 1096 AS INTEGER) AS order_date,
    'C' || lpad(CAST(hash(i, {s} + 1) % 50000 AS VARCHAR), 5, '0') AS customer_id,
    ['North', 'South', 'East', 'West', 'Central'][1 + CAST(hash(i, {s} + 2) % 5 AS INTEGER)] AS region,
    ['Electronics', 'Home', 'Garden', 'Toys', 'Books', 'Sports'][1 + CAST(hash(i, {s} + 3) % 6 AS INTEGER)]
        AS category,
    1 + CAST(hash(i, {s} + 4) % 10 AS INTEGER) AS quantity,
    round(1 + (hash(i, {s} + 5) % 50000) / 100.0, 2) AS unit_price,
    round(quantity * unit_price, 2) AS amount,
    CASE WHEN hash(i, {s} + 6) % 3 = 0 THEN NULL ELSE (hash(i, {s} + 6) % 5) * 0.05 END AS discount,
    ['delivered', 'delivered', 'delivered', 'shipped', 'cancelled', 'returned']
        [1 + CAST(hash(i, {s} + 7) % 6 AS INTEGER)] AS status
FROM range({rows}) AS t(i)
"""


def generate_big_csv(path: Path, rows: int = 10_000_000, seed: int = 7) -> Path:
    """Write `rows` orders-like rows to `path` (atomically); same rows and seed, same bytes."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    query = _QUERY.format(s=int(seed), rows=int(rows))
    try:
        with duckdb.connect() as con:
            con.execute("SET enable_progress_bar = false")
            con.execute(f"COPY ({query}) TO {literal(str(tmp))} (FORMAT csv, HEADER true)")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
