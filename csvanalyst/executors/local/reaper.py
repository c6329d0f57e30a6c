"""A minimal init for runs without a PID namespace: it adopts every descendant and kills them all.

Run as `python reaper.py ARGV...`. It marks itself a child subreaper, so a grandchild that calls
setsid() is re-parented here instead of escaping to the system init; when the runner exits, or the
host sends SIGTERM at the deadline, every remaining descendant is SIGKILLed before it exits.
Stdlib only, and no imports from the package, so it starts fast.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(option, value, 0, 0, 0)


def descendants(root: int) -> list[int]:
    """Every live process below `root`, read from /proc (children re-parented to us included)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode("ascii", "replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_all() -> None:
    """Kill until nothing is left: a process may fork while we kill its parent."""
    for _ in range(50):
        pids = descendants(os.getpid())
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _reap()
        time.sleep(0.01)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _on_term(signum: int, frame: object) -> None:
    kill_all()
    os._exit(128 + signum)


def main(argv: list[str]) -> int:
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    signal.signal(signal.SIGTERM, _on_term)
    child = subprocess.Popen(argv, preexec_fn=lambda: _prctl(PR_SET_PDEATHSIG, signal.SIGKILL))
    code = child.wait()
    kill_all()
    if code < 0:
        # Die of the same signal so the host can tell a kill (e.g. the memory limit) from an exit.
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
