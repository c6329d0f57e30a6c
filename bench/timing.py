"""Timing helpers: whole commands in fresh processes, medians of several runs."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent
# Commands are timed the way an installed package runs, with its bytecode cached: a shell that turns
# bytecode writing off would make every fresh process compile the modules it imports.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def time_command(argv: list[str], *, repeats: int, env: dict[str, str] | None = None) -> float:
    """Median wall-clock seconds of a command; fails loudly if the command fails."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, env={**os.environ, **(env or {})}, check=False)
        samples.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[:3]} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return statistics.median(samples)


def time_call(fn: Callable[[], object], *, repeats: int, pause_s: float = 0.0) -> float:
    """Median seconds of fn(); `pause_s` idles before each call (not timed)."""
    samples = []
    for _ in range(repeats):
        time.sleep(pause_s)
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def time_pairs(calls: dict[str, Callable[[], object]], *, repeats: int) -> dict[str, float]:
    """Median seconds of each call, the calls taking turns in every round, so a machine's load
    changing during the run weighs on each of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, fn in calls.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def python_snippet(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def csvanalyst(*args: str) -> list[str]:
    return [str(BIN / "csvanalyst"), *args]
