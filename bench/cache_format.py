"""Columnar cache format: Parquet files vs a DuckDB database file, for a repeated group-by.

Run: `.venv/bin/python -m bench.cache_format` (CACHE_BENCH_ROWS, default 5,000,000). Prints the time
to build each cache from the CSV, its size, and the median time of a fresh-connection group-by query
(what every sandboxed run does: open, query, close).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from bench.timing import time_call

ROWS = int(os.environ.get("CACHE_BENCH_ROWS", "5000000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
QUERY = "SELECT region, category, count(*), sum(amount), avg(quantity) FROM {t} GROUP BY ALL ORDER BY ALL"


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    import duckdb

    from csvanalyst.catalog.demo import generate_big_csv

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        csv = generate_big_csv(base / "big.csv", rows=ROWS)
        parquet, db = base / "big.parquet", base / "big.duckdb"
        source = f"read_csv('{csv}')"
        build_pq = _timed(
            lambda: duckdb.connect().execute(
                f"COPY (SELECT * FROM {source}) TO '{parquet}' (FORMAT parquet, COMPRESSION zstd)"
            )
        )

        def build_db() -> None:
            with duckdb.connect(str(db)) as con:
                con.execute(f"CREATE TABLE big AS SELECT * FROM {source}")

        build_duck = _timed(build_db)

        def query_parquet() -> None:
            with duckdb.connect() as con:
                con.execute(QUERY.format(t=f"read_parquet('{parquet}')")).fetchall()

        def query_db() -> None:
            with duckdb.connect(str(db), read_only=True) as con:
                con.execute(QUERY.format(t="big")).fetchall()

        def query_csv() -> None:
            with duckdb.connect() as con:
                con.execute(QUERY.format(t=source)).fetchall()

        rows = [
            ("parquet (zstd)", build_pq, parquet.stat().st_size, time_call(query_parquet, repeats=REPEATS)),
            ("duckdb file", build_duck, db.stat().st_size, time_call(query_db, repeats=REPEATS)),
            ("csv (no cache)", 0.0, csv.stat().st_size, time_call(query_csv, repeats=max(1, REPEATS // 2))),
        ]
    print(f"{ROWS:,} rows, median of {REPEATS} fresh-connection group-by queries")
    print(f"{'format':<16}{'build s':>9}{'size MB':>10}{'query ms':>10}")
    for name, build, size, query in rows:
        print(f"{name:<16}{build:>9.2f}{size / 1e6:>10.1f}{query * 1000:>10.1f}")


if __name__ == "__main__":
    main()
