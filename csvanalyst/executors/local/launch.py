"""Starting one sandboxed process and collecting its output within a hard deadline.

The launch takes any argv, so tests can start hostile probes through exactly the isolation and
limits production uses, without a backdoor in the runner. Reading is a select loop with a deadline:
a grandchild that keeps stdout open cannot make the host wait past it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from csvanalyst.executors.contract import STDERR_CAP, Outcome

PR_SET_PDEATHSIG = 1
TERM_GRACE_S = 1.0
GROUP_EXIT_WAIT_S = 3.0


@dataclass(frozen=True)
class ChildLimits:
    """OS limits set in the child before exec; inherited by the wrapper and everything it starts."""

    cpu_s: int
    data_bytes: int
    file_bytes: int
    open_files: int = 256


def child_setup(limits: ChildLimits) -> Callable[[], None]:
    """preexec_fn: die with the parent, then lower rlimits (never raise them)."""

    def setup() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        for res, value in (
            (resource.RLIMIT_CPU, limits.cpu_s),
            (resource.RLIMIT_DATA, limits.data_bytes),
            (resource.RLIMIT_FSIZE, limits.file_bytes),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_CORE, 0),
        ):
            _, hard = resource.getrlimit(res)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(res, (value, value))

    return setup


@dataclass
class Started:
    """A launched process not yet given its input: start-up overlaps with whatever the host does next."""

    proc: subprocess.Popen[bytes]
    started: float


# Linux ties PR_SET_PDEATHSIG (and bwrap's --die-with-parent) to the *thread* that forked, not to the
# process: a runner started from a short-lived thread (a request handler, a UI worker) would be killed
# when that thread ends. So every runner is forked from this one thread, which lives as long as we do.
_LAUNCHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csvanalyst-launcher")


def start(argv: Sequence[str], *, env: dict[str, str], cwd: str, limits: ChildLimits) -> Started:
    """Start argv in a new session with the limits set before exec; it waits for its input on stdin."""
    return _LAUNCHER.submit(_popen, list(argv), env, cwd, limits).result()


def _popen(argv: list[str], env: dict[str, str], cwd: str, limits: ChildLimits) -> Started:
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        start_new_session=True,
        preexec_fn=child_setup(limits),
    )
    return Started(proc, time.perf_counter())


def finish(
    started: Started, *, stdin: bytes, deadline_s: float, max_stdout: int, cancel: threading.Event | None = None
) -> Outcome:
    """Send the input and collect the output; the deadline counts from now. The tree is always killed,
    at the latest when `cancel` is set."""
    proc = started.proc
    sent = time.perf_counter()
    writer = threading.Thread(target=_feed, args=(proc, stdin), daemon=True)
    writer.start()
    try:
        outcome = _collect(proc, sent + deadline_s, max_stdout, cancel)
    finally:
        _kill_tree(proc)
        _close(proc)
    writer.join(timeout=1.0)
    outcome.elapsed_ms = round((time.perf_counter() - started.started) * 1000, 3)
    return outcome


def abandon(started: Started) -> None:
    """Kill a started process that will not be used (e.g. the query was rejected)."""
    _kill_tree(started.proc)
    _close(started.proc)


def launch(
    argv: Sequence[str],
    *,
    stdin: bytes,
    env: dict[str, str],
    cwd: str,
    deadline_s: float,
    max_stdout: int,
    limits: ChildLimits,
) -> Outcome:
    """Run argv in a new session; at the deadline or on overflow, kill its whole process group."""
    return finish(
        start(argv, env=env, cwd=cwd, limits=limits), stdin=stdin, deadline_s=deadline_s, max_stdout=max_stdout
    )


def _feed(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write(data)
        proc.stdin.close()
    except (BrokenPipeError, OSError, ValueError):
        pass  # the child died or was killed before reading everything; its status says why


def _collect(
    proc: subprocess.Popen[bytes], deadline: float, max_stdout: int, cancel: threading.Event | None = None
) -> Outcome:
    """Read both pipes until EOF on both and the child's exit, or the deadline, overflow or cancel."""
    assert proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    tick = 0.1 if cancel is not None else 0.5
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ, out)
        sel.register(proc.stderr, selectors.EVENT_READ, err)
        while sel.get_map():
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return _stopped(proc, out, err, timed_out=True)
            if cancel is not None and cancel.is_set():
                return _stopped(proc, out, err, cancelled=True)
            for key, _ in sel.select(timeout=min(remaining, tick)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                elif key.data is out:
                    out += chunk
                    if len(out) > max_stdout:
                        return _stopped(proc, out, err, overflow=True)
                elif len(err) < STDERR_CAP:
                    err += chunk
    try:
        code = proc.wait(timeout=max(0.0, deadline - time.perf_counter()))
    except subprocess.TimeoutExpired:
        return _stopped(proc, out, err, timed_out=True)
    return Outcome(code, bytes(out), bytes(err), pid=proc.pid)


def _stopped(proc: subprocess.Popen[bytes], out: bytearray, err: bytearray, **flags: bool) -> Outcome:
    _kill_tree(proc)
    return Outcome(proc.returncode, bytes(out), bytes(err), pid=proc.pid, **flags)


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM first so a reaper can kill what escaped the group, then SIGKILL the whole group.

    The leader is not reaped until both signals are sent, so its pid (the group id) cannot be
    reused meanwhile. With a PID namespace, killing the namespace's init ends every process in it.
    """
    if proc.returncode is not None:
        return
    tree = descendants(proc.pid)  # before any signal: once the leader dies its children are re-parented
    _signal_group(proc.pid, signal.SIGTERM)
    grace_end = time.perf_counter() + TERM_GRACE_S
    while not _exited(proc.pid) and time.perf_counter() < grace_end:
        time.sleep(0.01)
    _signal_group(proc.pid, signal.SIGKILL)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()
    _wait_group_gone(proc.pid)
    _wait_pids_gone(tree)


def descendants(root: int) -> list[int]:
    """Every live process below `root` (host pids), found through the parent links in /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _wait_pids_gone(pids: list[int]) -> None:
    """Processes of a PID namespace die asynchronously after its init; wait (bounded) until they have."""
    end = time.perf_counter() + GROUP_EXIT_WAIT_S
    alive = list(pids)
    while alive and time.perf_counter() < end:
        alive = [pid for pid in alive if _is_running(pid)]
        if alive:
            time.sleep(0.01)


def _is_running(pid: int) -> bool:
    """Alive and not a zombie (a zombie no longer runs anything; its parent reaps it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _wait_group_gone(pgid: int) -> None:
    """A namespace's processes die asynchronously after its init; return once none is left."""
    end = time.perf_counter() + GROUP_EXIT_WAIT_S
    while time.perf_counter() < end:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.01)


def _exited(pid: int) -> bool:
    """True once the child is a zombie, without reaping it."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _close(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
