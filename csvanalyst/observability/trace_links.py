"""From a run capsule to its trace: the turn's trace carries its run ids in the `csvanalyst.run_ids` tag."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from csvanalyst.config import Settings

RUN_IDS_TAG = "csvanalyst.run_ids"


def trace_for_run(settings: Settings, run_id: str) -> str | None:
    """The id of the trace that holds `run_id`; None when tracing is off, unreachable, or never saw it."""
    if not settings.mlflow_enabled:
        return None
    from csvanalyst.observability.mlflow_setup import tracking

    ready = tracking(settings)
    if ready is None:
        return None
    safe = run_id.replace("'", "")
    try:
        ready.mlflow.flush_trace_async_logging()
        found = ready.mlflow.search_traces(
            locations=[ready.experiment_id],
            filter_string=f"tags.`{RUN_IDS_TAG}` LIKE '%{safe}%'",
            max_results=1,
            return_type="list",
        )
    except Exception:  # a store that fails now only hides the link
        return None
    return str(found[0].info.trace_id) if found else None
