"""Hostile programs launched through the very isolation and limits production uses.

Each probe goes through `LocalExecutor.spawn`, the same path as the runner; only the argv differs.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import Limits, RunRequest
from csvanalyst.executors.contract import Outcome, to_result
from csvanalyst.executors.local.executor import LocalExecutor

SECRETS = {"OPENAI_API_KEY": "sk-test-openai", "ANTHROPIC_API_KEY": "sk-ant-test", "CSVANALYST_TOKEN": "tok-1"}


def probe(
    executor: LocalExecutor, code: str, *args: str, tables: dict[str, TableSource] | None = None, **limits: float
) -> Outcome:
    request = RunRequest(code="", tables=tables or {}, limits=Limits(**limits))
    return executor.spawn([sys.executable, "-c", code, *args], b"", request)


def test_secrets_never_reach_the_sandbox(executor: LocalExecutor, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    out = probe(executor, "import os, json; print(json.dumps(dict(os.environ)))")
    env = json.loads(out.stdout)
    assert not set(SECRETS) & set(env)
    assert not any(v in json.dumps(env) for v in SECRETS.values())
    assert set(env) <= {
        "PATH",
        "LANG",
        "LC_ALL",
        "HOME",
        "TMPDIR",
        "CSVANALYST_SCRATCH",
        "PYTHONPATH",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONHASHSEED",
        "CSVANALYST_SANDBOX",
        "CSVANALYST_PRIVATE_TMP",
        "PWD",
    }


@pytest.fixture
def loopback_server() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(10)

    def accept() -> None:
        with contextlib.suppress(OSError):
            server.accept()[0].close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()


def test_no_network_in_the_sandbox(executor: LocalExecutor, loopback_server: int) -> None:
    if executor.isolation == "none":
        pytest.skip("isolation 'none' has no network namespace; the plain process can reach loopback")
    code = (
        "import socket, sys\n"
        "try:\n    socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=3); print('connected')\n"
        "except OSError as exc:\n    print('blocked', exc)\n"
    )
    out = probe(executor, code, str(loopback_server))
    assert out.stdout.decode().startswith("blocked"), out
    with socket.create_connection(("127.0.0.1", loopback_server), timeout=3):
        pass  # the server was reachable from outside all along


GRANDCHILD = "import sys, time; time.sleep(float(sys.argv[2])); open(sys.argv[3], 'w').write('survived')"


def hostile_parent(hang: bool) -> str:
    """Forks a setsid grandchild that keeps stdout open; optionally hangs itself too."""
    return (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {GRANDCHILD!r}, sys.argv[1], '4.5', sys.argv[2]],"
        " start_new_session=True)\n"
        "print('started', flush=True)\n" + ("time.sleep(600)\n" if hang else "")
    )


def survivors(token: str) -> list[int]:
    """Host pids whose command line carries the token: anything left of the probe."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if token.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                continue
    return found


@pytest.mark.slow
@pytest.mark.parametrize("hang", [True, False], ids=["parent-hangs", "parent-exits"])
def test_setsid_grandchild_cannot_outlive_the_run(executor: LocalExecutor, tmp_path: Path, hang: bool) -> None:
    token, marker = f"token-{uuid.uuid4().hex}", tmp_path / "marker"
    out = probe(executor, hostile_parent(hang), token, str(marker), timeout_s=0.5)
    if hang:
        assert out.timed_out
        assert to_result(out, RunRequest(code="", tables={}, limits=Limits(timeout_s=0.5))).status == "timeout"
    # No process carrying the token is left, so nothing can write the marker later; and none wrote it yet.
    assert survivors(token) == []
    assert not marker.exists()


def test_python_memory_bomb_is_oom(executor: LocalExecutor) -> None:
    out = probe(executor, "b = bytearray(4 * 1024**3)", memory_mb=256)
    result = to_result(out, RunRequest(code="", tables={}, limits=Limits(memory_mb=256)))
    assert result.status == "oom", (out.returncode, out.stderr[-300:])


def test_garbage_on_stdout_is_a_sandbox_error(executor: LocalExecutor) -> None:
    out = probe(executor, "print('not json'); import sys; sys.exit(3)")
    result = to_result(out, RunRequest(code="", tables={}))
    assert result.status == "sandbox_error"
    assert result.error is not None and "exit 3" in result.error.message


def test_output_flood_is_cut_off(executor: LocalExecutor) -> None:
    code = "import sys\nwhile True: sys.stdout.write('x' * 65536)"
    out = probe(executor, code, max_output_bytes=1024, timeout_s=20)
    assert out.overflow and not out.timed_out
    assert to_result(out, RunRequest(code="", tables={})).status == "sandbox_error"


def test_dataset_files_are_read_only_inside_bwrap(executor: LocalExecutor, tmp_path: Path) -> None:
    if executor.isolation != "bwrap":
        pytest.skip("bwrap-specific probe; every mode is covered by tests/security/test_read_only_inputs.py")
    data = tmp_path / "d.csv"
    data.write_text("a\n1\n")
    tables = {"d": TableSource(path=str(data), format="csv")}
    code = (
        "import sys, os\nprint(open(sys.argv[1]).read().strip().splitlines()[-1])\n"
        "try:\n    open(sys.argv[1], 'a').write('2\\n'); print('wrote')\nexcept OSError as e:\n    print('denied')\n"
        "print(sorted(os.listdir('/')))"
    )
    out = probe(executor, code, str(data), tables=tables)
    lines = out.stdout.decode().splitlines()
    assert lines[:2] == ["1", "denied"], out
    assert data.read_text() == "a\n1\n"


def test_bwrap_hides_the_host_filesystem(executor: LocalExecutor) -> None:
    if executor.isolation != "bwrap":
        pytest.skip("only bubblewrap builds a minimal root")
    out = probe(executor, "import os; print(os.path.exists('/etc/passwd'), os.path.exists('/root/.ssh'), os.getuid())")
    assert out.stdout.decode().split() == ["False", "False", "65534" if os.geteuid() == 0 else str(os.geteuid())]
