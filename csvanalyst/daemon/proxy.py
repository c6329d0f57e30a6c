"""The local sandbox as a request process of the background worker sees it.

It is a LocalExecutor in every respect the core reads (isolation, readiness, Python refusal), but its runs
go to the worker's warm pools (keeper.py) over the request's own socket. If the pools cannot be reached,
or the isolation mode has no warm worker, it runs the sandbox itself, exactly as a process of its own
would: the answer never depends on the pools being there.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterable
from typing import Any

from csvanalyst.catalog.schema import TableSource
from csvanalyst.daemon import wire
from csvanalyst.executors.base import ClosingExecutor, Limits, RunRequest, RunResult
from csvanalyst.executors.local.executor import WORKER_MODES, LocalExecutor

CANCEL_POLL_S = 0.05


class PoolLink:
    """This process's one connection to the pools, used by one run at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()
        self.broken = False

    def prepare(self, mode: str, tables: list[TableSource], limits: Limits) -> bool:
        message = {
            "op": "prepare",
            "isolation": mode,
            "tables": [t.model_dump(mode="json") for t in tables],
            "limits": limits.model_dump(mode="json"),
        }
        return self._send(message)

    def run(self, mode: str, request: RunRequest, cancel: threading.Event | None) -> RunResult | None:
        """The pools' result, or None when they could not give one (the caller then runs it itself)."""
        with self.lock:
            if self.broken or not self._send_locked({"op": "run", "isolation": mode, "request": request.model_dump()}):
                return None
            try:
                reply = self._await(cancel)
            except BaseException:  # Ctrl-C here: dropping the link cancels the run and kills its worker
                self._break()
                raise
        if reply is None or "result" not in reply:
            self._break()
            return None
        return RunResult.model_validate(reply["result"])

    def _await(self, cancel: threading.Event | None) -> dict[str, Any] | None:
        told = False
        while True:
            readable, _, _ = select.select([self.sock], [], [], CANCEL_POLL_S)
            if readable:
                try:
                    message, _ = wire.receive(self.sock)
                except (OSError, EOFError, ValueError):
                    return None
                return message
            if cancel is not None and cancel.is_set() and not told:
                told = self._send_locked({"op": "cancel"})

    def _send(self, message: dict[str, Any]) -> bool:
        with self.lock:
            return not self.broken and self._send_locked(message)

    def _send_locked(self, message: dict[str, Any]) -> bool:
        try:
            wire.send(self.sock, message)
            return True
        except OSError:
            self._break()
            return False

    def _break(self) -> None:
        self.broken = True
        self.sock.close()


class PooledLocalExecutor(ClosingExecutor):
    """LocalExecutor's interface; runs through the worker's warm pools when it can."""

    name = "local"

    def __init__(self, link: PoolLink, isolation: str = "auto", **options: Any) -> None:
        options.pop("keep_warm", None)  # the pools are warm already
        self.link = link
        self.local = LocalExecutor(isolation, **options)
        self.isolation = self.local.isolation

    def ready(self) -> str:
        return self.local.ready()

    @property
    def pooled(self) -> bool:
        return self.isolation in WORKER_MODES and not self.link.broken

    def prepare(self, tables: Iterable[TableSource], limits: Limits) -> None:
        tables = list(tables)
        if not (self.pooled and self.link.prepare(self.isolation, tables, limits)):
            self.local.prepare(tables, limits)

    def run(self, request: RunRequest, cancel: threading.Event | None = None) -> RunResult:
        if self.pooled:
            result = self.link.run(self.isolation, request, cancel)
            if result is not None:
                return result
        return self.local.run(request, cancel=cancel)

    def close(self) -> None:
        self.local.close()


def serve_local_through(sock: socket.socket) -> None:
    """From now on, `load("local")` in this process runs through the pools at the end of `sock`."""
    from csvanalyst.executors import base

    link = PoolLink(sock)
    base.SERVED["local"] = lambda **options: PooledLocalExecutor(link, **options)
