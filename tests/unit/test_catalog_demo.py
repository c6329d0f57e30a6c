"""The demo generator: deterministic, realistically flawed, joinable; and the big benchmark CSV."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from csvanalyst.catalog import demo
from csvanalyst.catalog.bigcsv import generate_big_csv
from csvanalyst.catalog.demo_data import ORPHAN_CUSTOMER

REPO = Path(__file__).resolve().parents[2]


def _digests(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*.csv"))
    }


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path: Path) -> None:
    demo.generate(tmp_path / "a", seed=42)
    demo.generate(tmp_path / "b", seed=42)
    demo.generate(tmp_path / "c", seed=43)
    first, second, third = (_digests(tmp_path / d) for d in "abc")
    assert first == second
    assert len(first) == 6
    assert all(first[name] != third[name] for name in first)


def test_committed_datasets_are_the_generator_output(tmp_path: Path) -> None:
    demo.generate(tmp_path, seed=demo.SEED)
    assert _digests(tmp_path) == _digests(REPO / "datasets")
    committed = json.loads((REPO / "datasets" / "registry.json").read_text())
    assert committed == json.loads((tmp_path / "registry.json").read_text())
    total = sum(p.stat().st_size for p in (REPO / "datasets").rglob("*") if p.is_file())
    assert total < 1_000_000


def test_registry_lists_three_datasets_with_files_and_questions() -> None:
    registry = demo.load_registry()
    names = [d["name"] for d in registry["datasets"]]
    assert names == ["retail", "support", "sensors"]
    for entry in registry["datasets"]:
        assert entry["description"] and len(entry["questions"]) >= 3
        for file in entry["tables"].values():
            assert (demo.packaged_dir() / file).is_file()


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    base = REPO / "datasets"
    for entry in demo.load_registry()["datasets"]:
        for table, file in entry["tables"].items():
            connection.execute(f"CREATE VIEW {table} AS SELECT * FROM read_csv('{base / file}')")
    return connection


def test_retail_shape_and_flaws(con: duckdb.DuckDBPyConnection) -> None:
    orders, first, last = con.execute("SELECT count(*), min(order_date), max(order_date) FROM orders").fetchone()
    assert orders == 3000
    assert str(first).startswith("2023") and str(last).startswith("2025")
    assert con.execute("SELECT count(*) FROM orders WHERE discount IS NULL").fetchone()[0] > 100
    regions = {r[0] for r in con.execute("SELECT DISTINCT region FROM orders").fetchall()}
    assert {"North", "NORTH", "north "} <= regions
    orphans = con.execute(
        "SELECT DISTINCT o.customer_id FROM orders o ANTI JOIN customers c USING (customer_id)"
    ).fetchall()
    assert orphans == [(ORPHAN_CUSTOMER,)]
    unmatched = con.execute("SELECT count(*) FROM orders o ANTI JOIN products p USING (product_id)").fetchone()
    assert unmatched == (0,)


def test_support_and_sensors_flaws(con: duckdb.DuckDBPyConnection) -> None:
    open_tickets, no_score = con.execute(
        "SELECT count(*) FILTER (resolved_at IS NULL), count(*) FILTER (satisfaction IS NULL) FROM tickets"
    ).fetchone()
    assert open_tickets > 50 and no_score > 300
    priorities = {r[0] for r in con.execute("SELECT DISTINCT priority FROM tickets").fetchall()}
    assert "High" in priorities and any(p != p.strip() or p.islower() for p in priorities)
    hottest, missing = con.execute(
        "SELECT max(temperature_c), count(*) FILTER (humidity_pct IS NULL) FROM readings"
    ).fetchone()
    assert hottest == 85.0 and missing > 0
    per_device = con.execute("SELECT count(*) FROM readings GROUP BY device_id").fetchall()
    assert any(n < 240 for (n,) in per_device)  # gaps: missed readings


def test_big_csv_is_deterministic_and_complete(tmp_path: Path) -> None:
    a = generate_big_csv(tmp_path / "a.csv", rows=20_000, seed=1)
    b = generate_big_csv(tmp_path / "b.csv", rows=20_000, seed=1)
    c = generate_big_csv(tmp_path / "c.csv", rows=20_000, seed=2)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    assert duckdb.sql(f"SELECT count(*), count(DISTINCT order_id) FROM '{a}'").fetchall() == [(20_000, 20_000)]


def test_missing_demo_files_are_regenerated_into_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packaged = tmp_path / "pkg"
    packaged.mkdir()
    (packaged / "registry.json").write_text((REPO / "datasets" / "registry.json").read_text())
    monkeypatch.setattr(demo, "packaged_dir", lambda: packaged)
    folder = demo.ensure_demo_files(tmp_path / "home")
    assert folder == tmp_path / "home" / "demo"
    assert _digests(folder) == _digests(REPO / "datasets")
    assert not list(packaged.rglob("*.csv"))
