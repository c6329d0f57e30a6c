"""Soak: a steady mixed load on one server for a bounded time, start against end in the same run.

Bounded by BENCH_SOAK_S (default 60 s). Reports p50/p95 of the first and the last window, their ratio
(flat latency: close to 1), and the server process's RSS and open file descriptors at start and end
(flat: nothing leaks per request).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable

from bench.server import _rss_mb

SOAK_S = float(os.environ.get("BENCH_SOAK_S", "60"))
WORKERS = int(os.environ.get("BENCH_SOAK_WORKERS", "4"))
WINDOW_SHARE = 0.2  # the first and last fifth of the soak are compared

Request = Callable[[str], tuple[float, str]]


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    if not latencies:
        return 0.0, 0.0
    ordered = sorted(latencies)
    return round(statistics.median(ordered), 4), round(ordered[int(0.95 * (len(ordered) - 1))], 4)


def soak(url: str, requests: list[Request], seconds: float = SOAK_S) -> dict[str, float]:
    """Run `requests` round-robin from WORKERS threads for `seconds`; the server runs in this process."""
    samples: list[tuple[float, float, str]] = []  # (started at, latency, status)
    lock = threading.Lock()
    began = time.monotonic()
    end = began + seconds
    figures = {"rss_start_mb": round(_rss_mb(), 1), "fds_start": float(_open_fds())}

    def worker(index: int) -> None:
        turn = index
        while (now := time.monotonic()) < end:
            latency, status = requests[turn % len(requests)](url)
            turn += 1
            with lock:
                samples.append((now - began, latency, status))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    window = seconds * WINDOW_SHARE
    first = [lat for at, lat, status in samples if at < window and status == "ok"]
    last = [lat for at, lat, status in samples if at >= seconds - window and status == "ok"]
    (p50_first, p95_first), (p50_last, p95_last) = _percentiles(first), _percentiles(last)
    figures.update(
        {
            "seconds": seconds,
            "requests": float(len(samples)),
            "errors": float(sum(1 for _, _, status in samples if status != "ok")),
            "p50_first_s": p50_first,
            "p95_first_s": p95_first,
            "p50_last_s": p50_last,
            "p95_last_s": p95_last,
            "p95_last_over_first": round(p95_last / p95_first, 3) if p95_first else 0.0,
            "rss_end_mb": round(_rss_mb(), 1),
            "fds_end": float(_open_fds()),
        }
    )
    return figures
