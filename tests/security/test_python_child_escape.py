"""Assume the restricted layer is escaped: what the snippet's process can reach must not matter.

The probe is the runner's own code path for a snippet (python_child forks the process, which confines
itself as python_snippet does), launched through the very sandbox production uses (`spawn`), with a
hostile body in place of the snippet: bwrap, a runner container, a runner pod (a Job exactly as the
kubernetes sandbox builds it, run as a real container by the stand-in kubelet of
tests.support.kube_sandbox) and a microVM (skipped, with the runtime's reason, where none can boot).
Two worst cases:
- the checker attacked from inside, with the audit hook installed: the hook's module functions
  replaced, every object gc can list and every frame walked for something to patch; the hook must
  still report the next refusal to the runner, outside the process;
- no audit hook at all (as if it were switched off): only the kernel's confinement and the sandbox
  stand, and the body tries to read a dataset file the sandbox shows but the run was not given, write
  on the host and over the dataset, connect to a listener on the host's loopback, leave a process
  behind, exec a program, kill the runner and read its memory.
Every assertion is on an effect the host can see.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import RunRequest
from tests.security.test_python_escapes import connections
from tests.support.sandboxes import ESCAPE_SANDBOXES, python_in, python_sandbox, table_paths

PROBE = r"""
import ctypes, gc, json, os, signal, socket, sys
from runner import python_audit, python_child, python_snippet
mode, data, secret, marker, port, tag = sys.argv[1:7]
port = int(port)
scratch = __import__("tempfile").mkdtemp(prefix="snippet-", dir=os.getcwd())  # as python_mode does

def attempt(seen, name, action):
    try:
        seen[name] = "done: " + repr(action())[:200]
    except BaseException as exc:
        seen[name] = "denied: " + type(exc).__name__

def tamper(seen):
    permissive = lambda *args, **kwargs: None
    for name in ("judge", "make_hook", "install", "Policy"):
        attempt(seen, "patch_" + name, lambda: setattr(python_audit, name, permissive))
    attempt(seen, "gc_objects", lambda: len(gc.get_objects()))
    attempt(seen, "gc_referrers", lambda: len(gc.get_referrers(python_audit)))
    def walk():
        frame, patched = sys._getframe(), 0
        while frame is not None:
            for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):
                if callable(value) and getattr(value, "__name__", "") in ("audit", "refuse", "decide"):
                    value.__code__ = permissive.__code__
                    patched += 1
            frame = frame.f_back
        return patched
    attempt(seen, "frames_patched", walk)

def leave_a_process():
    pid = os.fork()
    if pid == 0:
        ctypes.CDLL(None).prctl(15, tag[:15].encode(), 0, 0, 0)  # PR_SET_NAME: the host looks for it
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
        os.setsid()
        while True:
            signal.pause()
    return pid

def body(report_fd):
    seen = {}
    python_snippet._confine([data], scratch)
    if mode == "hooked":
        python_audit.install([scratch], [data], report_fd)
        tamper(seen)
        attempt(seen, "read_secret_after_tampering", lambda: open(secret).read())
        return seen
    attempt(seen, "read_data", lambda: open(data).read())
    attempt(seen, "read_secret", lambda: open(secret).read())
    attempt(seen, "write_marker", lambda: open(marker, "w").write("escaped"))
    attempt(seen, "overwrite_data", lambda: open(data, "w").write("pwned"))
    attempt(seen, "write_scratch", lambda: open(os.path.join(scratch, "x"), "w").write("x"))
    attempt(seen, "connect", lambda: socket.create_connection(("127.0.0.1", port), timeout=2).sendall(b"escaped"))
    attempt(seen, "exec", lambda: os.execv("/bin/sh", ["sh", "-c", "echo escaped > " + marker]))
    attempt(seen, "runner_memory", lambda: open(f"/proc/{os.getppid()}/mem", "rb").read(1))
    attempt(seen, "leave_a_process", leave_a_process)
    attempt(seen, "kill_runner", lambda: os.kill(os.getppid(), signal.SIGKILL))
    return seen

outcome = python_child.run(body, 30.0, 1 << 20)
print(json.dumps({"seen": outcome.payload, "refusals": outcome.refusals, "returncode": outcome.returncode}))
"""


@pytest.fixture(params=ESCAPE_SANDBOXES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[object]:
    with python_sandbox(request.param) as executor:
        yield executor


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {"data": tmp_path / "mine" / "t.csv", "secret": tmp_path / "other" / "secret.csv"}
    for path, text in ((paths["data"], "a,b\n1,x\n"), (paths["secret"], "secret\nhunter2-secret\n")):
        path.parent.mkdir()
        path.write_text(text)
    paths["marker"] = tmp_path / "escaped-marker"
    return paths


def probe(sandbox: object, mode: str, files: dict[str, Path], port: int, tag: str) -> dict[str, object]:
    """Both files are tables of the request, so the sandbox shows both; the snippet is given only one."""
    tables = {name: TableSource(path=str(files[name]), format="csv") for name in ("data", "secret")}
    request = RunRequest(code="", tables=tables)
    seen = table_paths(sandbox, request)
    argv = [python_in(sandbox), "-c", PROBE, mode, seen["data"], seen["secret"], str(files["marker"]), str(port), tag]
    outcome = sandbox.spawn(argv, b"", request)  # type: ignore[attr-defined]
    assert b"hunter2" not in outcome.stdout + outcome.stderr
    assert outcome.returncode == 0, outcome
    return json.loads(outcome.stdout)


def processes_named(tag: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == tag[:15]:
                found.append(int(pid))
        except OSError:
            pass
    return found


def test_with_no_hook_at_all_the_kernel_and_the_sandbox_hold(
    sandbox: object, files: dict[str, Path], listener: socket.socket
) -> None:
    tag = f"esc{uuid.uuid4().hex[:12]}"
    report = probe(sandbox, "bare", files, listener.getsockname()[1], tag)
    seen = report["seen"]
    assert isinstance(seen, dict), report  # the runner outlived the attempt to kill it, and answered
    assert seen["read_data"].startswith("done") and seen["write_scratch"].startswith("done"), seen
    for denied in ("read_secret", "write_marker", "overwrite_data", "connect", "exec", "runner_memory", "kill_runner"):
        assert seen[denied].startswith("denied"), (denied, seen)
    assert not files["marker"].exists()
    assert files["data"].read_text() == "a,b\n1,x\n"
    assert connections(listener) == 0
    assert processes_named(tag) == []


def test_tampering_with_the_checker_from_inside_does_not_silence_it(
    sandbox: object, files: dict[str, Path], listener: socket.socket
) -> None:
    report = probe(sandbox, "hooked", files, listener.getsockname()[1], f"esc{uuid.uuid4().hex[:12]}")
    seen = report["seen"]
    assert isinstance(seen, dict), report
    assert seen["gc_objects"].startswith("denied") and seen["gc_referrers"].startswith("denied"), seen
    assert seen["frames_patched"] == "done: 0", seen  # no frame holds the hook
    assert seen["read_secret_after_tampering"].startswith("denied"), seen
    refusals = report["refusals"]
    assert isinstance(refusals, list) and any("secret.csv" in line for line in refusals), report
