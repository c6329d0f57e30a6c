"""Trying to break out of each sandbox from inside: every attempt must fail safely, leaving nothing.

The matrix runs every probe on each backend available: the local sandbox (its strongest isolation
here) and a real container of the runner image. Probes go through the same `spawn` path as the runner;
only the program differs. The local sandbox has no process-count, cgroup-memory or root-filesystem
guarantees when the host runs as root; those rows say so and are proven for docker only.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import Limits, RunRequest, RunResult
from csvanalyst.executors.contract import Outcome, to_result
from csvanalyst.executors.local.executor import LocalExecutor
from csvanalyst.executors.local.isolation import PROMISES
from tests.integration.docker_support import docker_executor, leftovers
from tests.integration.probes import SECRETS, TRY_READ, TRY_WRITE, reported
from tests.support.requires import HOW_TO_INSTALL, unavailable


@pytest.fixture(scope="module", params=["local", "docker"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[object]:
    if request.param == "local":
        yield LocalExecutor()
        return
    executor = docker_executor()
    yield executor
    assert leftovers(executor) == [], "a container outlived its run"


@pytest.fixture(autouse=True)
def nothing_left_behind(sandbox: object) -> Iterator[None]:
    yield
    if getattr(sandbox, "name", "") == "docker":
        assert leftovers(sandbox) == [], "a container outlived its run"


@pytest.fixture
def two_datasets(tmp_path: Path) -> tuple[Path, Path]:
    mine, other = tmp_path / "mine" / "mine.csv", tmp_path / "other" / "secret.csv"
    for path, text in ((mine, "a\n1\n"), (other, "secret\nhunter2\n")):
        path.parent.mkdir()
        path.write_text(text)
    return mine, other


def probe(sandbox: object, code: str, *args: str, tables: dict[str, TableSource] | None = None, **limits: float):
    """Run a Python program inside the sandbox; returns (outcome, result as the host maps it)."""
    request = RunRequest(code="", tables=tables or {}, limits=Limits(**limits))
    python = "python3" if sandbox.name == "docker" else sys.executable  # type: ignore[attr-defined]
    outcome: Outcome = sandbox.spawn([python, "-c", code, *args], b"", request)  # type: ignore[attr-defined]
    return outcome, to_result(outcome, request)


def needs_docker_for(sandbox: object, what: str) -> None:
    if sandbox.name != "docker" and os.geteuid() == 0:  # type: ignore[attr-defined]
        pytest.skip(f"the local sandbox does not promise {what} to a host running as root")


def test_cannot_read_shadow(sandbox: object) -> None:
    needs_docker_for(sandbox, "an unreadable /etc/shadow")
    outcome, _ = probe(sandbox, TRY_READ, "/etc/shadow")
    assert reported(outcome)["/etc/shadow"].startswith("denied"), outcome


def test_sql_cannot_read_another_dataset(sandbox: object, two_datasets: tuple[Path, Path]) -> None:
    """Every sandbox's promise for SQL, unshare and the plain process included: DuckDB's lockdown admits only
    the run's own table files. The request goes straight to the runner, past the host's policy check."""
    mine, other = two_datasets
    tables = {"mine": TableSource(path=str(mine), format="csv")}
    for sql in (
        f"SELECT * FROM read_csv('{other}')",
        f"SELECT * FROM '{other}'",
        f"SELECT * FROM read_text('{other}')",
    ):
        result = sandbox.run(RunRequest(code=sql, tables=tables))  # type: ignore[attr-defined]
        assert result.status in ("error", "rejected"), (sql, result)
        assert "hunter2" not in result.model_dump_json()


def test_code_cannot_read_another_dataset(sandbox: object, two_datasets: tuple[Path, Path]) -> None:
    """Only sandboxes that isolate the filesystem promise this (bwrap, docker); unshare and the plain process
    leave the host's files visible, which is why Python mode is refused there."""
    mode = getattr(sandbox, "isolation", "bwrap")
    if mode in PROMISES and not PROMISES[mode].files_isolated:  # a local mode; other backends all isolate
        unavailable(
            f"the local sandbox runs as {sandbox.isolation!r} here, which isolates no filesystem "  # type: ignore[attr-defined]
            f"({HOW_TO_INSTALL['bwrap']} for one that does)"
        )
    mine, other = two_datasets
    tables = {"mine": TableSource(path=str(mine), format="csv")}
    outcome, _ = probe(sandbox, TRY_READ, str(other), tables=tables)
    assert reported(outcome)[str(other)].startswith("denied"), outcome
    assert "hunter2" not in outcome.stdout.decode()


