"""Bounds that keep one server usable under load: admission with a queue, sandbox slots, body sizes.

Admission is decided when a request arrives (so a refusal is a clean 429 + Retry-After, never a
stream cut short); the sandbox slots then bound how many runs execute at the same moment.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import Executor, Limits, RunRequest, RunResult
from csvanalyst.observability.metrics import Metrics
from csvanalyst.server.problems import HttpProblem


@dataclass(frozen=True)
class ServerLimits:
    """Defaults sized for a 2-core machine; `csvanalyst serve` flags override them."""

    max_runs: int = 4  # sandbox runs executing at once
    max_queue: int = 64  # admitted requests waiting for a slot
    max_body_bytes: int = 1024 * 1024  # JSON requests
    max_upload_bytes: int = 200 * 1024 * 1024  # CSV uploads
    heartbeat_s: float = 10.0  # SSE comment interval
    retry_after_s: int = 2


class Admission:
    """Counts requests that will need the sandbox; beyond slots + queue the next one gets a 429."""

    def __init__(self, limits: ServerLimits, metrics: Metrics) -> None:
        self.capacity = limits.max_runs + limits.max_queue
        self.retry_after = limits.retry_after_s
        self.metrics = metrics
        self._lock = threading.Lock()
        self.in_flight = 0

    def enter(self) -> None:
        with self._lock:
            if self.in_flight >= self.capacity:
                self.metrics.rejected.inc()
                raise HttpProblem(
                    "busy",
                    f"The server is at capacity ({self.capacity} requests running or queued).",
                    hint=f"Retry after {self.retry_after} s.",
                    headers={"Retry-After": str(self.retry_after)},
                )
            self.in_flight += 1

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


class BoundedExecutor:
    """Wraps the shared executor: at most `max_runs` sandbox runs at once, each one counted in metrics.

    Runs execute on this wrapper's own long-lived threads. A sandbox process dies with the thread that
    started it (PR_SET_PDEATHSIG follows the thread), so a runner kept warm for the next question must
    not be started from a short-lived request thread.
    """

    def __init__(self, inner: Executor, limits: ServerLimits, metrics: Metrics) -> None:
        self.inner = inner
        self.name = inner.name
        self.metrics = metrics
        self._pool = ThreadPoolExecutor(max_workers=limits.max_runs, thread_name_prefix="sandbox")

    def run(self, request: RunRequest, cancel: threading.Event | None = None) -> RunResult:
        """Setting `cancel` (the client went away) stops the sandbox process; the run ends `cancelled`."""
        return self._pool.submit(self._run, request, cancel).result()

    def _run(self, request: RunRequest, cancel: threading.Event | None) -> RunResult:
        self.metrics.active_runs.inc()
        started = time.perf_counter()
        try:
            result = self.inner.run(request, cancel=cancel)
        except BaseException:
            self.metrics.runs.labels(self.name, "exception").inc()
            raise
        finally:
            self.metrics.active_runs.dec()
            self.metrics.run_seconds.observe(time.perf_counter() - started)
        self.metrics.runs.labels(result.executor or self.name, result.status).inc()
        return result

    @property
    def isolation(self) -> str:
        return self.inner.isolation

    def prepare(self, tables: Sequence[TableSource], limits: Limits) -> None:
        """On this wrapper's long-lived threads too: a process started ahead must outlive the request."""
        self._pool.submit(self.inner.prepare, tables, limits).result()

    def ready(self) -> str:
        return self.inner.ready()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.inner.close()

    def __enter__(self) -> BoundedExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
