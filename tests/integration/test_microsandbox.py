"""The microVM sandbox end to end: real VMs booted from the runner's root filesystem.

First a minimal VM is booted, once per test run (tests.support.requires.microvm_rootfs). When the
platform cannot boot one (no KVM, a CPU without VT-x/AMD-V, or a KVM that cannot run libkrunfw's guest
kernel), every test skips with the runtime's own reason, in CI too. In CI a machine that could boot one
must have the SDK and the rootfs: their absence fails the tests.
Probes go through the executor's `spawn`, the same path as the runner; only the program differs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import Limits, RunRequest, RunResult
from csvanalyst.executors.contract import Outcome, to_result
from tests.integration.probes import SECRETS, TRY_READ, TRY_WRITE, reported
from tests.support.requires import microvm_rootfs

SMALL = {"memory_mb": 256, "threads": 1}  # boots faster; every check here fits


@pytest.fixture(scope="module")
def vm() -> Iterator[object]:
    from csvanalyst.executors.microsandbox import executor as microsandbox

    yield microsandbox.MicrosandboxExecutor(microvm_rootfs())
    assert microsandbox.ours(os.getpid()) == [], "a microVM outlived its run"


@pytest.fixture(autouse=True)
def nothing_left_behind(vm: object) -> Iterator[None]:
    from csvanalyst.executors.microsandbox import executor as microsandbox

    yield
    assert microsandbox.ours(os.getpid()) == [], "a microVM outlived its run"


@pytest.fixture
def two_datasets(tmp_path: Path) -> tuple[Path, Path]:
    mine, other = tmp_path / "mine" / "mine.csv", tmp_path / "mine" / "secret.csv"  # neighbours on the host
    mine.parent.mkdir()
    mine.write_text("a\n1\n2\n")
    other.write_text("secret\nhunter2\n")
    return mine, other


def run(vm: object, code: str, tables: dict[str, TableSource], kind: str = "sql", **limits: float) -> RunResult:
    request = RunRequest(kind=kind, code=code, tables=tables, limits=Limits(**{**SMALL, **limits}))  # type: ignore[arg-type]
    return vm.run(request)  # type: ignore[attr-defined]


def probe(vm: object, code: str, *args: str, tables: dict[str, TableSource] | None = None, **limits: float):
    """Run a Python program inside a VM; returns (outcome, result as the host maps it)."""
    request = RunRequest(code="", tables=tables or {}, limits=Limits(**{**SMALL, **limits}))
    outcome: Outcome = vm.spawn(["python3", "-c", code, *args], b"", request)  # type: ignore[attr-defined]
    return outcome, to_result(outcome, request)


def test_sql_over_a_csv_gives_the_right_rows(vm: object, two_datasets: tuple[Path, Path]) -> None:
    tables = {"t": TableSource(path=str(two_datasets[0]), format="csv")}
    result = run(vm, "SELECT sum(a) AS s, count(*) AS n FROM t", tables)
    assert result.status == "ok", result.error
    assert result.rows == [[3, 2]] and result.executor == "microsandbox" and result.timings["boot_ms"] > 0


def test_a_sql_error_is_reported_not_crashed(vm: object, two_datasets: tuple[Path, Path]) -> None:
    result = run(vm, "SELECT nope FROM t", {"t": TableSource(path=str(two_datasets[0]), format="csv")})
    assert result.status == "error" and "nope" in result.error.message  # type: ignore[union-attr]


def test_python_mode_is_allowed_and_works(vm: object) -> None:
    result = run(vm, "print(1 + 2)", {}, "python")
    assert result.status == "ok", result.error
    assert result.stdout == "3\n"


def test_a_run_past_its_time_limit_is_a_timeout(vm: object) -> None:
    outcome, result = probe(vm, "import time\nwhile True: time.sleep(0.1)", timeout_s=2)
    assert outcome.timed_out and result.status == "timeout"


def test_a_memory_bomb_fails_safely(vm: object) -> None:
    outcome, result = probe(vm, "x = []\nwhile True: x.append(bytearray(64 * 1024 * 1024))", timeout_s=30)
    assert result.status in ("oom", "sandbox_error", "timeout"), result
    assert not outcome.stdout


TRY_CONNECT = """
import json, socket
seen = {}
for host, port in (("1.1.1.1", 443), ("169.254.169.254", 80)):
    try:
        socket.create_connection((host, port), timeout=3).close(); seen[host] = "connected"
    except OSError as exc:
        seen[host] = "denied: " + type(exc).__name__
try:
    socket.getaddrinfo("example.com", 443); seen["dns"] = "resolved"
except OSError as exc:
    seen["dns"] = "denied: " + type(exc).__name__
print(json.dumps(seen))
"""


def test_no_network(vm: object) -> None:
    outcome, _ = probe(vm, TRY_CONNECT, timeout_s=20)
    seen = reported(outcome)
    assert all(str(v).startswith("denied") for v in seen.values()), seen


def test_another_dataset_is_not_visible(vm: object, two_datasets: tuple[Path, Path]) -> None:
    mine, other = two_datasets
    tables = {"mine": TableSource(path=str(mine), format="csv")}
    outcome, _ = probe(vm, TRY_READ, str(other), "/data/0/secret.csv", "/data/0/mine.csv", tables=tables)
    seen = reported(outcome)
    assert seen.pop("/data/0/mine.csv") == "a\n1\n2\n"
    assert all(str(v).startswith("denied") for v in seen.values()), seen
    assert "hunter2" not in outcome.stdout.decode()


def test_the_dataset_mount_and_the_root_are_read_only(vm: object, two_datasets: tuple[Path, Path]) -> None:
    targets = ["/data/0/mine.csv", "/data/0/new.csv", "/etc/evil", "/opt/csvanalyst/runner/evil.py", "/tmp/ok"]
    tables = {"mine": TableSource(path=str(two_datasets[0]), format="csv")}
    outcome, _ = probe(vm, TRY_WRITE, *targets, tables=tables)
    seen = reported(outcome)
    assert seen.pop("/tmp/ok") == "written"
    assert all(str(v).startswith("denied") for v in seen.values()), seen
    assert two_datasets[0].read_text() == "a\n1\n2\n"
    assert not (vm.rootfs / "tmp" / "ok").exists()  # type: ignore[attr-defined]


def test_host_secrets_are_absent_inside(vm: object, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    outcome, _ = probe(vm, "import json, os; print(json.dumps(dict(os.environ)))")
    inside = reported(outcome)
    assert not set(SECRETS) & set(inside)
    assert not any(value in outcome.stdout.decode() for value in SECRETS.values())
    assert inside["CSVANALYST_SANDBOX"] == "microsandbox"


def test_runs_as_the_unprivileged_runner(vm: object) -> None:
    outcome, _ = probe(vm, "import json, os; print(json.dumps([os.getuid(), os.geteuid()]))")
    assert reported(outcome) == [10001, 10001]
