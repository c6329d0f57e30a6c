"""The local sandbox: one isolated, resource-limited process per run, talking the runner protocol.

It is weaker than a container and says so (isolation.PROMISES, shown by `csvanalyst doctor`); it is
meant for a single trusted user's own files. With keep_warm under bwrap or unshare, runs go to a warm
worker (pool.py) that forks a fresh child per run; otherwise the next single-use process is started ahead of time.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import ClosingExecutor, Limits, RunRequest, RunResult
from csvanalyst.executors.contract import (
    KILL_GRACE_S,
    MEMORY_HEADROOM_MB,
    STDOUT_MARGIN,
    Outcome,
    runner_package_dir,
    to_result,
)
from csvanalyst.executors.local import isolation
from csvanalyst.executors.local.launch import ChildLimits, Started, abandon, finish, start

if TYPE_CHECKING:
    from csvanalyst.executors.local.pool import LocalPool

WORKER_MODES = ("bwrap", "unshare")  # a worker can sweep strays only as PID 1 of its own namespace
SCRATCH_PREFIX = "csvanalyst-run-"  # + the owner's pid, so a crashed owner's leftovers can be found


@dataclass
class _Pending:
    """A started runner waiting for its request, and what it was started to read."""

    started: Started
    scratch: str
    tables: list[TableSource]
    limits: Limits


class LocalExecutor(ClosingExecutor):
    """Runs each request in a fresh process under the strongest isolation the machine allows."""

    name = "local"

    def __init__(
        self, isolation: str = "auto", *, keep_warm: bool = False, max_runs: int = 50, idle_s: float = 300.0
    ) -> None:
        from csvanalyst.errors import EnvironmentProblem, UsageError

        if isolation != "auto" and isolation not in isolation_modes():
            choices = ", ".join(("auto", *isolation_modes()))
            raise UsageError(f"Unknown isolation {isolation!r}.", hint=f"Choose one of: {choices}.")
        mode = _resolve(isolation)
        reason = _probe(mode)
        if reason is not None:
            raise EnvironmentProblem(
                f"The local sandbox cannot use {mode}: {reason}.",
                hint="Install bubblewrap, or choose isolation 'unshare' or 'none'.",
            )
        self.isolation = mode
        sweep_stale_scratch()
        self._prepared: _Pending | None = None
        self._lock = threading.Lock()
        # A long-lived process (chat, server) keeps the next runner started: a follow-up question on the
        # same data then skips the interpreter and DuckDB start-up entirely.
        self.keep_warm = keep_warm
        self.pool: LocalPool | None = None
        if keep_warm and self.isolation in WORKER_MODES:
            from csvanalyst.executors.local.pool import LocalPool

            self.pool = LocalPool(self.worker_launcher(), max_runs=max_runs, idle_s=idle_s)

    def ready(self) -> str:
        """ "ok" while this isolation mode still works here, else why not."""
        return isolation.probe(self.isolation) or "ok"

    def run(self, request: RunRequest, cancel: threading.Event | None = None) -> RunResult:
        """Run one request; setting `cancel` kills the sandbox process and ends the run as cancelled."""
        started = time.perf_counter()
        payload = request.model_dump_json().encode("utf-8")
        if self.pool is not None:
            return self._run_warm(request, payload, cancel, started)
        pending = self._take_prepared(request)
        if pending is None:
            pending = self._start(self.runner_argv(), list(request.tables.values()), request.limits)
        outcome = self._finish(pending, payload, request.limits, cancel)
        if self.keep_warm:
            self.prepare(pending.tables, request.limits)
        result = to_result(outcome, request)
        result.executor = self.name
        result.timings = {**result.timings, "total_ms": round((time.perf_counter() - started) * 1000, 3)}
        return result

    def _run_warm(
        self, request: RunRequest, payload: bytes, cancel: threading.Event | None, started: float
    ) -> RunResult:
        assert self.pool is not None
        tables = list(request.tables.values())
        outcome = self.pool.run(tables, request.limits, payload, cancel)
        if not self.pool.has_idle(tables, request.limits):
            self.pool.prestart(tables, request.limits)  # its worker retired: the next run should not wait
        result = to_result(outcome, request)
        result.executor = self.name
        result.timings = {**result.timings, "total_ms": round((time.perf_counter() - started) * 1000, 3)}
        return result

    def prepare(self, tables: Iterable[TableSource], limits: Limits) -> None:
        """Start the next run's process now, so its start-up overlaps the host's own checks.

        It may read exactly `tables`; a run whose tables or limits differ starts a fresh process.
        With a warm pool this makes sure a worker for exactly these tables and limits waits.
        """
        if self.pool is not None:
            self.pool.prestart(tables, limits)
            return
        fresh = self._start(self.runner_argv(), list(tables), limits)
        with self._lock:
            stale, self._prepared = self._prepared, fresh
        if stale is not None:
            self._discard(stale)

    def _take_prepared(self, request: RunRequest) -> _Pending | None:
        with self._lock:
            pending, self._prepared = self._prepared, None
        if pending is None:
            return None
        wanted = {t.path for t in request.tables.values()}
        if wanted <= {t.path for t in pending.tables} and pending.limits == request.limits:
            return pending
        self._discard(pending)
        return None

    @staticmethod
    def runner_argv() -> list[str]:
        return [sys.executable, "-s", "-B", "-P", "-m", "runner"]

    def worker_launcher(self, argv: Sequence[str] | None = None) -> Callable[[list[TableSource], Limits], _Pending]:
        """Starts a warm worker (default: `runner.worker` after a warm-up) as PID 1 of its namespace."""
        if argv is None:
            from csvanalyst.executors.local.pool import WORKER_BOOT

            argv = [sys.executable, "-s", "-B", "-P", "-c", WORKER_BOOT]
        return lambda tables, limits: self._start(argv, tables, limits, as_pid_1=True)

    def spawn(self, argv: Sequence[str], payload: bytes, request: RunRequest) -> Outcome:
        """Launch argv under this executor's isolation and limits, in a private temp dir removed after."""
        pending = self._start(argv, list(request.tables.values()), request.limits)
        return self._finish(pending, payload, request.limits)

    def _start(
        self, argv: Sequence[str], tables: list[TableSource], limits: Limits, *, as_pid_1: bool = False
    ) -> _Pending:
        scratch = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        try:
            data_files = [t.path for t in tables]
            layout = isolation.Layout(
                runner_parent=str(runner_package_dir().parent), scratch=scratch, data_files=data_files
            )
            env = sandbox_env(self.isolation, layout)
            started = start(
                isolation.wrap(self.isolation, argv, layout, env, as_pid_1=as_pid_1),
                env=env,
                cwd=scratch,
                limits=ChildLimits(
                    cpu_s=int(limits.timeout_s * max(1, limits.threads)) + 10,
                    data_bytes=(limits.memory_mb + MEMORY_HEADROOM_MB) * 1024 * 1024,
                    file_bytes=(max(64, limits.memory_mb) + 64) * 1024 * 1024,
                ),
            )
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        return _Pending(started, scratch, tables, limits)

    @staticmethod
    def _finish(pending: _Pending, payload: bytes, limits: Limits, cancel: threading.Event | None = None) -> Outcome:
        try:
            return finish(
                pending.started,
                stdin=payload,
                deadline_s=limits.timeout_s + KILL_GRACE_S,
                max_stdout=limits.max_output_bytes + STDOUT_MARGIN,
                cancel=cancel,
            )
        finally:
            shutil.rmtree(pending.scratch, ignore_errors=True)

    @staticmethod
    def _discard(pending: _Pending) -> None:
        abandon(pending.started)
        shutil.rmtree(pending.scratch, ignore_errors=True)

    def close(self) -> None:
        """Kill a prepared process that no run used, and every idle warm worker."""
        if self.pool is not None:
            self.pool.close()
        with self._lock:
            pending, self._prepared = self._prepared, None
        if pending is not None:
            self._discard(pending)


