"""Threads: the conversations, and each one's questions and answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from csvanalyst.server.state import ServerState, get_state

router = APIRouter(prefix="/threads", tags=["threads"])
State = Annotated[ServerState, Depends(get_state)]


@router.get("", summary="Recent threads, most recently updated first.")
async def recent(state: State, limit: Annotated[int, Query(ge=1, le=500)] = 20) -> list[dict[str, Any]]:
    def load(db: Any) -> list[dict[str, Any]]:
        from csvanalyst.store import threads

        return [t.model_dump() for t in threads.recent(db, limit=limit)]

    return await run_in_threadpool(_with_store, state, load)


@router.get("/{thread_id}/messages", summary="The thread's questions and answers, in order.")
async def messages(state: State, thread_id: str) -> dict[str, Any]:
    def load(db: Any) -> dict[str, Any]:
        from csvanalyst.store import threads

        thread = threads.get(db, thread_id)
        return {"thread": thread.model_dump(), "messages": [m.model_dump() for m in threads.messages(db, thread.id)]}

    return await run_in_threadpool(_with_store, state, load)


def _with_store(state: ServerState, fn: Any) -> Any:
    from csvanalyst.store.db import connect

    db = connect(state.settings.store_path)
    try:
        return fn(db)
    finally:
        db.close()
