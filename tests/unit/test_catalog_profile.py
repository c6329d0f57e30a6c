"""Profiling on known data, and name normalisation."""

from __future__ import annotations

from pathlib import Path

from csvanalyst.catalog.csvsql import literal
from csvanalyst.catalog.names import normalize_name, unique_columns
from csvanalyst.catalog.profile import profile_table
from csvanalyst.catalog.schema import ColumnInfo


def test_profile_of_known_data(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("n,word,day\n3,b,2024-01-02\n1,a,\n,c,2024-03-04\n3,b,2024-01-02\n")
    columns = [
        ColumnInfo(name="n", type="BIGINT"),
        ColumnInfo(name="word", type="VARCHAR"),
        ColumnInfo(name="day", type="DATE"),
    ]
    rows, profiled = profile_table(f"read_csv({literal(str(path))})", columns)
    assert rows == 4
    n, word, day = (c.stats for c in profiled)
    assert (n.null_count, n.distinct_count, n.min, n.max, n.samples) == (1, 2, 1, 3, [3, 1])
    assert (word.null_count, word.distinct_count, word.min, word.max) == (0, 3, "a", "c")
    assert word.samples == ["b", "a", "c"]
    assert (day.null_count, day.min, day.max) == (1, "2024-01-02", "2024-03-04")


def test_long_values_are_capped(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("t\n" + "x" * 500 + "\n")
    _, (col,) = profile_table(f"read_csv({literal(str(path))})", [ColumnInfo(name="t", type="VARCHAR")])
    assert len(col.stats.max) == 80 and len(col.stats.samples[0]) == 80


def test_names() -> None:
    assert normalize_name("2023 Sales-Report") == "t_2023_sales_report"
    assert normalize_name("Orders") == "orders"
    assert unique_columns(["a", "a", ""])[0] == ["a", "a_2", "column_3"]
    assert unique_columns(["x", " y "]) == (["x", "y"], [])
