"""Golden files: each plan in tests/fixtures/plans compiles to exactly the stored SQL, and that SQL, run
by DuckDB over the retail Parquet files, returns the stored result.

The `.result.json` files were computed independently with pandas from the same rows and checked by
hand; they are never regenerated from the compiler. `UPDATE_GOLDEN=1` rewrites only the `.sql` files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from csvanalyst.catalog.schema import DatasetInfo
from csvanalyst.plan.compile import compile_plan
from csvanalyst.plan.model import parse_plan
from tests.fixtures.plans.retail import connect, retail_dataset, run

PLANS = Path(__file__).resolve().parent.parent / "fixtures" / "plans"
NAMES = sorted(p.name.removesuffix(".json") for p in PLANS.glob("*.json") if ".result." not in p.name)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> DatasetInfo:
    return retail_dataset(tmp_path_factory.mktemp("retail"))


@pytest.fixture(scope="module")
def con(dataset: DatasetInfo) -> duckdb.DuckDBPyConnection:
    return connect(dataset)


def test_there_are_enough_golden_plans() -> None:
    assert len(NAMES) >= 12


@pytest.mark.parametrize("name", NAMES)
def test_plan_compiles_to_golden_sql(name: str, dataset: DatasetInfo) -> None:
    sql = compile_plan(parse_plan((PLANS / f"{name}.json").read_text()), dataset)
    golden = PLANS / f"{name}.sql"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(sql + "\n")
    assert sql == golden.read_text().strip()
    assert sqlglot.parse_one(sql, read="duckdb") is not None


@pytest.mark.parametrize("name", NAMES)
def test_golden_sql_returns_expected_rows(name: str, con: duckdb.DuckDBPyConnection) -> None:
    expected = json.loads((PLANS / f"{name}.result.json").read_text())
    actual = run(con, (PLANS / f"{name}.sql").read_text())
    assert actual["columns"] == expected["columns"]
    assert len(actual["rows"]) == len(expected["rows"])
    for got, want in zip(actual["rows"], expected["rows"], strict=True):
        assert _approx(got) == want


def _approx(row: list[Any]) -> list[Any]:
    # Aggregates over doubles may differ from pandas in the last bits.
    return [pytest.approx(v, rel=1e-9) if isinstance(v, float) else v for v in row]
