"""Events: everything a turn does, as one pydantic discriminated union.

The same JSON goes out as NDJSON (`ask --events`), as SSE (`serve`) and into the TUI: one schema, three
renderers. Nothing in the core prints; it yields these.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, field_validator


class _Event(BaseModel):
    thread_id: str | None = None


class Status(_Event):
    type: Literal["status"] = "status"
    message: str


class TextDelta(_Event):
    type: Literal["text_delta"] = "text_delta"
    text: str


class ToolCallEvent(_Event):
    type: Literal["tool_call"] = "tool_call"
    call_id: str
    name: str
    arguments: dict[str, Any]


class SqlCompiled(_Event):
    type: Literal["sql_compiled"] = "sql_compiled"
    call_id: str
    sql: str
    plan: dict[str, Any] | None = None


class RunFinished(_Event):
    type: Literal["run_finished"] = "run_finished"
    call_id: str | None = None
    run_id: str
    status: str
    sql: str
    columns: list[dict[str, str]]
    rows: list[list[Any]]  # a preview: the first rows only
    row_count: int
    truncated: bool
    timings: dict[str, float] = Field(default_factory=dict)


class Chart(_Event):
    type: Literal["chart"] = "chart"
    run_id: str
    spec: dict[str, Any]  # Vega-Lite, inline data only

    @field_validator("spec")
    @classmethod
    def _inline_only(cls, spec: dict[str, Any]) -> dict[str, Any]:
        """Every chart a front end renders passes here: nothing in it may fetch (viz/safety.py)."""
        from csvanalyst.viz.safety import inline_only

        cleaned: dict[str, Any] = inline_only(spec)
        return cleaned


class Answer(_Event):
    type: Literal["answer"] = "answer"
    text: str
    run_ids: list[str] = Field(default_factory=list)
    grounded: bool = True  # every number in the text appears in a run of this turn


class UsageEvent(_Event):
    type: Literal["usage"] = "usage"
    input_tokens: int
    output_tokens: int
    cost_usd: float | None = None
    model: str = ""
    provider: str = ""


class ErrorEvent(_Event):
    type: Literal["error"] = "error"
    code: str
    message: str
    hint: str = ""
    retryable: bool = False


class Done(_Event):
    type: Literal["done"] = "done"
    status: Literal["answered", "declined", "failed", "cancelled"] = "answered"
    trace_id: str | None = None  # the turn's MLflow trace, when tracing is on


Event = Annotated[
    Status | TextDelta | ToolCallEvent | SqlCompiled | RunFinished | Chart | Answer | UsageEvent | ErrorEvent | Done,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def to_json(event: _Event) -> str:
    return event.model_dump_json()


def from_json(text: str) -> Event:
    return EVENT_ADAPTER.validate_json(text)
