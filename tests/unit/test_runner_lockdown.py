"""DuckDB's own lockdown, proven on a raw connection: no help from the statement check or the host policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from csvanalyst.runner import lockdown, tables, values
from csvanalyst.runner.protocol import RunLimits, Table


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    data = tmp_path / "data.csv"
    data.write_text("x\n1\n2\n")
    (tmp_path / "other.csv").write_text("secret\n42\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    limits = RunLimits(memory_mb=256, threads=1)
    con = duckdb.connect(":memory:", config=lockdown.connect_config(limits, str(scratch)))
    table = {"t": Table(str(data), "csv")}
    tables.register_views(con, table)
    lockdown.lock(con, table)
    yield con, tmp_path
    con.close()


def test_views_still_work_after_lockdown(locked: tuple[duckdb.DuckDBPyConnection, Path]) -> None:
    con, _ = locked
    assert con.execute("SELECT sum(x) FROM t").fetchall() == [(3,)]


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_csv('{tmp}/other.csv')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM glob('{tmp}/*')",
        "COPY (SELECT 1) TO '{tmp}/out.csv'",
        "COPY t TO '{tmp}/out.parquet' (FORMAT parquet)",
        "SET threads = 8",
        "SET memory_limit = '100GB'",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "RESET lock_configuration",
        "PRAGMA memory_limit = '100GB'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "LOAD '{tmp}/evil.duckdb_extension'",
        "ATTACH '{tmp}/x.db' AS x",
        "SELECT getenv('HOME')",
        "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
        "SELECT * FROM 'https://example.com/data.csv'",
    ],
)
def test_locked_connection_refuses(locked: tuple[duckdb.DuckDBPyConnection, Path], statement: str) -> None:
    con, tmp = locked
    with pytest.raises(duckdb.Error):
        con.execute(statement.format(tmp=tmp)).fetchall()
    assert not (tmp / "out.csv").exists() and not (tmp / "out.parquet").exists()


def test_settings_are_what_lockdown_promised(locked: tuple[duckdb.DuckDBPyConnection, Path]) -> None:
    con, _ = locked
    got = dict(con.execute("SELECT name, value FROM duckdb_settings()").fetchall())
    assert got["enable_external_access"] == "false"
    assert got["lock_configuration"] == "true"
    assert got["autoload_known_extensions"] == "false"
    assert got["autoinstall_known_extensions"] == "false"
    assert got["allow_community_extensions"] == "false"
    assert got["threads"] == "1"
    assert got["temp_directory"].endswith("scratch")


@pytest.mark.parametrize(
    ("seconds", "iso"), [(0, "PT0S"), (90, "PT1M30S"), (86400 * 2 + 0.25, "P2DT0.25S"), (-3600, "-PT1H")]
)
def test_iso_durations(seconds: float, iso: str) -> None:
    import datetime as dt

    assert values.iso_duration(dt.timedelta(seconds=seconds)) == iso
