"""Warm pool: pre-started runner containers, each bound to one dataset's files and limits.

Starting a container costs most of a second; a worker started ahead of time answers over its
stdin/stdout and forks a fresh child per request (csvanalyst/runner/worker.py), so no state survives
between runs. A worker serves only the exact set of files it was started with (never another
dataset's), is recycled after `max_runs` runs or after any run that did not end cleanly (timeout,
crash, kill, overflow), and is stopped when idle longer than `idle_s`.
"""

from __future__ import annotations

import atexit
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from csvanalyst.executors.base import Limits, RunRequest
from csvanalyst.executors.contract import KILL_GRACE_S, STDOUT_MARGIN, Outcome, table_mounts
from csvanalyst.executors.docker.io import Cancelled, Deadline, Overflow, Stream, remove

WORKER_ARGV = ["python3", "-s", "-B", "-P", "-m", "runner.worker"]  # -P: the cwd (/tmp) is not on sys.path
Key = tuple[tuple[str, ...], str]


class Containers(Protocol):
    """What the pool needs from its backend: a daemon client and locked-down containers to start."""

    client: Any

    def create(self, argv: Sequence[str] | None, tables: list[Any], limits: Limits, *, once: bool) -> Any: ...


@dataclass
class Worker:
    key: Key
    container: Any
    stream: Stream
    runs: int = 0
    last_used: float = field(default_factory=time.monotonic)


class WarmPool:
    def __init__(self, executor: Containers, *, size: int = 1, max_runs: int = 50, idle_s: float = 300.0) -> None:
        self.executor = executor
        self.size = max(1, size)
        self.max_runs = max(1, max_runs)
        self.idle_s = idle_s
        self._idle: dict[Key, list[Worker]] = {}
        self._lock = threading.Lock()
        self.started = 0  # workers started so far; tests read it to prove reuse and recycling
        atexit.register(self.close)

    @staticmethod
    def key(tables: list[Any], limits: Limits) -> Key:
        return tuple(sorted(table_mounts(tables))), limits.model_dump_json()

    def prestart(self, tables: list[Any], limits: Limits) -> None:
        """Make sure one idle worker waits for this dataset (called while the host checks the query)."""
        key = self.key(tables, limits)
        with self._lock:
            if self._idle.get(key):
                return
        worker = self._start(key, tables, limits)
        self._release(worker, healthy=True)

    def run(self, request: RunRequest, payload: bytes, cancel: threading.Event | None = None) -> Outcome:
        """One request on a warm worker; a cancelled run retires (kills) its worker, freeing the slot."""
        tables, limits = list(request.tables.values()), request.limits
        key = self.key(tables, limits)
        worker = self._acquire(key) or self._start(key, tables, limits)
        began = time.perf_counter()
        outcome = Outcome(returncode=None, stdout=b"", stderr=b"")
        healthy = False
        worker.stream.cancel = cancel
        try:
            outcome, healthy = self._ask(worker, payload, limits)
        except Cancelled:
            outcome.cancelled = True
        except (Deadline, Overflow, EOFError, OSError, ValueError) as exc:
            outcome.timed_out = isinstance(exc, Deadline)
            outcome.overflow = isinstance(exc, Overflow)
            outcome.stderr = f"warm worker failed: {type(exc).__name__}".encode()
        finally:
            worker.stream.cancel = None
            self._release(worker, healthy=healthy)
        outcome.elapsed_ms = round((time.perf_counter() - began) * 1000, 3)
        return outcome

    @staticmethod
    def _ask(worker: Worker, payload: bytes, limits: Limits) -> tuple[Outcome, bool]:
        """One request, one header line, one body; healthy only when the child exited cleanly."""
        cap = limits.max_output_bytes + STDOUT_MARGIN
        worker.stream.send(payload.replace(b"\n", b" ") + b"\n", close=False).join()
        deadline = time.perf_counter() + limits.timeout_s + 2 * KILL_GRACE_S
        header = json.loads(worker.stream.take_line(deadline, cap))
        body = worker.stream.take(int(header["length"]), deadline, cap)
        worker.runs += 1
        code = header.get("returncode")
        outcome = Outcome(returncode=code, stdout=body, stderr=b"", timed_out=bool(header.get("timed_out")))
        # Any run that did not answer "ok" retires its worker: only clean runs are followed by reuse.
        return outcome, code == 0 and not outcome.timed_out and body.startswith(b'{"status":"ok"')

    def _acquire(self, key: Key) -> Worker | None:
        with self._lock:
            self._reap_idle()
            workers = self._idle.get(key) or []
            return workers.pop() if workers else None

    def _release(self, worker: Worker, *, healthy: bool) -> None:
        worker.last_used = time.monotonic()
        keep = healthy and worker.runs < self.max_runs
        with self._lock:
            workers = self._idle.setdefault(worker.key, [])
            if keep and len(workers) < self.size:
                workers.append(worker)
                return
        _stop(worker)

    def _start(self, key: Key, tables: list[Any], limits: Limits) -> Worker:
        container = self.executor.create(WORKER_ARGV, tables, limits, once=False)
        try:
            stream = Stream(
                self.executor.client.api.attach_socket(
                    container.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
                )
            )
            container.start()
        except BaseException:
            remove(container)
            raise
        self.started += 1
        return Worker(key, container, stream)

    def _reap_idle(self) -> None:
        """Stop workers idle for longer than idle_s (the caller holds the lock)."""
        now = time.monotonic()
        for key, workers in list(self._idle.items()):
            stale = [w for w in workers if now - w.last_used > self.idle_s]
            self._idle[key] = [w for w in workers if w not in stale]
            for worker in stale:
                _stop(worker)

    def idle_workers(self) -> int:
        with self._lock:
            return sum(len(w) for w in self._idle.values())

    def close(self) -> None:
        with self._lock:
            workers = [w for ws in self._idle.values() for w in ws]
            self._idle.clear()
        for worker in workers:
            _stop(worker)


def _stop(worker: Worker) -> None:
    worker.stream.close()
    remove(worker.container)
