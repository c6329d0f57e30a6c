"""Warm workers for the local sandbox: one pre-started `runner.worker` per dataset and limits.

A single-use runner pays for a wrapper, an interpreter and the DuckDB import on every run (about a
quarter of a second). A worker pays that once, then forks a fresh child per request (runner/worker.py),
so no Python or DuckDB state survives between runs. It runs as PID 1 of its own PID namespace, which
lets it kill whatever a run left behind (a `setsid` grandchild) before it reads the next request.

Policy, as for the Docker pool (docker/pool.py): a worker serves only the exact table files and limits it
was started with, one run at a time; it is retired after `max_runs` runs or after any run that did
not answer `ok` (a timeout, crash, overflow or cancel kills it at once), and stopped after `idle_s`
without a run. The host keeps the single-use path's deadline and output cap for every request.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import Limits
from csvanalyst.executors.contract import Outcome
from csvanalyst.executors.local.launch import descendants
from csvanalyst.executors.local.wire import exchange

if TYPE_CHECKING:
    from csvanalyst.executors.local.executor import _Pending

Key = tuple[tuple[str, ...], str]
# The worker's entry: `runner.worker` unchanged, after one throw-away query over a tiny CSV and Parquet
# file. DuckDB initialises much lazily on a process's first query (about 15 ms here); doing it once
# before serving puts that state into every forked child instead of paying it on every run. The
# warm-up reads only files it wrote itself, so every child still starts from the same state.
WORKER_BOOT = """
import os, shutil, sys, tempfile, threading
from runner import main, worker
main._preload()
try:
    import duckdb
    d = tempfile.mkdtemp(prefix="csvanalyst-warmup-")
    csv, pq = os.path.join(d, "w.csv"), os.path.join(d, "w.parquet")
    with open(csv, "w") as f:
        f.write("k,v\\nx,1\\n")
    duckdb.connect().execute(f"COPY (SELECT 'x' AS k, 2 AS v) TO '{pq}' (FORMAT parquet)").close()
    tables = {"c": {"path": csv, "format": "csv"}, "p": {"path": pq, "format": "parquet"}}
    code = "SELECT c.k, sum(c.v + p.v) AS s FROM c JOIN p USING (k) GROUP BY 1 ORDER BY 1"
    main.run({"kind": "sql", "code": code, "tables": tables}, scratch=d)
    shutil.rmtree(d, ignore_errors=True)
except Exception as exc:
    print(f"worker warm-up skipped: {exc}", file=sys.stderr)
for t in threading.enumerate():
    if t is not threading.main_thread():
        t.join()
