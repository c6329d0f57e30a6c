"""Per-run fixed cost of each sandbox: the same trivial query, in-process vs through each backend.

Fixed cost = a backend's median (or p95) wall time minus the in-process median. `python -m bench.sandboxes`
prints the figures; `run()` returns them for `make bench`. Docker figures are left out (with a note on
stderr) when the daemon or the runner image is not available.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import RunRequest

QUERY = "SELECT region, sum(amount) AS total FROM sales GROUP BY 1 ORDER BY 1"
ROUNDS = {"in_process": 30, "local_cold": 20, "local_warm": 30, "docker_cold": 10, "docker_warm": 30}


def _timed(fns: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
    """Round-robin over the backends, so a change in the machine's load (others' test runs) shifts every
    backend alike instead of whichever one happened to be measured at that moment."""
    for fn in fns.values():
        fn()  # warm caches (page cache, imports, a warm worker) before measuring
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for i in range(max(ROUNDS[name] for name in fns)):
        for name, fn in fns.items():
            if i < ROUNDS[name]:
                started = time.perf_counter()
                fn()
                samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def _p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]


def _backends(request: RunRequest) -> dict[str, Callable[[], object]]:
    from csvanalyst.executors.local.executor import LocalExecutor
    from csvanalyst.runner.main import run as run_in_process

    data = request.model_dump(mode="json")
    cold, warm = LocalExecutor(), LocalExecutor(keep_warm=True)
    fns: dict[str, Callable[[], object]] = {
        "in_process": lambda: run_in_process(data),
        "local_cold": lambda: cold.run(request),
        "local_warm": lambda: warm.run(request),
    }
    try:
        from csvanalyst.executors.docker.executor import DockerExecutor

        docker_cold, docker_warm = DockerExecutor(), DockerExecutor(keep_warm=True)
    except Exception as exc:  # no daemon or no image: measure what exists here
        print(f"bench.sandboxes: docker left out: {exc}", file=sys.stderr)
        return fns
    fns["docker_cold"] = lambda: docker_cold.run(request)
    fns["docker_warm"] = lambda: docker_warm.run(request)
    return fns


def run() -> dict[str, float]:
    """Medians and p95 (ms) of each backend's fixed cost over the in-process run."""
    with tempfile.TemporaryDirectory(prefix="csvanalyst-bench-sandboxes-") as tmp:
        csv = Path(tmp) / "sales.csv"
        csv.write_text("region,amount\n" + "".join(f"r{i % 5},{i}\n" for i in range(1000)))
        request = RunRequest(code=QUERY, tables={"sales": TableSource(path=str(csv), format="csv")})
        samples = _timed(_backends(request))
    base = statistics.median(samples["in_process"])
    figures = {"sandbox_in_process_median_ms": round(base, 1)}
    for name, values in samples.items():
        if name == "in_process":
            continue
        figures[f"sandbox_{name}_fixed_median_ms"] = round(statistics.median(values) - base, 1)
        figures[f"sandbox_{name}_fixed_p95_ms"] = round(_p95(values) - base, 1)
    return figures


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:42s} {value:8.1f}")
