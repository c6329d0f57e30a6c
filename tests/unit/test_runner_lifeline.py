"""A runner whose host stops reading its answer ends itself, whatever killed the host and whenever.

The host's death normally takes its sandbox processes with it (PR_SET_PDEATHSIG, bwrap's
--die-with-parent), but not when it dies while bwrap is still building the sandbox: that left a warm
worker running a never-ending query after `serve` was SIGKILLed. These tests start the real runner and
worker as plain child processes, with no death signal at all, so only the lifeline can end them: the
"host" here closes its end of their stdout while a never-ending query runs.
"""

from __future__ import annotations

import subprocess
import sys
import time

from csvanalyst.executors.base import Limits, RunRequest
from csvanalyst.executors.local.launch import descendants
from csvanalyst.runner.lifeline import HOST_GONE_EXIT
from tests.support.processes import alive
from tests.support.slow import NEVER_ENDING_SQL

HANG_GUARD_S = 60.0  # a hang guard, not a timing claim
REQUEST = RunRequest(code=NEVER_ENDING_SQL, tables={}, limits=Limits(timeout_s=3600)).model_dump_json()


def start(module: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-s", "-B", "-m", module],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_until(condition, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + HANG_GUARD_S
    while not (value := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(0.02)
    return value


def test_a_worker_whose_host_is_gone_stops_its_run_and_exits() -> None:
    worker = start("csvanalyst.runner.worker")
    try:
        assert worker.stdin is not None and worker.stdout is not None
        worker.stdin.write(REQUEST.encode() + b"\n")
        worker.stdin.flush()
        run = wait_until(lambda: descendants(worker.pid), "the worker forks a child for the request")
        worker.stdout.close()  # the host is gone: nobody will read the answer (stdin stays open)
        assert worker.wait(timeout=HANG_GUARD_S) == HOST_GONE_EXIT
        wait_until(lambda: not [pid for pid in run if alive(pid)], f"the run's child {run} outlived the worker")
    finally:
        worker.kill()
        worker.wait()


def test_a_one_shot_runner_whose_host_is_gone_exits() -> None:
    runner = start("csvanalyst.runner")
    try:
        assert runner.stdin is not None and runner.stdout is not None
        runner.stdin.write(REQUEST.encode())
        runner.stdin.close()  # the whole request was sent: the runner starts the never-ending query
        runner.stdout.close()
        assert runner.wait(timeout=HANG_GUARD_S) == HOST_GONE_EXIT
    finally:
        runner.kill()
        runner.wait()


def test_a_runner_whose_host_reads_answers_as_before() -> None:
    request = RunRequest(code="SELECT 41 + 1 AS x", tables={}, limits=Limits()).model_dump_json()
    argv = [sys.executable, "-s", "-B", "-m", "csvanalyst.runner"]
    done = subprocess.run(argv, input=request.encode(), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert b'"rows":[[42]]' in done.stdout.replace(b" ", b"")