def test_cannot_write_outside_tmp(sandbox: object, two_datasets: tuple[Path, Path]) -> None:
    needs_docker_for(sandbox, "a read-only root filesystem")
    targets = ["/etc/evil", "/usr/evil", "/opt/csvanalyst/runner/evil.py", "/data/0/mine.csv", "/tmp/ok"]
    tables = {"mine": TableSource(path=str(two_datasets[0]), format="csv")}
    outcome, _ = probe(sandbox, TRY_WRITE, *targets, tables=tables)
    seen = reported(outcome)
    assert seen.pop("/tmp/ok") == "written"
    assert all(v.startswith("denied") for v in seen.values()), seen
    assert two_datasets[0].read_text() == "a\n1\n"


TRY_CONNECT = """
import json, socket
seen = {}
for host, port in (("169.254.169.254", 80), ("1.1.1.1", 53), ("deb.debian.org", 80)):
    try:
        socket.create_connection((host, port), timeout=3).close(); seen[host] = "connected"
    except OSError as exc:
        seen[host] = "blocked: " + type(exc).__name__
print(json.dumps(seen))
"""


def test_no_network_not_even_the_metadata_service(sandbox: object) -> None:
    if getattr(sandbox, "isolation", "") == "none":
        pytest.skip("local isolation 'none' has no network namespace")
    outcome, _ = probe(sandbox, TRY_CONNECT)
    assert all(v.startswith("blocked") for v in reported(outcome).values()), outcome


FORK_BOMB = """
import os, time
count = 0
try:
    for _ in range(2000):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        count += 1
except OSError as exc:
    print("stopped", count, type(exc).__name__, flush=True)
else:
    print("unbounded", count, flush=True)
time.sleep(60)
"""


def test_fork_bomb_is_contained(sandbox: object) -> None:
    needs_docker_for(sandbox, "a process-count limit")
    outcome, result = probe(sandbox, FORK_BOMB, timeout_s=3)
    assert outcome.stdout.decode().startswith("stopped"), outcome
    assert result.status == "timeout"  # the sleepers are killed with the container at the deadline


def test_memory_past_the_limit_is_killed(sandbox: object) -> None:
    code = "chunks = []\nwhile True:\n    chunks.append(bytearray(64 * 1024 * 1024))\n"
    outcome, result = probe(sandbox, code, memory_mb=128, timeout_s=30)
    assert result.status == "oom", (outcome.returncode, outcome.stderr[-300:])


def test_past_the_timeout_is_killed(sandbox: object) -> None:
    _, result = probe(sandbox, "import time; time.sleep(600)", timeout_s=0.5)
    assert result.status == "timeout" and result.error is not None


def test_ignoring_sigterm_does_not_help(sandbox: object) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    outcome, result = probe(sandbox, code, timeout_s=0.5)
    assert result.status == "timeout", outcome


def test_printing_a_gigabyte_stops_at_the_cap(sandbox: object) -> None:
    code = "import sys\nblock = b'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.buffer.write(block)\n"
    outcome, result = probe(sandbox, code, max_output_bytes=1 << 20, timeout_s=30)
    assert result.status == "sandbox_error" and result.error and result.error.code == "output_too_large"
    assert len(outcome.stdout) < 8 << 20


SETSID = """
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import os, time; os.setsid(); time.sleep(600)"], start_new_session=True)
print("spawned", flush=True)
"""


def test_setsid_grandchild_dies_with_the_run(sandbox: object) -> None:
    outcome, _ = probe(sandbox, SETSID, timeout_s=2)
    assert outcome.stdout.decode().startswith("spawned")
    # docker: the nothing_left_behind fixture proves the container (and so its whole pid namespace) is gone;
    # local: the process-group kill is covered by tests/security/test_sandbox.py.


def test_environment_holds_no_secrets(sandbox: object, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    outcome, _ = probe(sandbox, "import os, json; print(json.dumps(dict(os.environ)))")
    env = reported(outcome)
    assert not set(SECRETS) & set(env)
    assert not any(v in json.dumps(env) for v in SECRETS.values())


def test_runner_result_matches_across_backends(sandbox: object, two_datasets: tuple[Path, Path]) -> None:
    tables = {"mine": TableSource(path=str(two_datasets[0]), format="csv")}
    result: RunResult = sandbox.run(RunRequest(code="SELECT sum(a) AS s FROM mine", tables=tables))  # type: ignore[attr-defined]
    assert result.status == "ok" and result.rows == [[1]]
