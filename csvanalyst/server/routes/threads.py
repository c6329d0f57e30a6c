"""Threads: the conversations, and each one's questions and answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from csvanalyst.server.state import ServerState, get_state

if TYPE_CHECKING:
    from csvanalyst.core.records import Records

router = APIRouter(prefix="/threads", tags=["threads"])
State = Annotated[ServerState, Depends(get_state)]


@router.get("", summary="Recent threads, most recently updated first.")
async def recent(state: State, limit: Annotated[int, Query(ge=1, le=500)] = 20) -> list[dict[str, Any]]:
    def load() -> list[dict[str, Any]]:
        return [t.model_dump() for t in _records(state).recent_threads(limit=limit)]

    return await run_in_threadpool(load)


@router.get("/{thread_id}/messages", summary="The thread's questions and answers, in order.")
async def messages(state: State, thread_id: str) -> dict[str, Any]:
    def load() -> dict[str, Any]:
        thread, stored = _records(state).thread_messages(thread_id)
        return {"thread": thread.model_dump(), "messages": [m.model_dump() for m in stored]}

    return await run_in_threadpool(load)


def _records(state: ServerState) -> Records:
    from csvanalyst.core.records import Records

    return Records(state.settings)
