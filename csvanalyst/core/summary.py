"""The one-document summary of a turn (`ask --json`, `POST /chat`), built from its events.

It lives in the core so every front end summarises a turn the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csvanalyst.events import Event

__all__ = ["events_summary"]


def events_summary(events: list[Event]) -> dict[str, Any]:
    """The `--json` document, built from the same events every front end sees."""
    from csvanalyst.events import Answer, Chart, Done, ErrorEvent, RunFinished, UsageEvent

    summary: dict[str, Any] = {"answer": "", "thread_id": None, "runs": [], "usage": None, "status": "failed"}
    for event in events:
        summary["thread_id"] = summary["thread_id"] or event.thread_id
        if isinstance(event, RunFinished):
            summary["runs"].append(
                {k: getattr(event, k) for k in ("run_id", "sql", "columns", "rows", "row_count", "truncated")}
            )
        elif isinstance(event, Answer):
            summary["answer"] = event.text
        elif isinstance(event, Chart):
            summary["chart"] = event.spec
        elif isinstance(event, UsageEvent):
            summary["usage"] = event.model_dump(exclude={"type", "thread_id"})
        elif isinstance(event, ErrorEvent):
            summary["error"] = {"code": event.code, "message": event.message, "hint": event.hint}
            summary["error_code"] = event.code
        elif isinstance(event, Done):
            summary["status"] = event.status
            if event.trace_id:
                summary["trace_id"] = event.trace_id
    return summary
