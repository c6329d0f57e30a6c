"""`csvanalyst daemon status|stop`: ask the worker about itself, or make it go."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

from csvanalyst.daemon import wire
from csvanalyst.daemon.client import worker_alive

STOP_WAIT_S = 10.0
SERVER_MODULE = "csvanalyst.daemon.server"
POLL_S = 0.02


def ask(base: Path, op: str) -> dict[str, Any] | None:
    """The worker's answer to `op`, or None when no worker of this user answers at this home."""
    path = wire.socket_path(base)
    if not wire.usable_path(path):
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(STOP_WAIT_S)
        try:
            sock.connect(os.fspath(path))
            if not wire.same_user(sock):
                return None
            wire.send(sock, {"op": op})
            reply, _ = wire.receive(sock)
        except (OSError, EOFError, ValueError):
            return None
    return reply


def status(base: Path) -> dict[str, Any]:
    reply = ask(base, "status")
    if reply is None:
        return {"running": False, "home": os.fspath(base), "socket": os.fspath(wire.socket_path(base))}
    reply["uptime_s"] = round(time.time() - float(reply.get("started_at", time.time())), 1)
    return reply


def stop(base: Path) -> dict[str, Any]:
    """Stop the worker and wait until it has let go of its lock (SIGTERM, then SIGKILL, if it hangs).

    A worker still starting (it holds the lock but does not listen yet) has no socket to ask: it gets
    SIGTERM at once, by the pid it wrote into the lock file."""
    deadline = time.monotonic() + STOP_WAIT_S
    signals: tuple[signal.Signals | None, ...]  # None: wait for the stop asked for, before any signal
    while True:
        if ask(base, "status") is not None and (reply := ask(base, "stop")) is not None:
            pid, signals = int(reply["stopping"]), (None, signal.SIGTERM, signal.SIGKILL)
            break
        if not worker_alive(base):
            stale = _remove_stale_socket(base)
            return {"stopped": False, "running": False, "stale_socket_removed": stale}
        holder = lock_holder(base)
        if holder is not None or time.monotonic() > deadline:
            pid, signals = holder or 0, (signal.SIGTERM, signal.SIGKILL)
            break
        time.sleep(POLL_S)
    if not pid:
        return {"stopped": False, "running": True, "pid": None}
    for sig in signals:
        if sig is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        if _wait_gone(base, pid):
            return {"stopped": True, "pid": pid, "forced": sig is not None and sig != signals[0]}
    return {"stopped": False, "pid": pid, "running": True}


def lock_holder(base: Path) -> int | None:
    """The pid a worker wrote into the lock file when it took the lock; None before it has written it, or
    if that pid is no worker now (a killed worker's pid, taken by another process since)."""
    try:
        text = wire.lock_path(base).read_text().strip()
        with open(f"/proc/{text}/cmdline", "rb") as cmdline:
            argv = cmdline.read().split(b"\0")
    except (OSError, ValueError):
        return None
    return int(text) if text.isdigit() and SERVER_MODULE.encode() in argv else None


def _wait_gone(base: Path, pid: int) -> bool:
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline:
        if not worker_alive(base) and not _exists(pid):
            return True
        time.sleep(POLL_S)
    return False


def _exists(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _remove_stale_socket(base: Path) -> bool:
    """A socket file no worker listens on (its worker was killed) is removed, unless one is starting."""
    path = wire.socket_path(base)
    if not path.exists() or worker_alive(base):
        return False
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return True
