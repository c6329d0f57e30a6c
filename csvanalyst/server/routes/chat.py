"""Chat: one question answered as one JSON document, or as a live stream of Events (SSE)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from csvanalyst.events import Done, Event, UsageEvent
from csvanalyst.server.sse import EventStreamResponse, TurnBridge
from csvanalyst.server.state import ServerState, get_state

router = APIRouter(prefix="/chat", tags=["chat"])
State = Annotated[ServerState, Depends(get_state)]


class ChatBody(BaseModel):
    message: str = Field(min_length=1, max_length=20_000, description="The question, or `SQL: ...`.")
    dataset_id: str = Field(min_length=1, max_length=200)
    thread_id: str | None = Field(None, max_length=64, description="Continue this thread.")


def _bridge(state: ServerState, body: ChatBody) -> TurnBridge:
    """Admit the turn (429 beyond capacity), then start it in a worker thread."""
    state.admission.enter()
    try:
        return TurnBridge(lambda cancel: _turn(state, body, cancel), on_finish=state.admission.leave)
    except BaseException:
        state.admission.leave()
        raise


def _turn(state: ServerState, body: ChatBody, cancel: threading.Event) -> Iterator[Event]:
    from csvanalyst.core.query import DataScope

    session = state.session()
    scope = DataScope(dataset=body.dataset_id)
    stream = session.ask(body.message, scope, thread_id=body.thread_id, cancel=cancel)
    try:
        for event in stream:
            _count(state, event)
            yield event
    finally:
        stream.close()
        session.close()


def _count(state: ServerState, event: Event) -> None:
    if isinstance(event, Done):
        state.metrics.turns.labels(event.status).inc()
    elif isinstance(event, UsageEvent):
        state.metrics.tokens.labels("input").inc(event.input_tokens)
        state.metrics.tokens.labels("output").inc(event.output_tokens)


@router.post("", summary="Ask a question; one JSON answer (the same document as `ask --json`).")
async def chat(state: State, body: ChatBody) -> dict[str, Any]:
    from csvanalyst.core.summary import events_summary
    from csvanalyst.server.public import public_text

    summary = events_summary(await _bridge(state, body).collect())
    if "error" in summary:
        summary["error"] = {k: public_text(v) if k != "code" else v for k, v in summary["error"].items()}
    return summary


@router.post(
    "/stream",
    summary="Ask a question; the turn's Events as Server-Sent Events, one per message.",
    status_code=200,
    response_class=EventStreamResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "One SSE message per Event."}},
)
async def chat_stream(state: State, body: ChatBody) -> EventStreamResponse:
    return EventStreamResponse(_bridge(state, body), state.limits.heartbeat_s, state.metrics.aborted_streams.inc)
