"""The cost of tracing a turn: the same scripted turn with tracing off and on, in one process, as a ratio.

Export runs off the request path (MLflow's async trace logging); what a turn pays is building its spans.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

TURNS = 15


def _turns(home: Path, *, traced: bool) -> float:
    from csvanalyst.config import load_settings
    from csvanalyst.core.query import DataScope
    from csvanalyst.core.session import Session
    from csvanalyst.testing.scripted import ScriptedModel, answer, call

    plan = {"table": "orders", "select": ["status"], "aggregates": [{"fn": "count", "as": "n"}]}
    settings = load_settings(home=home, mlflow_enabled=traced)
    model = ScriptedModel([call("run_plan", {"plan": plan}), answer("Orders by status are shown.")] * (TURNS + 1))
    scope = DataScope(dataset="retail")
    samples = []
    with Session(settings=settings, client=model, keep_warm=True) as session:
        list(session.ask("orders by status", scope))  # warm-up: dataset cache, runner, tracking store
        for _ in range(TURNS):
            start = time.perf_counter()
            list(session.ask("orders by status", scope))
            samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run() -> dict[str, float]:
    import os

    from csvanalyst.config import get_settings

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CSVANALYST_HOME"] = tmp
        get_settings.cache_clear()
        off = _turns(Path(tmp), traced=False)
        on = _turns(Path(tmp), traced=True)
        import mlflow

        start = time.perf_counter()
        mlflow.flush_trace_async_logging()
        flush = time.perf_counter() - start
    return {"turn_untraced_s": off, "turn_traced_s": on, "traced_over_untraced": on / off, "export_flush_s": flush}
