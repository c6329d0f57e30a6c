"""Registry: add / get / list / remove with real files, refresh on change, atomicity, cache location."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from csvanalyst.catalog.describe import describe_dataset
from csvanalyst.catalog.files import file_dataset
from csvanalyst.catalog.registry import add_dataset, get_dataset, list_datasets, remove_dataset
from csvanalyst.config import get_settings
from csvanalyst.errors import InputError, NotFoundError, UsageError
from csvanalyst.store import datasets as store_rows
from csvanalyst.store.db import connect


def _write(path: Path, rows: int) -> Path:
    path.write_text("id,city,amount\n" + "".join(f"{i},City {i % 3},{i * 1.5}\n" for i in range(rows)))
    return path


def _stored_names() -> list[str]:
    db = connect(get_settings().store_path)
    try:
        return [row["name"] for row in store_rows.list_all(db)]
    finally:
        db.close()


def test_add_show_remove_a_file(tmp_path: Path) -> None:
    info = add_dataset(_write(tmp_path / "Sales 2024.csv", 10))
    assert info.name == "sales_2024" and info.origin == "user"
    table = info.tables[0]
    assert table.name == "sales_2024" and table.row_count == 10
    assert table.source.format == "parquet"
    assert Path(table.source.path).is_relative_to(get_settings().cache_dir / "sales_2024" / info.fingerprint)
    shown = describe_dataset(get_dataset("sales_2024"))
    amount = shown["tables"][0]["columns"][2]
    assert (amount["name"], amount["min"], amount["max"], amount["nulls"]) == ("amount", 0.0, 13.5, 0)
    assert [d.name for d in list_datasets() if d.origin == "user"] == ["sales_2024"]
    remove_dataset("sales_2024")
    assert "sales_2024" not in _stored_names()
    assert not (get_settings().cache_dir / "sales_2024").exists()
    with pytest.raises(NotFoundError):
        get_dataset("sales_2024")


def test_add_a_folder_one_table_per_file(tmp_path: Path) -> None:
    folder = tmp_path / "Shop"
    folder.mkdir()
    _write(folder / "orders.csv", 5)
    _write(folder / "Customers.TSV", 3).write_text("id\tname\n1\tA\n2\tB\n")
    (folder / "readme.md").write_text("not a table")
    info = add_dataset(folder, name="my shop")
    assert info.name == "my_shop"
    assert {t.name: t.row_count for t in info.tables} == {"customers": 2, "orders": 5}
    summary = next(d for d in list_datasets() if d.name == "my_shop")
    assert (summary.tables, summary.rows, summary.source) == (2, 7, str(folder.resolve()))


def test_duplicate_and_demo_names_are_refused(tmp_path: Path) -> None:
    add_dataset(_write(tmp_path / "a.csv", 2), name="sales")
    with pytest.raises(UsageError) as caught:
        add_dataset(_write(tmp_path / "b.csv", 2), name="sales")
    assert "--name" in caught.value.hint
    with pytest.raises(UsageError, match="demo"):
        add_dataset(_write(tmp_path / "c.csv", 2), name="retail")


def test_refresh_when_the_file_changes(tmp_path: Path) -> None:
    path = _write(tmp_path / "live.csv", 10)
    first = add_dataset(path)
    assert get_dataset("live").fingerprint == first.fingerprint
    _write(path, 25)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    second = get_dataset("live")
    assert second.fingerprint != first.fingerprint
    assert second.tables[0].row_count == 25
    assert duckdb.sql(f"SELECT count(*) FROM '{second.tables[0].source.path}'").fetchall() == [(25,)]
    assert not (get_settings().cache_dir / "live" / first.fingerprint).exists()


def test_deleted_cache_is_rebuilt(tmp_path: Path) -> None:
    info = add_dataset(_write(tmp_path / "x.csv", 4))
    Path(info.tables[0].source.path).unlink()
    again = get_dataset("x")
    assert Path(again.tables[0].source.path).is_file() and again.tables[0].row_count == 4


def test_failed_add_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    _write(folder / "a_good.csv", 5)
    (folder / "b_bad.csv").write_text("a,b\n" + "1,2\n" * 3000 + "1,2,3\n")
    with pytest.raises(InputError, match=r"b_bad\.csv could not be read \(first: line 3002"):
        add_dataset(folder, strict=True)
    assert "mixed" not in _stored_names()
    assert not (get_settings().cache_dir / "mixed").exists()


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(NotFoundError) as caught:
        get_dataset("retial")
    assert "retail" in caught.value.message and "sensors" in caught.value.hint


def test_demo_cannot_be_removed() -> None:
    with pytest.raises(UsageError, match="built-in demo"):
        remove_dataset("retail")


def test_demo_is_cached_lazily_in_home() -> None:
    assert next(d for d in list_datasets() if d.name == "support").rows is None
    info = get_dataset("support")
    assert info.origin == "demo" and info.tables[0].row_count == 1500
    assert Path(info.tables[0].source.path).is_relative_to(get_settings().home)
    assert next(d for d in list_datasets() if d.name == "support").rows == 1500


def test_file_mode_reads_in_place_with_explicit_options(tmp_path: Path) -> None:
    path = _write(tmp_path / "Q1-sales.csv", 7)
    info = file_dataset([path])
    table = info.tables[0]
    assert (info.origin, table.name, table.source.format) == ("file", "q1_sales", "csv")
    assert table.source.path == str(path.resolve())
    assert table.source.csv_options["auto_detect"] is False
    assert [c.type for c in table.columns] == ["BIGINT", "VARCHAR", "DOUBLE"]
    assert "q1_sales" not in _stored_names()


def test_progress_is_reported_while_ingesting(tmp_path: Path) -> None:
    calls: list[tuple[str, float]] = []
    add_dataset(_write(tmp_path / "p.csv", 50), progress=lambda message, fraction: calls.append((message, fraction)))
    assert calls[0][0].startswith("Reading p.csv: 0 bytes of ") and calls[0][1] == 0.0
    final = next(message for message, fraction in calls if fraction == 1.0)
    assert final.startswith("Reading p.csv: ") and final.endswith(" rows"), final
    assert all(0.0 <= fraction <= 1.0 for _, fraction in calls)


def test_file_sniff_is_remembered_until_the_file_changes(tmp_path: Path) -> None:
    data = tmp_path / "sales.csv"
    data.write_text("id,amount\n1,2.5\n2,3.5\n")
    first = file_dataset([data])
    remembered = list((get_settings().cache_dir / "files").glob("*/profiled.json"))
    assert len(remembered) == 1 and first.tables[0].columns[1].type == "DOUBLE"
    # profiled like a registered dataset: the model gets row count, ranges and distinct counts
    amount = first.tables[0].columns[1].stats
    assert first.tables[0].row_count == 2 and amount is not None
    assert (amount.min, amount.max, amount.distinct_count) == (2.5, 3.5, 2)
    assert file_dataset([data]).tables[0] == first.tables[0]
    data.write_text("id,amount,note\n1,2.5,x\n2,3.5,y\n")
    changed = file_dataset([data])
    assert [c.name for c in changed.tables[0].columns] == ["id", "amount", "note"]
    assert changed.fingerprint != first.fingerprint


def test_a_plain_query_reads_a_file_without_profiling_it(tmp_path: Path) -> None:
    """`sql --file` needs no column stats: the file is read and checked once, and profiled only when a
    question first needs the stats; both are remembered for the next call."""
    data = tmp_path / "sales.csv"
    data.write_text("id,amount\n1,2.5\n2,3.5\n")
    plain = file_dataset([data], profiled=False)
    cache = get_settings().cache_dir / "files"
    assert plain.tables[0].row_count == 2 and [c.stats for c in plain.tables[0].columns] == [None, None]
    assert list(cache.glob("*/read.json")) and not list(cache.glob("*/profiled.json"))
    profiled = file_dataset([data])
    amount = profiled.tables[0].columns[1].stats
    assert amount is not None and (amount.min, amount.max) == (2.5, 3.5)
    assert list(cache.glob("*/profiled.json"))
    assert file_dataset([data], profiled=False).tables[0] == profiled.tables[0]  # the stats, once made, are kept
