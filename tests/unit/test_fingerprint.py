"""Change detection: an edit that keeps size and mtime (restored with utime) is still seen."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from csvanalyst.catalog.registry import add_dataset, get_dataset


def test_same_size_edit_with_mtime_restored_is_rebuilt(tmp_path: Path) -> None:
    csv = tmp_path / "wide.csv"
    csv.write_text("id,amount\n" + "".join(f"{i},{i % 10}\n" for i in range(60_000)))
    add_dataset(csv)
    before = os.stat(csv)
    data = bytearray(csv.read_bytes())
    middle = data.index(b"\n30000,0\n") + 1
    data[middle : middle + 7] = b"30000,9"  # same length, far from the hashed head and tail
    csv.write_bytes(bytes(data))
    os.utime(csv, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(csv).st_size == before.st_size and os.stat(csv).st_mtime_ns == before.st_mtime_ns
    parquet = get_dataset("wide").tables[0].source.path
    with duckdb.connect() as con:
        total = con.execute(f"SELECT sum(amount) FROM read_parquet('{parquet}')").fetchall()[0][0]
    assert total == sum(i % 10 for i in range(60_000)) + 9
