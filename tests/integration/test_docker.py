"""The docker sandbox end to end: same answers as the local sandbox, the warm pool, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.errors import EnvironmentProblem
from csvanalyst.executors.base import Limits, RunRequest
from tests.integration.docker_support import docker_executor, leftovers
from tests.support.slow import never_ending_over

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def docker() -> Iterator[object]:
    executor = docker_executor()
    yield executor
    assert leftovers(executor) == []
    executor.close()


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CSVANALYST_HOME": str(home), "CSVANALYST_ALLOW_MODEL_REQUESTS": "0"}
    return subprocess.run(
        [sys.executable, "-m", "csvanalyst", *args], capture_output=True, text=True, env=env, check=False, cwd=REPO
    )


def table(path: Path, text: str) -> dict[str, TableSource]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return {path.stem: TableSource(path=str(path), format="csv")}


@pytest.mark.parametrize(
    "args",
    [
        ["sql", "SELECT status, count(*) AS n FROM orders GROUP BY 1 ORDER BY 1", "-d", "retail", "--format", "json"],
        ["ask", "top 5 products by revenue", "-d", "retail", "--json"],
    ],
    ids=["sql", "ask"],
)
def test_cli_gives_the_same_answer_in_docker_as_locally(docker: object, isolated_home: Path, args: list[str]) -> None:
    local = cli(*args, home=isolated_home)
    inside = cli(*args, "--sandbox", "docker", home=isolated_home)
    assert local.returncode == 0 and inside.returncode == 0, inside.stderr
    a, b = json.loads(local.stdout), json.loads(inside.stdout)
    rows = (lambda doc: doc["rows"]) if args[0] == "sql" else (lambda doc: doc["runs"][0]["rows"])
    assert rows(a) == rows(b) and rows(a)


def test_pool_reuses_a_worker_and_recycles_it(tmp_path: Path) -> None:
    tables = table(tmp_path / "t.csv", "a\n1\n2\n")
    ok = RunRequest(code="SELECT sum(a) AS s FROM t", tables=tables)
    with docker_executor(keep_warm=True, max_runs=3) as executor:
        pool = executor.pool
        results = [executor.run(ok) for _ in range(3)]
        assert [r.rows for r in results] == [[[3]]] * 3 and pool.started == 1
        executor.run(ok)  # the 4th run needs a new worker: the first retired after max_runs
        assert pool.started == 2
        failed = executor.run(RunRequest(code="SELECT nope FROM t", tables=tables))
        assert failed.status == "error" and pool.idle_workers() == 0  # any error retires the worker
        assert executor.run(ok).rows == [[3]] and pool.started == 3
    assert leftovers(executor) == []


def test_pool_never_shares_a_worker_between_datasets(tmp_path: Path) -> None:
    first = table(tmp_path / "one" / "t.csv", "a\n1\n")
    second = table(tmp_path / "two" / "t.csv", "a\n100\n")
    with docker_executor(keep_warm=True) as executor:
        one = executor.run(RunRequest(code="SELECT a FROM t", tables=first))
        two = executor.run(RunRequest(code="SELECT a FROM t", tables=second))
        again = executor.run(RunRequest(code="SELECT a FROM t", tables=first))
        assert (one.rows, two.rows, again.rows) == ([[1]], [[100]], [[1]])
        assert executor.pool.started == 2 and executor.pool.idle_workers() == 2


def test_pool_recovers_after_a_timeout(tmp_path: Path) -> None:
    tables = table(tmp_path / "t.csv", "a\n1\n")
    slow = never_ending_over("t")
    with docker_executor(keep_warm=True) as executor:
        result = executor.run(RunRequest(code=slow, tables=tables, limits=Limits(timeout_s=0.5)))
        assert result.status == "timeout"
        after = executor.run(RunRequest(code="SELECT a FROM t", tables=tables, limits=Limits(timeout_s=0.5)))
        assert after.rows == [[1]] and executor.pool.started == 2


def test_pool_idle_workers_are_stopped(tmp_path: Path) -> None:
    tables = table(tmp_path / "t.csv", "a\n1\n")
    with docker_executor(keep_warm=True, idle_s=0) as executor:
        executor.run(RunRequest(code="SELECT a FROM t", tables=tables))
        executor.run(RunRequest(code="SELECT a FROM t", tables=tables))
        assert executor.pool.started == 2  # the first worker was idle past idle_s=0 and stopped


def test_missing_image_says_how_to_build_it(docker: object) -> None:
    from csvanalyst.executors.docker.executor import DockerExecutor

    with pytest.raises(EnvironmentProblem) as caught:
        DockerExecutor(image="csvanalyst-runner:does-not-exist")
    assert "csvanalyst runner build" in caught.value.hint


def test_cleanup_removes_labelled_leftovers(docker: object, tmp_path: Path) -> None:
    from csvanalyst.executors.docker.executor import cleanup

    docker.create(None, [], Limits(), once=True)  # type: ignore[attr-defined]
    assert len(leftovers(docker)) == 1
    assert cleanup(docker.client) >= 1  # type: ignore[attr-defined]
    assert leftovers(docker) == []


def test_runner_check_passes(docker: object, isolated_home: Path) -> None:
    proc = cli("runner", "check", home=isolated_home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "FAIL" not in proc.stdout and "all checks passed" in proc.stdout


def test_unreachable_daemon_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, isolated_home: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    from csvanalyst.executors.docker.executor import DockerExecutor

    with pytest.raises(EnvironmentProblem) as caught:
        DockerExecutor()
    assert "not reachable" in caught.value.message and "--sandbox local" in caught.value.hint
    proc = cli("sql", "SELECT 1", "-d", "retail", "--sandbox", "docker", home=isolated_home)
    assert proc.returncode == 6 and "not reachable" in proc.stderr and "Traceback" not in proc.stderr


def test_both_dockerfiles_share_their_final_stage() -> None:
    marker = "# --- final stage"
    stages = [
        (REPO / "runner_image" / name).read_text().split(marker)[1] for name in ("Dockerfile", "Dockerfile.offline")
    ]
    assert stages[0] == stages[1]
    assert "COPY csvanalyst/runner /opt/csvanalyst/runner" in stages[0]  # the one copy of the runner


def test_worker_serves_requests_in_fresh_children(tmp_path: Path) -> None:
    """The warm worker's protocol, run as a plain local process (no container needed)."""
    tables = table(tmp_path / "t.csv", "a\n1\n2\n")
    requests = [
        RunRequest(code="SELECT sum(a) AS s FROM t", tables=tables),
        RunRequest(code="DROP TABLE t", tables=tables),
    ]
    stdin = b"".join(r.model_dump_json().encode() + b"\n" for r in requests)
    proc = subprocess.run(
        [sys.executable, "-m", "csvanalyst.runner.worker"], input=stdin, capture_output=True, check=True, cwd=REPO
    )
    out, replies = proc.stdout, []
    while out:
        header_line, _, out = out.partition(b"\n")
        header = json.loads(header_line)
        replies.append((header, json.loads(out[: header["length"]])))
        out = out[header["length"] :]
    assert [h["returncode"] for h, _ in replies] == [0, 0]
    assert replies[0][1]["rows"] == [[3]] and replies[1][1]["status"] == "rejected"


