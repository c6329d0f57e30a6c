"""Loading a clean BENCH_ROWS-row CSV: our loader against plain DuckDB, on the same file, in the same run.

- cache: `datasets add`'s read (sniff, full read with rejects recorded, Parquet copy) against DuckDB's
  own `COPY (SELECT * FROM read_csv(...)) TO parquet`;
- in place: the `--file` scan (sniff, every column parsed and counted) against DuckDB's `read_csv` with
  every column counted.
The target is a ratio of at most 1.3 for both.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.timing import time_call

REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))


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
        con.execute(
            f"COPY (SELECT * FROM read_csv('{csv}')) TO '{work / 'duck.parquet'}' (FORMAT parquet, COMPRESSION zstd)"
        )


def _duckdb_in_place(csv: Path) -> None:
    import duckdb

    with duckdb.connect() as con:
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_csv('{csv}')").fetchall()]
        counts = ", ".join(f'count("{c}")' for c in columns)
        con.execute(f"SELECT count(*), {counts} FROM read_csv('{csv}')").fetchall()


def run() -> dict[str, float]:
    from bench.__main__ import big_csv

    csv = big_csv()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ours_cache = time_call(lambda: _ours_cache(csv, work), repeats=REPEATS)
        duck_cache = time_call(lambda: _duckdb_cache(csv, work), repeats=REPEATS)
        ours_scan = time_call(lambda: _ours_in_place(csv, work), repeats=REPEATS)
        duck_scan = time_call(lambda: _duckdb_in_place(csv), repeats=REPEATS)
    return {
        "ours_cache_s": ours_cache,
        "duckdb_copy_s": duck_cache,
        "cache_ratio_vs_duckdb": ours_cache / duck_cache,
        "ours_in_place_s": ours_scan,
        "duckdb_scan_s": duck_scan,
        "in_place_ratio_vs_duckdb": ours_scan / duck_scan,
    }
