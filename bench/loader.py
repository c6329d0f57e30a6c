"""Loading a clean BENCH_ROWS-row CSV: our loader against plain DuckDB, on the same file, in the same run.

- cache: `datasets add`'s read (sniff, full read with rejects recorded, Parquet copy) against DuckDB's
  own `COPY (SELECT * FROM read_csv(...)) TO parquet`;
- in place: the `--file` scan (sniff, every column parsed and counted) against DuckDB's `read_csv` with
  every column counted.
The calls take turns in each round (bench.timing.time_pairs). The target is a ratio of at most 1.3 for both.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.timing import time_pairs

REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
ROWS = int(os.environ.get("BENCH_ROWS", "10000000"))


def _ours_cache(csv: Path, work: Path) -> None:
    from csvanalyst.catalog.ingest import ingest
    from csvanalyst.catalog.sniff import read_spec

    spec = read_spec(csv, work / "utf8")
    ingest(spec, work / "ours.parquet", csv)


def _ours_in_place(csv: Path, work: Path) -> None:
    from csvanalyst.catalog.ingest import check_in_place
    from csvanalyst.catalog.sniff import read_spec

    spec = read_spec(csv, work / "utf8")
    check_in_place(spec, work / "inplace.parquet", csv)


def _duckdb_cache(csv: Path, work: Path) -> None:
    import duckdb

    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")  # ours draws no bar on the bench's output either
        con.execute(
            f"COPY (SELECT * FROM read_csv('{csv}')) TO '{work / 'duck.parquet'}' (FORMAT parquet, COMPRESSION zstd)"
        )


def _duckdb_in_place(csv: Path) -> None:
    import duckdb

    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")  # ours draws no bar on the bench's output either
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_csv('{csv}')").fetchall()]
        counts = ", ".join(f'count("{c}")' for c in columns)
        con.execute(f"SELECT count(*), {counts} FROM read_csv('{csv}')").fetchall()


def run() -> dict[str, float]:
    from bench.__main__ import big_csv

    csv = big_csv()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        times = time_pairs(
            {
                "ours_cache": lambda: _ours_cache(csv, work),
                "duckdb_copy": lambda: _duckdb_cache(csv, work),
                "ours_in_place": lambda: _ours_in_place(csv, work),
                "duckdb_scan": lambda: _duckdb_in_place(csv),
            },
            repeats=REPEATS,
        )
    return {
        "rows": float(ROWS),
        **{f"{name}_s": value for name, value in times.items()},
        "cache_ratio_vs_duckdb": times["ours_cache"] / times["duckdb_copy"],
        "in_place_ratio_vs_duckdb": times["ours_in_place"] / times["duckdb_scan"],
    }