def _cancel_once_running(executor: object, cancel: threading.Event) -> threading.Thread:
    """Set `cancel` as soon as one of this process's containers is running (the point the test chooses)."""

    def watch() -> None:
        while not cancel.is_set():
            if any(c.status == "running" for c in leftovers(executor)):
                cancel.set()
                return
            cancel.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


@pytest.mark.parametrize("keep_warm", [False, True], ids=["container-per-run", "warm-pool"])
def test_cancel_kills_the_container_and_ends_the_run_as_cancelled(tmp_path: Path, keep_warm: bool) -> None:
    tables = table(tmp_path / "t.csv", "a\n1\n")
    slow = "SELECT count(*) FROM range(100000000000) r, t"
    with docker_executor(keep_warm=keep_warm) as executor:
        cancel = threading.Event()
        watcher = _cancel_once_running(executor, cancel)
        result = executor.run(RunRequest(code=slow, tables=tables, limits=Limits(timeout_s=30)), cancel=cancel)
        watcher.join()
        assert result.status == "error" and result.error is not None and result.error.code == "cancelled", result
        assert leftovers(executor) == [], "a cancelled run must not keep its container (its slot)"
        after = executor.run(RunRequest(code="SELECT a FROM t", tables=tables))
        assert after.rows == [[1]]
    assert leftovers(executor) == []
