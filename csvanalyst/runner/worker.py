"""A pre-started runner that answers many requests, each in a freshly forked child.

`python -m runner.worker`, normally as PID 1 of a warm container. DuckDB is imported once, before any
request; each request is then served by a child forked from that clean state, so nothing a run does
(Python objects, DuckDB state, rlimits) survives into the next one. After every run the worker kills
every other process it can signal (a grandchild left behind, only when it is PID 1 of its own
container) and removes the run's scratch directory.

Wire format, both ways: one line of JSON. Request: the runner protocol's request object. Reply: a
header line `{"returncode": int|null, "length": n, "timed_out": bool}` followed by n bytes, the
child's result JSON (or nothing, when it died). The host maps the header exactly as it maps the exit
of a one-shot runner process.

Assume a run escapes every check inside its child: it still runs as the worker's user, so the worker
makes sure nothing it can reach survives it. The worker is not dumpable (a child cannot ptrace it or
write its memory through /proc), its temp dir (the only writable place in bwrap and Docker) is emptied
after every run, each child works in its own fresh directory, and no directory a run can write to is
on the import path.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import sys
import tempfile
import time
from typing import Any, BinaryIO

from . import lifeline, main, sql

KILL_GRACE_S = 2.0


PRIVATE_TMP_ENV = "CSVANALYST_PRIVATE_TMP"  # set by executors whose temp dir belongs to this worker alone
PR_SET_DUMPABLE = 4
_current_run: list[int] = []  # the pid of the child answering the request in hand, if any


def _kill_current_run() -> None:
    for pid in list(_current_run):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def serve(stdin: BinaryIO, stdout: BinaryIO) -> int:
    main._preload()
    _harden()
    lifeline.watch(stdout.fileno(), _kill_current_run)  # never go on serving a host that is gone
    for line in stdin:
        if not line.strip():
            continue
        returncode, body, timed_out = _one(line)
        header = {"returncode": returncode, "length": len(body), "timed_out": timed_out}
        stdout.write(json.dumps(header).encode() + b"\n" + body)
        stdout.flush()
        _sweep()
        _empty_private_tmp()
    return 0


def _harden() -> None:
    """Before the first run: not dumpable, and no writable directory on sys.path."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    writable = {"", os.getcwd(), tempfile.gettempdir()}
    sys.path[:] = [p for p in sys.path if p not in writable and not _plantable(p)]


def _plantable(path: str) -> bool:
    """An import path a run could write into: inside the private temp dir, unless it is a read-only mount
    there (bwrap binds an interpreter that lives below /tmp read-only on top of the private /tmp)."""
    if not _under_private_tmp(path):
        return False
    return not os.path.isdir(path) or os.access(path, os.W_OK)


def _private_tmp() -> str | None:
    """The worker's own temp dir, only when its executor declared it private (never a shared /tmp)."""
    declared = os.environ.get(PRIVATE_TMP_ENV)
    if not declared or os.path.realpath(declared) == "/":
        return None
    return os.path.realpath(declared)


def _under_private_tmp(path: str) -> bool:
    tmp = _private_tmp()
    return tmp is not None and os.path.realpath(path).startswith(tmp + os.sep)


def _empty_private_tmp() -> None:
    """Remove everything a run left in the worker's temp dir (after _sweep, so no writer is left)."""
    tmp = _private_tmp()
    if tmp is None:
        return
    with contextlib.suppress(OSError):
        for entry in os.scandir(tmp):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _one(line: bytes) -> tuple[int | None, bytes, bool]:
    """Fork, let the child answer, and collect its answer within the request's deadline."""
    deadline = time.monotonic() + _timeout(line) + KILL_GRACE_S
    scratch = tempfile.mkdtemp(prefix="csvanalyst-worker-run-")
    try:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            os.close(read_end)
            _child(line, write_end, scratch)
        os.close(write_end)
        _current_run[:] = [pid]
        body, timed_out = _drain(read_end, deadline)
        os.close(read_end)
        if timed_out:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        _current_run.clear()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return os.waitstatus_to_exitcode(status), body, timed_out


def _child(line: bytes, out_fd: int, scratch: str) -> None:
    """Answer one request; stdout is the worker's protocol channel, so the child never writes to it."""
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        _enter(scratch)
        try:
            data: Any = json.loads(line)
        except ValueError:
            data = None
        if isinstance(data, dict):
            main._limit_self(data)
        payload = sql.encode(main.run(data, scratch=scratch)).encode("utf-8")
        with os.fdopen(out_fd, "wb") as out:
            out.write(payload)
        code = 0
    except BaseException:  # a crash reports through the exit code; the host maps it
        import traceback

        traceback.print_exc(file=sys.stderr)
    finally:
        os._exit(code)


def _enter(scratch: str) -> None:
    """The child's cwd, HOME and temp dir are its own fresh, empty directory."""
    os.chdir(scratch)
    os.environ.update(HOME=scratch, TMPDIR=scratch)
    tempfile.tempdir = scratch


def _drain(fd: int, deadline: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b"".join(chunks), True
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)


def _timeout(line: bytes) -> float:
    try:
        return float(json.loads(line)["limits"]["timeout_s"])
    except (ValueError, KeyError, TypeError):
        return 60.0


def _sweep() -> None:
    """Nothing of a run outlives it: as PID 1 of its container, kill(-1) reaches every other process
    (a grandchild left behind) and spares only the worker; then reap them. Outside a container the
    worker never signals anything but its own children."""
    if os.getpid() == 1:
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


if __name__ == "__main__":
    sys.exit(serve(sys.stdin.buffer, sys.stdout.buffer))
