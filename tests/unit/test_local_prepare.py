"""A prepared runner process: started before the query is checked, used once, never leaked."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.core.query import DataScope, execute
from csvanalyst.errors import PolicyError
from csvanalyst.executors.base import Limits, RunRequest
from csvanalyst.executors.local.executor import LocalExecutor
from csvanalyst.executors.local.launch import descendants


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, TableSource]:
    out = {}
    for name in ("a", "b"):
        path = tmp_path / f"{name}.parquet"
        duckdb.sql(f"COPY (SELECT range AS x FROM range(5)) TO '{path}' (FORMAT parquet)")
        out[name] = TableSource(path=str(path), format="parquet")
    return out


def test_prepared_process_serves_the_next_run(sources: dict[str, TableSource]) -> None:
    with LocalExecutor() as executor:
        executor.prepare(sources.values(), Limits())
        prepared_pid = executor._prepared.started.proc.pid
        result = executor.run(RunRequest(code="SELECT sum(x) AS s FROM a", tables={"a": sources["a"]}))
        assert result.status == "ok" and result.rows == [[10]]
        assert executor._prepared is None
        assert prepared_pid not in descendants(os.getpid())


def test_request_outside_the_prepared_tables_gets_a_fresh_process(
    sources: dict[str, TableSource], tmp_path: Path
) -> None:
    other = tmp_path / "c.parquet"
    duckdb.sql(f"COPY (SELECT 7 AS x) TO '{other}' (FORMAT parquet)")
    with LocalExecutor() as executor:
        executor.prepare([sources["a"]], Limits())
        result = executor.run(
            RunRequest(code="SELECT x FROM c", tables={"c": TableSource(path=str(other), format="parquet")})
        )
        assert result.status == "ok" and result.rows == [[7]]
        executor.prepare([sources["a"]], Limits())
        changed = executor.run(
            RunRequest(code="SELECT count(*) FROM a", tables={"a": sources["a"]}, limits=Limits(max_rows=3))
        )
        assert changed.status == "ok" and changed.rows == [[5]]


def test_rejected_query_leaves_no_runner_behind() -> None:
    before = set(descendants(os.getpid()))
    with pytest.raises(PolicyError):
        execute("sql", "SELECT * FROM read_text('/etc/passwd')", DataScope(dataset="retail"))
    assert set(descendants(os.getpid())) <= before


def test_keep_warm_starts_the_next_runner_after_each_run(sources: dict[str, TableSource]) -> None:
    request = RunRequest(code="SELECT count(*) FROM a", tables={"a": sources["a"]})
    # Only the plain process keeps single-use runners warm; bwrap/unshare use a worker (test_local_pool.py).
    with LocalExecutor("none", keep_warm=True) as executor:
        assert executor.run(request).rows == [[5]]
        warm = executor._prepared
        assert warm is not None and warm.started.proc.poll() is None
        assert executor.run(request).rows == [[5]]
        assert executor._prepared is not warm  # the warm one was used, and another started
        pid = executor._prepared.started.proc.pid
    assert pid not in descendants(os.getpid())  # close() killed the unused warm runner


def test_runner_prepared_from_a_short_lived_thread_survives_it(sources: dict[str, TableSource]) -> None:
    """The death signal follows the forking thread; runners must outlive the thread that asked for them."""
    import threading

    with LocalExecutor() as executor:
        worker = threading.Thread(target=executor.prepare, args=(list(sources.values()), Limits()))
        worker.start()
        worker.join()
        # A death signal is sent while the OS thread exits, before its task leaves /proc: wait for that.
        task = Path(f"/proc/self/task/{worker.native_id}")
        while task.exists():
            threading.Event().wait(0.01)
        prepared = executor._prepared
        assert prepared is not None and prepared.started.proc.poll() is None
        result = executor.run(RunRequest(code="SELECT count(*) FROM b", tables={"b": sources["b"]}))
        assert result.status == "ok" and result.rows == [[5]]  # a runner killed by the signal could not answer


def test_scratch_dirs_of_dead_owners_are_swept(tmp_path: Path) -> None:
    import subprocess
    import sys
    import tempfile

    from csvanalyst.executors.local.executor import SCRATCH_PREFIX, sweep_stale_scratch

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{dead.stdout.strip()}-"))
    (stale / "spill.tmp").write_text("x")
    live = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
    try:
        assert sweep_stale_scratch() >= 1
        assert not stale.exists() and live.exists()
    finally:
        live.rmdir()