def sweep_stale_scratch() -> int:
    """Remove private temp dirs left by a process that was killed (SIGKILL skips every cleanup).

    Only dirs named with our prefix and the pid of a process that no longer exists are touched."""
    removed = 0
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        owner = path.name[len(SCRATCH_PREFIX) :].split("-", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def isolation_modes() -> tuple[str, ...]:
    return isolation.MODES


def available_modes() -> dict[str, str | None]:
    """Each mode and why it is unavailable here (None when it works)."""
    return {mode: _probe(mode) for mode in isolation.MODES}


def _probe(mode: str) -> str | None:
    return isolation.probe(mode)


def _resolve(requested: str) -> str:
    return isolation.resolve(requested)


def sandbox_env(mode: str, layout: isolation.Layout) -> dict[str, str]:
    """The child's whole environment: built from scratch so no secret of the parent leaks in."""
    tmp = isolation.sandbox_scratch(mode, layout)
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": tmp,
        "TMPDIR": tmp,
        "CSVANALYST_PRIVATE_TMP": tmp,  # this temp dir is the run's (or its warm worker's) alone
        "CSVANALYST_SCRATCH": f"{tmp}/spill",
        "PYTHONPATH": isolation.sandbox_runner_parent(mode, layout),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "CSVANALYST_SANDBOX": mode,  # restricted Python runs only under bwrap/unshare (python_mode.py)
    }
