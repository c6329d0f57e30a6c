"""The warm sandbox pools of the background worker, in a process of their own.

The fork server must stay single-threaded, and a pool has threads, pipes to its workers and locks, none
of which may be copied into a request process. So the pools live here: one LocalExecutor (keep_warm) per
isolation mode, shared by every request. A request process gets its own socket pair to this process
(its end is sent over the control socket) and asks it to prepare and run; a run whose requester goes away
is cancelled, which kills its worker, as a cancelled run in one process does.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
from typing import Any

from csvanalyst.daemon import wire

CANCEL_POLL_S = 0.05
DRAIN_LIMIT_S = 3600.0  # runs in flight when the fork server goes are finished first (each has its deadline)


class KeeperHandle:
    """The fork server's side: starts the pool process lazily and restarts it if it died."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.control: socket.socket | None = None

    def descriptors(self) -> list[int]:
        return [self.control.fileno()] if self.control is not None else []

    def connect(self) -> socket.socket | None:
        """A new socket pair to the pools, or None (the request then runs its sandbox itself)."""
        for _attempt in range(2):
            if self.control is None:
                self.start()
            mine, theirs = socket.socketpair()
            try:
                assert self.control is not None
                socket.send_fds(self.control, [b"c"], [theirs.fileno()])
                return mine
            except OSError:
                mine.close()
                self._forget()
            finally:
                theirs.close()
        return None

    def start(self) -> None:
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                ours.close()
                _keep_only(theirs.fileno())
                Keeper(theirs).serve()
                code = 0
            finally:
                os._exit(code)
        theirs.close()
        self.pid, self.control = pid, ours

    def _forget(self) -> None:
        if self.control is not None:
            self.control.close()
        self.control = None

    def reap(self) -> None:
        """Notice a pool process that died, so the next request starts a fresh one."""
        if self.pid is None:
            return
        with contextlib.suppress(ChildProcessError):
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if not done:
                return
        self.pid = None
        self._forget()

    def stop(self) -> None:
        """Closing the control socket tells the pools to finish the runs in flight and exit."""
        self._forget()


class Keeper:
    """The pool process: one thread per request process, one LocalExecutor per isolation mode."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.executors: dict[str, Any] = {}
        self.lock = threading.Lock()
        self.active = 0

    def serve(self) -> None:
        import signal

        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        while True:
            try:
                data, fds, _flags, _addr = socket.recv_fds(self.control, 16, 8)
            except OSError:
                break
            if not data:
                break  # the fork server has gone
            for fd in fds:
                conn = socket.socket(fileno=fd)
                threading.Thread(target=self._serve_conn, args=(conn,), daemon=True, name="csvanalyst-pool").start()
        self._drain()

    def _drain(self) -> None:
        deadline = time.monotonic() + DRAIN_LIMIT_S
        while self.active and time.monotonic() < deadline:
            time.sleep(CANCEL_POLL_S)
        with self.lock:
            executors = list(self.executors.values())
        for executor in executors:
            with contextlib.suppress(Exception):
                executor.close()

    def executor(self, mode: str) -> Any:
        from csvanalyst.executors.local.executor import LocalExecutor

        with self.lock:
            if mode not in self.executors:
                self.executors[mode] = LocalExecutor(isolation=mode, keep_warm=True)
            return self.executors[mode]

    def _serve_conn(self, conn: socket.socket) -> None:
        with conn:
            while True:
                try:
                    message, _ = wire.receive(conn)
                except (OSError, EOFError, ValueError):
                    return
                if message is None:
                    return
                if message.get("op") == "prepare":
                    self._prepare(message)
                elif message.get("op") == "run" and not self._run(conn, message):
                    return

    def _prepare(self, message: dict[str, Any]) -> None:
        from csvanalyst.catalog.schema import TableSource
        from csvanalyst.executors.base import Limits

        with contextlib.suppress(Exception):
            tables = [TableSource.model_validate(t) for t in message["tables"]]
            self.executor(message["isolation"]).prepare(tables, Limits.model_validate(message["limits"]))

    def _run(self, conn: socket.socket, message: dict[str, Any]) -> bool:
        """One run, cancelled when its requester closes the connection; False if the requester is gone."""
        from csvanalyst.executors.base import RunRequest

        cancel = threading.Event()
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                request = RunRequest.model_validate(message["request"])
                box["result"] = self.executor(message["isolation"]).run(request, cancel=cancel)
            except Exception as exc:
                box["error"] = f"{type(exc).__name__}: {exc}"

        with self.lock:
            self.active += 1
        try:
            worker = threading.Thread(target=work, daemon=True, name="csvanalyst-pool-run")
            worker.start()
            gone = _watch(conn, worker, cancel)
            worker.join()
        finally:
            with self.lock:
                self.active -= 1
        if gone:
            return False
        reply = {"result": box["result"].model_dump(mode="json")} if "result" in box else {"error": box.get("error")}
        try:
            wire.send(conn, reply)
        except OSError:
            return False
        return True


def _watch(conn: socket.socket, worker: threading.Thread, cancel: threading.Event) -> bool:
    """Wait for the run. A `cancel` message cancels it; so does the requester going away (returns True)."""
    while worker.is_alive():
        readable, _, _ = select.select([conn], [], [], CANCEL_POLL_S)
        if not readable:
            continue
        try:
            message, _ = wire.receive(conn)
        except (OSError, EOFError, ValueError):
            message = None
        cancel.set()
        if message is None:
            return True
    return False


def _keep_only(fd: int) -> None:
    """Close every descriptor but the standard three and `fd`: the pools outlive any one request, and a
    request's stdout or stderr left open here would keep its reader waiting for an end of file."""
    os.closerange(3, fd)
    os.closerange(fd + 1, os.sysconf("SC_OPEN_MAX"))
