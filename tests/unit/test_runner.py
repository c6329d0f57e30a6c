"""The runner in-process and as a process: results, types, truncation, refusals, limits."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from csvanalyst.runner.main import main, run
from tests.support.slow import NEVER_ENDING_SQL

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data(tmp_path: Path) -> dict[str, Any]:
    """A CSV and a Parquet file written by DuckDB itself."""
    csv = tmp_path / "sales.csv"
    csv.write_text("region,amount,day\nnorth,10.5,2024-01-01\nsouth,20,2024-01-02\nnorth,1,2024-01-03\n")
    parquet = tmp_path / "items.parquet"
    duckdb.sql(f"COPY (SELECT range AS id, 'item' || range AS name FROM range(50)) TO '{parquet}' (FORMAT parquet)")
    return {
        "sales": {"path": str(csv), "format": "csv", "csv_options": {"header": True}},
        "items": {"path": str(parquet), "format": "parquet"},
    }


def request(code: str, tables: dict[str, Any] | None = None, **limits: Any) -> dict[str, Any]:
    return {"kind": "sql", "code": code, "tables": tables or {}, "limits": limits}


def test_select_over_csv_returns_columns_types_and_rows(data: dict[str, Any]) -> None:
    out = run(request("SELECT region, sum(amount) AS total FROM sales GROUP BY 1 ORDER BY 1", data))
    assert out["status"] == "ok", out["error"]
    assert out["columns"] == [{"name": "region", "type": "VARCHAR"}, {"name": "total", "type": "DOUBLE"}]
    assert out["rows"] == [["north", 11.5], ["south", 20.0]]
    assert out["row_count"] == 2 and out["truncated"] is False
    assert set(out["timings"]) == {"setup_ms", "query_ms", "total_ms"}


def test_join_of_csv_and_parquet(data: dict[str, Any]) -> None:
    out = run(request("SELECT count(*) AS n, max(day) AS last FROM sales, items WHERE id < 2", data))
    assert out["status"] == "ok", out["error"]
    assert out["rows"] == [[6, "2024-01-03"]]
    assert out["columns"][1]["type"] == "DATE"


def test_csv_options_are_passed_through(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("a;b\n1;x\n2;NA\n")
    table = {"path": str(path), "format": "csv", "csv_options": {"delim": ";", "nullstr": "NA", "header": True}}
    out = run(request("SELECT a, b FROM t ORDER BY a", {"t": table}))
    assert out["rows"] == [[1, "x"], [2, None]]


def test_unknown_csv_option_is_a_protocol_error(data: dict[str, Any]) -> None:
    data["sales"]["csv_options"] = {"store_rejects": True}
    out = run(request("SELECT 1", data))
    assert out["status"] == "sandbox_error"
    assert "store_rejects" in out["error"]["message"]


def test_hostile_table_name_and_path_cannot_inject_sql(tmp_path: Path) -> None:
    path = tmp_path / "we'ird\"; DROP TABLE x; --.csv"
    path.write_text("v\n1\n")
    name = "t\"; SELECT * FROM read_csv('/etc/passwd'); --"
    out = run(
        request(f'SELECT v FROM "{name.replace(chr(34), chr(34) * 2)}"', {name: {"path": str(path), "format": "csv"}})
    )
    assert out["status"] == "ok", out["error"]
    assert out["rows"] == [[1]]


def test_every_type_is_json_safe() -> None:
    sql = """SELECT 9007199254740993::BIGINT AS big, 170141183460469231731687303715884105727::HUGEINT AS huge,
      1.50::DECIMAL(10,2) AS dec_exact, 12345678901234567.89::DECIMAL(38,2) AS dec_wide,
      'nan'::DOUBLE AS nan, 'inf'::FLOAT AS inf, DATE '2024-01-02' AS d,
      TIMESTAMP '2024-01-02 03:04:05.5' AS ts, TIME '01:02:03' AS t, INTERVAL '1 day 2 hours 3 seconds' AS iv,
      '\\x00\\xff'::BLOB AS b, [1, 2] AS l, {'a': 1, 'b': [DATE '2024-01-01']} AS s, MAP {1: 'one'} AS m,
      '123e4567-e89b-12d3-a456-426614174000'::UUID AS u, true AS bo, NULL AS nu, [1.5, 'nan'::DOUBLE] AS ln"""
    out = run(request(sql))
    assert out["status"] == "ok", out["error"]
    row = dict(zip([c["name"] for c in out["columns"]], out["rows"][0], strict=True))
    assert row == {
        "big": "9007199254740993",
        "huge": "170141183460469231731687303715884105727",
        "dec_exact": 1.5,
        "dec_wide": "12345678901234567.89",
        "nan": None,
        "inf": None,
        "d": "2024-01-02",
        "ts": "2024-01-02T03:04:05.500000",
        "t": "01:02:03",
        "iv": "P1DT2H3S",
        "b": "AP8=",
        "l": [1, 2],
        "s": {"a": 1, "b": ["2024-01-01"]},
        "m": {"1": "one"},
        "u": "123e4567-e89b-12d3-a456-426614174000",
        "bo": True,
        "nu": None,
        "ln": [1.5, None],
    }
    json.dumps(out, allow_nan=False)


def test_rows_are_truncated_at_max_rows() -> None:
    out = run(request("SELECT * FROM range(100)", max_rows=10))
    assert out["row_count"] == 10 and out["truncated"] is True
    assert out["rows"][-1] == [9]


def test_output_is_trimmed_to_max_output_bytes() -> None:
    out = run(request("SELECT repeat('x', 100) AS s FROM range(1000)", max_output_bytes=5000))
    assert out["status"] == "ok"
    assert out["truncated"] is True
    assert 0 < out["row_count"] < 1000
    assert len(json.dumps(out, separators=(",", ":")).encode()) <= 5000


@pytest.mark.parametrize(
    "code",
    [
        "SELECT 1; SELECT 2",
        "CREATE TABLE z AS SELECT 1",
        "COPY (SELECT 1) TO '/tmp/x.csv'",
        "SET threads = 8",
        "INSTALL httpfs",
        "LOAD httpfs",
        "ATTACH '/tmp/x.db'",
        "PRAGMA version",
        "EXPLAIN SELECT 1",
        "SELEC 1",
    ],
)
def test_anything_but_one_select_is_rejected(code: str) -> None:
    out = run(request(code))
    assert out["status"] == "rejected", out
    assert out["error"]["code"] == "not_a_select"


@pytest.mark.parametrize(
    "code",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM glob('/*')",
        "SELECT * FROM 'https://example.com/x.csv'",
        "SELECT getenv('HOME')",
    ],
)
def test_selects_that_touch_the_outside_fail(code: str) -> None:
    out = run(request(code))
    assert out["status"] == "error", out
    assert out["rows"] == []


def test_binder_errors_keep_duckdb_suggestions(data: dict[str, Any]) -> None:
    out = run(request("SELECT regin FROM sales", data))
    assert out["status"] == "error"
    assert out["error"]["code"] == "sql_error"
    assert "region" in out["error"]["message"] and out["error"]["hint"]


def test_long_query_times_out() -> None:
    out = run(request(NEVER_ENDING_SQL, timeout_s=1))
    assert out["status"] == "timeout"


def test_memory_hungry_query_is_oom() -> None:
    out = run(request("SELECT list(range) FROM range(300000000)", memory_mb=128, timeout_s=30))
    assert out["status"] == "oom", out["error"]


def test_python_kind_never_runs_outside_a_sandbox() -> None:
    out = run({"kind": "python", "code": "print(1)", "tables": {}})
    assert out["status"] == "error"
    assert out["error"]["code"] == "python_unsandboxed"


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"code": 1},
        {"code": "SELECT 1", "tables": {"t": {"path": "/x", "format": "xls"}}},
        {"code": "SELECT 1", "limits": {"max_rows": -1}},
    ],
)
def test_malformed_requests_are_sandbox_errors(bad: Any) -> None:
    assert run(bad)["status"] == "sandbox_error"


def test_main_writes_exactly_one_json_document(capsys: pytest.CaptureFixture[str]) -> None:
    import io

    assert main(io.StringIO(json.dumps(request("SELECT 42 AS x"))), limit_process=False) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["rows"] == [[42]]


def test_invalid_json_on_stdin_is_answered_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    import io

    main(io.StringIO("{not json"), limit_process=False)
    assert json.loads(capsys.readouterr().out)["status"] == "sandbox_error"


def _pipe(argv: list[str], payload: dict[str, Any], cwd: Path, **env: str) -> dict[str, Any]:
    done = subprocess.run(
        argv,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", **env},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_runs_as_package_module(data: dict[str, Any], tmp_path: Path) -> None:
    out = _pipe([sys.executable, "-m", "csvanalyst.runner"], request("SELECT count(*) FROM items", data), REPO)
    assert out["rows"] == [[50]]


def test_runs_standalone_when_copied_alone(data: dict[str, Any], tmp_path: Path) -> None:
    """Copied as `runner/` next to nothing else, it must work and never import the rest of the package."""
    shutil.copytree(REPO / "csvanalyst" / "runner", tmp_path / "alone" / "runner")
    out = _pipe([sys.executable, "-s", "-m", "runner"], request("SELECT count(*) FROM items", data), tmp_path / "alone")
    assert out["rows"] == [[50]]
    probe = (
        "import sys, runner.main, runner.__main__; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'csvanalyst'))"
    )
    done = subprocess.run(
        [sys.executable, "-s", "-c", probe], capture_output=True, text=True, cwd=tmp_path / "alone", timeout=60
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_missing_dataset_file_is_its_own_error(tmp_path: Path) -> None:
    out = run(request("SELECT * FROM t", {"t": {"path": str(tmp_path / "gone.csv"), "format": "csv"}}))
    assert out["status"] == "error"
    assert out["error"]["code"] == "table_unreadable"
    assert "gone.csv" in out["error"]["message"]
