"""What a TOOL span records: the arguments, the QueryPlan, the compiled SQL, the policy's verdict, and one
child span per sandbox run, read back from the run capsules so the trace and the store agree."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csvanalyst.agent.tools import ToolOutcome
    from csvanalyst.config import Settings
    from csvanalyst.observability.tracing import TurnTracer
    from csvanalyst.store.runs import RunRecord

QUERY_TOOLS = ("run_plan", "run_sql", "run_python")
REJECTION_CODES = ("rejected", "invalid_plan", "python_disabled")


def tool_attributes(arguments: dict[str, Any], outcome: ToolOutcome) -> dict[str, Any]:
    attributes: dict[str, Any] = {"arguments": arguments, "is_error": outcome.is_error}
    if "plan" in arguments:
        attributes["query_plan"] = arguments["plan"]
    compiled = [e for e in outcome.events if getattr(e, "type", "") == "sql_compiled"]
    if compiled:
        attributes["compiled_sql"] = compiled[-1].sql  # type: ignore[attr-defined]
    if outcome.run_id:
        attributes["run_id"] = outcome.run_id
    attributes["policy_verdict"] = _verdict(outcome)
    return attributes


def _verdict(outcome: ToolOutcome) -> str:
    """`allowed`, or `rejected: <rule or code>: <message>`, or `failed: <code>` for a run that failed later."""
    if not outcome.is_error:
        return "allowed"
    try:
        error = json.loads(outcome.content).get("error", {})
    except ValueError:
        return "failed"
    code = str(error.get("code", ""))
    if code in REJECTION_CODES:
        return f"rejected: {error.get('rule') or code}: {error.get('message', '')}"[:500]
    return f"failed: {code}"


def record_runs(tracer: TurnTracer, tool_span: Any, started_ns: int, settings: Settings) -> None:
    """A child span per sandbox run the tool started, with its real start and end times."""
    from csvanalyst.store import db as store_db
    from csvanalyst.store import runs

    if not tracer.thread_id:
        return
    since = datetime.fromtimestamp(started_ns / 1e9, UTC).isoformat(timespec="milliseconds")
    with store_db.opened(settings.store_path) as store:
        records = runs.of_thread_since(store, tracer.thread_id, since)
    for record in records:
        _run_span(tracer, tool_span, record)


def _run_span(tracer: TurnTracer, tool_span: Any, record: RunRecord) -> None:
    span = tracer.child(
        tool_span,
        f"sandbox {record.executor or 'run'}",
        "SANDBOX",
        {"run_id": record.id, "kind": record.kind, "sql": record.compiled_sql},
        start_time_ns=_ns(record.created_at),
    )
    tracer.end(
        span,
        outputs={"status": record.status, "row_count": record.row_count, "truncated": record.truncated},
        attributes={
            "run_id": record.id,
            "executor": record.executor or "",
            "status": record.status,
            "row_count": record.row_count,
            "timings": record.timings,
            "error": (record.error or {}).get("message", ""),
        },
        status="OK" if record.status == "ok" else "ERROR",
        end_time_ns=_ns(record.finished_at) if record.finished_at else None,
    )


def _ns(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1e9)
