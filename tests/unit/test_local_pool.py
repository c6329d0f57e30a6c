"""Warm workers of the local sandbox: real bwrap/unshare workers, real DuckDB, hostile workers for the edges."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import Limits, RunRequest
from csvanalyst.executors.local.executor import LocalExecutor, available_modes
from csvanalyst.executors.local.launch import descendants
from tests.support.processes import alive
from tests.support.slow import NEVER_ENDING_SQL

MODES = [m for m in ("bwrap", "unshare") if available_modes()[m] is None]
pytestmark = pytest.mark.skipif(not MODES, reason="no namespace isolation here (bwrap or unshare)")
LONG = NEVER_ENDING_SQL


@pytest.fixture(params=MODES)
def warm(request: pytest.FixtureRequest) -> Iterator[LocalExecutor]:
    with LocalExecutor(request.param, keep_warm=True) as executor:
        yield executor


@pytest.fixture
def data(tmp_path: Path) -> dict[str, TableSource]:
    out = {}
    for name, rows in (("a", 5), ("b", 7)):
        path = tmp_path / f"{name}.parquet"
        duckdb.sql(f"COPY (SELECT range AS x FROM range({rows})) TO '{path}' (FORMAT parquet)")
        out[name] = TableSource(path=str(path), format="parquet")
    return out


def count(table: str, data: dict[str, TableSource], **limits: object) -> RunRequest:
    return RunRequest(code=f"SELECT count(*) FROM {table}", tables={table: data[table]}, limits=Limits(**limits))


def served_by(executor: LocalExecutor) -> set[int]:
    assert executor.pool is not None
    return set(executor.pool.idle_workers())


def argv_of(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")[:-1]
    except OSError:
        return []


def hostile(executor: LocalExecutor, code: str) -> None:
    """Serve the next runs from a worker running `code` (under the same isolation, as PID 1)."""
    assert executor.pool is not None
    executor.pool.launcher = executor.worker_launcher([sys.executable, "-s", "-B", "-c", code])


def test_one_warm_worker_per_dataset_serves_consecutive_runs(warm: LocalExecutor, data: dict[str, TableSource]) -> None:
    assert warm.pool is not None
    assert warm.run(count("a", data)).rows == [[5]]
    first = served_by(warm)
    assert warm.run(count("a", data)).rows == [[5]]
    assert served_by(warm) == first and len(first) == 1 and warm.pool.started == 1
    assert warm.run(count("b", data)).rows == [[7]]
    assert warm.pool.started == 2 and len(served_by(warm) - first) == 1  # never shared across datasets
    assert warm.run(count("a", data, max_rows=3)).rows == [[5]]
    assert warm.pool.started == 3  # other limits, other worker


def test_module_state_does_not_survive_between_runs(warm: LocalExecutor) -> None:
    if warm.isolation != "bwrap":
        pytest.skip(f"Python mode is refused under {warm.isolation} (no filesystem isolation); bwrap covers this")
    setter = "import pandas as pd\npd.set_option('display.max_rows', 3)\nresult = pd.get_option('display.max_rows')"
    assert warm.run(RunRequest(kind="python", code=setter, tables={})).rows == [[3]]
    getter = "import pandas as pd\nresult = pd.get_option('display.max_rows')"
    again = warm.run(RunRequest(kind="python", code=getter, tables={}))
    assert again.rows == [[60]]
    assert warm.pool is not None and warm.pool.started == 1  # the same worker, a fresh child


def test_errors_limits_and_caps_match_the_single_use_path(warm: LocalExecutor, data: dict[str, TableSource]) -> None:
    assert warm.run(RunRequest(code="SELECT nope FROM a", tables={"a": data["a"]})).status == "error"
    assert warm.run(RunRequest(code="SELECT 1; DROP VIEW a", tables={"a": data["a"]})).status == "rejected"
    denied = warm.run(RunRequest(code="SELECT * FROM read_csv('/etc/passwd')", tables={}))
    assert denied.error is not None and denied.error.code == "permission_denied"
    sized = warm.run(
        RunRequest(code="SELECT repeat('y', 200) FROM range(500)", tables={}, limits=Limits(max_output_bytes=4096))
    )
    assert sized.status == "ok" and sized.truncated and 0 < sized.row_count < 500
    oom = warm.run(RunRequest(code="SELECT list(range) FROM range(300000000)", tables={}, limits=Limits(memory_mb=256)))
    assert oom.status == "oom", oom.error


def test_timeout_ends_as_timeout_and_retires_the_worker(warm: LocalExecutor, data: dict[str, TableSource]) -> None:
    limits = Limits(timeout_s=1)
    warm.prepare([data["a"]], limits)
    (pid,) = served_by(warm)
    result = warm.run(RunRequest(code=LONG, tables={"a": data["a"]}, limits=limits))
    assert result.status == "timeout" and result.error is not None and result.error.code == "timeout"
    assert pid not in descendants(os.getpid())
    assert pid not in served_by(warm) and len(served_by(warm)) == 1  # a fresh one waits for the next run


def test_worker_that_never_answers_is_killed_at_the_host_deadline(warm: LocalExecutor) -> None:
    before = set(descendants(os.getpid()))  # processes other tests of this session may still hold
    hostile(warm, "import time\ntime.sleep(300)")
    result = warm.run(RunRequest(code="SELECT 1", tables={}, limits=Limits(timeout_s=1)))
    assert result.status == "timeout"
    warm.close()
    left = [p for p in set(descendants(os.getpid())) - before if alive(p)]
    assert not left, [argv_of(p) for p in left]


def test_reply_past_the_output_cap_is_refused(warm: LocalExecutor) -> None:
    flood = (
        "import sys, time\nsys.stdin.buffer.readline()\n"
        'sys.stdout.buffer.write(b\'{"returncode": 0, "length": 1000000000, "timed_out": false}\\n\')\n'
        "sys.stdout.buffer.flush()\ntime.sleep(300)"
    )
    hostile(warm, flood)
    result = warm.run(RunRequest(code="SELECT 1", tables={}, limits=Limits(max_output_bytes=4096)))
    assert result.error is not None and result.error.code == "output_too_large"


def test_setsid_grandchild_does_not_survive_the_sweep(warm: LocalExecutor) -> None:
    marker = f"csvanalyst-stray-{os.getpid()}-{time.monotonic_ns()}"
    spawner = f"""