sys.exit(worker.serve(sys.stdin.buffer, sys.stdout.buffer))
"""
Launcher = Callable[[list[TableSource], Limits], "_Pending"]
EXIT_WAIT_S = 3.0


@dataclass
class Worker:
    """A started worker process, the key it may serve, and what is left of its stdout between runs."""

    key: Key
    pending: _Pending
    runs: int = 0
    last_used: float = field(default_factory=time.monotonic)
    buffer: bytearray = field(default_factory=bytearray)

    @property
    def pid(self) -> int:
        return self.pending.started.proc.pid


class LocalPool:
    """Idle workers by key; a run takes one out (so one run at a time per worker) and gives it back."""

    def __init__(self, launcher: Launcher, *, max_runs: int = 50, idle_s: float = 300.0) -> None:
        self.launcher = launcher
        self.max_runs = max(1, max_runs)
        self.idle_s = idle_s
        self._idle: dict[Key, Worker] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._reaper: threading.Thread | None = None
        self.started = 0  # workers started so far; tests read it to prove reuse and retirement

    @staticmethod
    def key(tables: Iterable[TableSource], limits: Limits) -> Key:
        """Exactly the files mounted into the worker, plus every limit it was started under."""
        return tuple(sorted({os.path.abspath(t.path) for t in tables})), limits.model_dump_json()

    def prestart(self, tables: Iterable[TableSource], limits: Limits) -> None:
        """Make sure a worker for these tables waits idle (its start-up overlaps the host's checks)."""
        tables = list(tables)
        key = self.key(tables, limits)
        with self._lock:
            if key in self._idle or self._closed.is_set():
                return
        self._release(self._start(key, tables, limits), healthy=True)

    def run(self, tables: list[TableSource], limits: Limits, payload: bytes, cancel: threading.Event | None) -> Outcome:
        """One request through a warm worker (started now if none waits); the worker's fate follows the run."""
        key = self.key(tables, limits)
        worker = self._acquire(key) or self._start(key, tables, limits)
        healthy = False
        try:
            outcome = exchange(worker.pending.started.proc, worker.buffer, payload, limits=limits, cancel=cancel)
            worker.runs += 1
            healthy = _answered_ok(outcome)
        finally:
            self._release(worker, healthy=healthy)
        return outcome

    def _acquire(self, key: Key) -> Worker | None:
        with self._lock:
            worker = self._idle.pop(key, None)
        if worker is not None and worker.pending.started.proc.poll() is not None:
            _stop(worker)  # died while idle (killed from outside): start a fresh one instead
            return None
        return worker

    def _release(self, worker: Worker, *, healthy: bool) -> None:
        worker.last_used = time.monotonic()
        keep = healthy and worker.runs < self.max_runs
        with self._lock:
            if keep and worker.key not in self._idle and not self._closed.is_set():
                self._idle[worker.key] = worker
                return
        _stop(worker)

    def _start(self, key: Key, tables: list[TableSource], limits: Limits) -> Worker:
        worker = Worker(key, self.launcher(tables, limits))
        self.started += 1
        self._ensure_reaper()
        return worker

    def _ensure_reaper(self) -> None:
        """One daemon thread stops idle workers, so an idle chat or server holds no process for long."""
        with self._lock:
            if self._reaper is not None:
                return
            self._reaper = threading.Thread(target=self._reap_loop, name="csvanalyst-local-pool", daemon=True)
        self._reaper.start()

    def _reap_loop(self) -> None:
        tick = max(0.05, min(self.idle_s / 2, 5.0))
        while not self._closed.wait(tick):
            self.reap_idle()

    def reap_idle(self) -> int:
        """Stop every worker idle for longer than idle_s; returns how many were stopped."""
        now = time.monotonic()
        with self._lock:
            stale = [w for w in self._idle.values() if now - w.last_used > self.idle_s]
            for worker in stale:
                del self._idle[worker.key]
        for worker in stale:
            _stop(worker)
        return len(stale)

    def idle_workers(self) -> list[int]:
        """Pids of the workers waiting for a run."""
        with self._lock:
            return [w.pid for w in self._idle.values()]

    def has_idle(self, tables: Iterable[TableSource], limits: Limits) -> bool:
        with self._lock:
            return self.key(tables, limits) in self._idle

    def close(self) -> None:
        """Stop every idle worker and the reaper; a run in flight stops its worker when it returns."""
        self._closed.set()
        with self._lock:
            workers = list(self._idle.values())
            self._idle.clear()
        for worker in workers:
            _stop(worker)


def _answered_ok(outcome: Outcome) -> bool:
    """Only a clean `ok` answer is followed by reuse; anything else retires the worker."""
    flags = outcome.timed_out or outcome.overflow or outcome.cancelled
    return outcome.returncode == 0 and not flags and outcome.stdout.startswith(b'{"status":"ok"')


def _stop(worker: Worker) -> None:
    """SIGKILL the worker's whole tree at once: as its namespace's PID 1 dies, so does all it left."""
    proc = worker.pending.started.proc
    if proc.returncode is None:
        tree = descendants(proc.pid)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        proc.wait()
        _wait_gone(tree)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    shutil.rmtree(worker.pending.scratch, ignore_errors=True)


def _wait_gone(pids: list[int]) -> None:
    """Processes of a PID namespace die asynchronously after its init; wait (bounded) until they have."""
    end = time.monotonic() + EXIT_WAIT_S
    while pids and time.monotonic() < end:
        pids = [pid for pid in pids if _running(pid)]
        if pids:
            time.sleep(0.005)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False
