"""The local sandbox end to end: real processes under each isolation mode this machine supports."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import duckdb
import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.errors import UsageError
from csvanalyst.executors.base import Limits, RunRequest, load
from csvanalyst.executors.local import isolation
from csvanalyst.executors.local.executor import LocalExecutor, available_modes
from tests.support.slow import NEVER_ENDING_SQL


@pytest.fixture
def tables(tmp_path: Path) -> dict[str, TableSource]:
    csv = tmp_path / "people.csv"
    csv.write_text("name,age\nada,36\nalan,41\ngrace,85\n")
    parquet = tmp_path / "scores.parquet"
    duckdb.sql(f"COPY (SELECT range AS id, range * 2 AS score FROM range(10)) TO '{parquet}' (FORMAT parquet)")
    return {
        "people": TableSource(path=str(csv), format="csv", csv_options={"header": True}),
        "scores": TableSource(path=str(parquet), format="parquet"),
    }


def sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_select_over_csv_and_parquet(executor: LocalExecutor, tables: dict[str, TableSource]) -> None:
    sql = "SELECT name, age, score FROM people JOIN scores ON id = age % 10 ORDER BY name"
    result = executor.run(RunRequest(code=sql, tables=tables))
    assert result.status == "ok", result.error
    assert [c.name for c in result.columns] == ["name", "age", "score"]
    assert result.rows == [["ada", 36, 12], ["alan", 41, 2], ["grace", 85, 10]]
    assert result.executor == "local"
    assert result.timings["total_ms"] >= result.timings["setup_ms"] > 0


def test_sql_error_carries_duckdb_message(executor: LocalExecutor, tables: dict[str, TableSource]) -> None:
    result = executor.run(RunRequest(code="SELECT nme FROM people", tables=tables))
    assert result.status == "error"
    assert result.error is not None and "name" in result.error.message


def test_non_select_is_rejected(executor: LocalExecutor, tables: dict[str, TableSource]) -> None:
    result = executor.run(RunRequest(code="SELECT 1; DROP VIEW people", tables=tables))
    assert result.status == "rejected"


def test_outside_files_stay_unreadable(executor: LocalExecutor, tables: dict[str, TableSource]) -> None:
    result = executor.run(RunRequest(code="SELECT * FROM read_csv('/etc/passwd')", tables=tables))
    assert result.status == "error"
    assert result.error is not None and result.error.code == "permission_denied"


def test_long_query_ends_as_timeout(executor: LocalExecutor) -> None:
    code = NEVER_ENDING_SQL
    result = executor.run(RunRequest(code=code, tables={}, limits=Limits(timeout_s=2)))
    assert result.status == "timeout"


def test_memory_hungry_query_ends_as_oom(executor: LocalExecutor) -> None:
    code = "SELECT list(range) FROM range(300000000)"
    result = executor.run(RunRequest(code=code, tables={}, limits=Limits(memory_mb=256, timeout_s=30)))
    assert result.status == "oom", result.error


def test_row_cap_and_byte_cap(executor: LocalExecutor) -> None:
    rows = executor.run(RunRequest(code="SELECT * FROM range(50)", tables={}, limits=Limits(max_rows=7)))
    assert (rows.row_count, rows.truncated) == (7, True)
    code = "SELECT repeat('y', 200) FROM range(500)"
    sized = executor.run(RunRequest(code=code, tables={}, limits=Limits(max_output_bytes=4096)))
    assert sized.status == "ok" and sized.truncated and 0 < sized.row_count < 500


def test_input_files_are_never_modified(executor: LocalExecutor, tables: dict[str, TableSource]) -> None:
    before = {name: sha(t.path) for name, t in tables.items()}
    executor.run(RunRequest(code="SELECT * FROM people, scores", tables=tables))
    executor.run(RunRequest(code="COPY people TO '" + tables["people"].path + "'", tables=tables))
    assert {name: sha(t.path) for name, t in tables.items()} == before


def test_private_temp_dir_is_removed(executor: LocalExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parent_tmp = tmp_path / "parent-tmp"
    parent_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(parent_tmp))
    executor.run(RunRequest(code="SELECT 1", tables={}))
    executor.run(RunRequest(code=NEVER_ENDING_SQL, tables={}, limits=Limits(timeout_s=1)))
    assert list(parent_tmp.iterdir()) == []


def test_python_kind_runs_only_with_filesystem_isolation(executor: LocalExecutor) -> None:
    result = executor.run(RunRequest(kind="python", code="print(1)", tables={}))
    if executor.isolation != "bwrap":  # unshare and the plain process leave the host's files visible
        assert result.status == "error"
        assert result.error is not None and result.error.code == "python_unsandboxed"
    else:
        assert result.status == "ok" and result.stdout == "1\n"


def test_auto_picks_a_working_mode_and_loads_by_name() -> None:
    with load("local") as ex:
        assert isinstance(ex, LocalExecutor)
        assert available_modes()[ex.isolation] is None
        assert ex.run(RunRequest(code="SELECT 1 AS one", tables={})).rows == [[1]]


def test_unknown_isolation_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="isolation"):
        LocalExecutor(isolation="chroot")


def test_each_modes_promise_is_what_the_runner_and_doctor_enforce() -> None:
    """One statement of what each mode guarantees: the runner's own Python gate and doctor's rows agree with it."""
    from csvanalyst.cli.doctor_cmd import _sandboxes as sandbox_rows
    from csvanalyst.executors.local.isolation import PROMISES
    from csvanalyst.runner.python_mode import ISOLATED_SANDBOXES

    assert set(PROMISES) == set(isolation.MODES)
    for mode, promise in PROMISES.items():
        assert (mode in ISOLATED_SANDBOXES) == promise.runs_python, mode
    assert [m for m, p in PROMISES.items() if p.runs_python] == ["bwrap"]
    rows = {row["sandbox"]: row for row in sandbox_rows()}
    for mode, problem in available_modes().items():
        if problem is None:
            assert rows[f"local ({mode})"]["detail"] == f"ok: {PROMISES[mode].summary()}"