import subprocess, sys
from runner import main, worker
real = main.run
def run(data, scratch=None):
    if isinstance(data, dict) and data.get("code") == "SPAWN":
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "{marker}"],
                         start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        data = {{**data, "code": "SELECT 'spawned' AS s"}}
    return real(data, scratch)
main.run = run
sys.exit(worker.serve(sys.stdin.buffer, sys.stdout.buffer))
"""
    hostile(warm, spawner)
    assert warm.run(RunRequest(code="SPAWN", tables={})).rows == [["spawned"]]
    assert warm.run(RunRequest(code="SELECT 2", tables={})).rows == [[2]]  # read only after the sweep
    assert warm.pool is not None and warm.pool.started == 1
    assert not [p for p in descendants(os.getpid()) if alive(p) and argv_of(p)[-1:] == [marker]]


def test_cancel_kills_the_worker_and_ends_the_run_as_cancelled(warm: LocalExecutor) -> None:
    before = set(descendants(os.getpid()))  # processes other tests of this session may still hold
    cancel = threading.Event()
    timer = threading.Timer(0.5, cancel.set)
    timer.start()
    result = warm.run(RunRequest(code=LONG, tables={}, limits=Limits(timeout_s=60)), cancel=cancel)
    timer.cancel()
    assert result.status == "error" and result.error is not None and result.error.code == "cancelled"
    warm.close()
    left = [p for p in set(descendants(os.getpid())) - before if alive(p)]
    assert not left, [argv_of(p) for p in left]


def test_worker_retires_after_max_runs(data: dict[str, TableSource]) -> None:
    with LocalExecutor(MODES[0], keep_warm=True, max_runs=2) as executor:
        executor.run(count("a", data))
        first = served_by(executor)
        executor.run(count("a", data))  # the second run retires it; a fresh one is started
        assert served_by(executor).isdisjoint(first)
        assert not [p for p in first if alive(p)]


def test_idle_worker_is_stopped(data: dict[str, TableSource]) -> None:
    with LocalExecutor(MODES[0], keep_warm=True, idle_s=0.2) as executor:
        executor.run(count("a", data))
        (pid,) = served_by(executor)
        end = time.monotonic() + 10
        while (served_by(executor) or alive(pid)) and time.monotonic() < end:
            time.sleep(0.05)
        assert not served_by(executor) and not alive(pid)


def test_close_leaves_no_process(data: dict[str, TableSource]) -> None:
    before = set(descendants(os.getpid()))
    executor = LocalExecutor(MODES[0], keep_warm=True)
    executor.run(count("a", data))
    executor.prepare([data["b"]], Limits())
    assert len(served_by(executor)) == 2
    executor.close()
    assert not [p for p in set(descendants(os.getpid())) - before if alive(p)]


def test_isolation_none_keeps_the_single_use_path() -> None:
    with LocalExecutor("none", keep_warm=True) as executor:
        assert executor.pool is None
        assert executor.run(RunRequest(code="SELECT 1", tables={})).rows == [[1]]
