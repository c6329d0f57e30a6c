"""The snippet runs in a child process; the runner that checked it stays outside, and judges its answer.

The runner (the parent) has already checked the snippet's AST. It forks one child per snippet, which
loads the tables, confines itself for good (Landlock, confine.py; then the audit hook, python_audit.py)
and only then runs the snippet. The child's only channels are two pipes: its result, and the hook's
refusals. Nothing the child does to its own interpreter (patching the hook, walking frames, gc) can
reach the parent's memory, and the parent treats what comes down the pipes as hostile data: capped,
parsed, shape-checked. The parent is a child subreaper: after the run it kills every process the
snippet left behind, however it detached, before it answers.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4
REPORT_CAP = 64 * 1024
KILL_GRACE_S = 0.5


@dataclass
class ChildOutcome:
    """What came back from the snippet's process, unjudged."""

    payload: Any = None
    refusals: list[str] = field(default_factory=list)
    returncode: int | None = None
    timed_out: bool = False
    overflow: bool = False


def run(body: Callable[[int], dict[str, Any]], deadline_s: float, result_cap: int) -> ChildOutcome:
    """Fork; the child calls `body(report_fd)` and sends its dict back; collect it within `deadline_s`."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # the child runs as this user: no ptrace, no /proc/<pid>/mem
    result_r, result_w = os.pipe()
    report_r, report_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        os.close(result_r)
        os.close(report_r)
        _child(body, result_w, report_w)
    os.close(result_w)
    os.close(report_w)
    exited = os.pidfd_open(pid)
    try:
        outcome = _collect(result_r, report_r, exited, time.monotonic() + deadline_s, result_cap)
    finally:
        for fd in (result_r, report_r, exited):
            os.close(fd)
    if outcome.timed_out or outcome.overflow:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    outcome.returncode = os.waitstatus_to_exitcode(status)
    kill_descendants()
    return outcome


def _child(body: Callable[[int], dict[str, Any]], result_fd: int, report_fd: int) -> None:
    """Answer on result_fd; stdout may be the runner's protocol channel, so the child never writes to it."""
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        payload = json.dumps(body(report_fd), allow_nan=False, ensure_ascii=False).encode("utf-8")
        with os.fdopen(result_fd, "wb") as out:
            out.write(payload)
        code = 0
    except BaseException:  # a crash reports through the exit code; the parent explains it
        import traceback

        traceback.print_exc(file=sys.stderr)
    finally:
        os._exit(code)


def _collect(result_fd: int, report_fd: int, exited: int, deadline: float, cap: int) -> ChildOutcome:
    """Read both pipes until they close or the child has exited (a process it left behind may hold them
    open: what the child wrote before it exited is all there is), within the deadline."""
    outcome = ChildOutcome()
    chunks: dict[int, list[bytes]] = {result_fd: [], report_fd: []}
    sizes = {result_fd: 0, report_fd: 0}
    caps = {result_fd: cap, report_fd: REPORT_CAP}
    open_fds = [result_fd, report_fd]
    while open_fds:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            outcome.timed_out = True
            break
        ready, _, _ = select.select([*open_fds, exited], [], [], remaining)
        if exited in ready:
            ready, _, _ = select.select(open_fds, [], [], 0)
            if not ready:
                break
        for fd in ready:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                open_fds.remove(fd)
                continue
            sizes[fd] += len(chunk)
            if sizes[fd] > caps[fd]:
                outcome.overflow = True
                return outcome
            chunks[fd].append(chunk)
    outcome.refusals = [line for line in b"".join(chunks[report_fd]).decode("utf-8", "replace").splitlines() if line]
    raw = b"".join(chunks[result_fd])
    if raw and not outcome.timed_out:
        try:
            outcome.payload = json.loads(raw)
        except ValueError:
            outcome.payload = None
    return outcome


def kill_descendants() -> None:
    """Kill and reap every remaining child; as subreaper, orphaned grandchildren are children too."""
    me = os.getpid()
    while True:
        for pid in _children_of(me):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _children_of(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(entry))
    return found
