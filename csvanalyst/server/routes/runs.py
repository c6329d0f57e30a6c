"""Runs: execute SQL or a QueryPlan in the sandbox, inspect the capsule, download the result."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from csvanalyst.errors import CsvAnalystError
from csvanalyst.server import results
from csvanalyst.server.state import ServerState, get_state

if TYPE_CHECKING:
    from csvanalyst.core.records import RunRecord

router = APIRouter(prefix="/runs", tags=["runs"])
State = Annotated[ServerState, Depends(get_state)]
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json", "parquet": "application/vnd.apache.parquet"}


class RunBody(BaseModel):
    kind: Literal["sql", "plan", "python"] = "sql"
    code: str | dict[str, Any] = Field(description="SQL text, a QueryPlan (object or JSON text), or Python.")
    dataset_id: str = Field(min_length=1, max_length=200)


@router.post("", status_code=201, summary="Run SQL or a QueryPlan in the sandbox and record it.")
async def create(state: State, body: RunBody) -> dict[str, Any]:
    from csvanalyst.errors import CsvAnalystError
    from csvanalyst.server.sse import SHUTDOWN

    if SHUTDOWN.is_set():
        raise CsvAnalystError(
            "The server is shutting down and takes no new runs.", hint="Send it again in a moment.", code="interrupted"
        )
    with state.admitted():
        return await run_in_threadpool(_execute, state, body)


def _execute(state: ServerState, body: RunBody) -> dict[str, Any]:
    from csvanalyst.core.query import DataScope, execute

    text = body.code if isinstance(body.code, str) else json.dumps(body.code)
    from csvanalyst.server.sse import SHUTDOWN

    outcome = execute(
        body.kind,
        text,
        DataScope(dataset=body.dataset_id),
        settings=state.settings,
        executor=state.executor,
        cancel=SHUTDOWN,  # SIGTERM cancels a run in flight: it is recorded cancelled and answered as such
    )
    r = outcome.result
    columns = [c.model_dump() for c in r.columns]
    state.results.put(outcome.run_id, results.Table(columns, r.rows, r.row_count, r.truncated, complete=True))
    return {
        "run_id": outcome.run_id,
        "status": r.status,
        "sql": outcome.sql,
        "columns": columns,
        "rows": r.rows,
        "row_count": r.row_count,
        "truncated": r.truncated,
        "timings": r.timings,
    }


@router.get("", summary="Recent runs, newest first.")
async def recent(
    state: State, limit: Annotated[int, Query(ge=1, le=500)] = 20, dataset: str | None = None
) -> list[dict[str, Any]]:
    return await run_in_threadpool(_recent, state, limit, dataset)


def _recent(state: ServerState, limit: int, dataset: str | None) -> list[dict[str, Any]]:
    from csvanalyst.core.records import Records

    recent = Records(state.settings).recent_runs(limit=limit, dataset=dataset)
    return [r.model_dump(exclude={"preview", "request"}) for r in recent]


@router.get("/{run_id}", summary="The run capsule: input, SQL, executor, status, timings, preview.")
async def capsule(state: State, run_id: str) -> dict[str, Any]:
    record = await run_in_threadpool(_get, state, run_id)
    return {**record.model_dump(), "chart": await run_in_threadpool(_default_chart, record)}


def _default_chart(record: RunRecord) -> dict[str, Any] | None:
    """The chart a turn showed by default, so a reopened thread shows it again (None when none fits)."""
    if record.status != "ok" or not record.columns:
        return None
    from csvanalyst.core.records import finished_event
    from csvanalyst.viz.choose import default_chart

    return default_chart(finished_event(record))


@router.get("/{run_id}/status", summary="Just the run's status.")
async def status(state: State, run_id: str) -> dict[str, Any]:
    record = await run_in_threadpool(_get, state, run_id)
    return {"run_id": record.id, "status": record.status, "finished_at": record.finished_at, "error": record.error}


@router.get("/{run_id}/result", summary="The result as CSV, JSON or Parquet.", response_class=Response)
async def result(
    state: State, run_id: str, format: Annotated[Literal["csv", "json", "parquet"], Query()] = "json"
) -> Response:
    record = await run_in_threadpool(_get, state, run_id)
    table = state.results.get(record.id) or _from_preview(record)
    body = await run_in_threadpool(_encode, record.id, table, format)
    headers = {"X-Result-Complete": "true" if table.complete else "false"}
    if format != "json":
        headers["Content-Disposition"] = f'attachment; filename="run-{record.id}.{format}"'
    return Response(body, media_type=MEDIA[format], headers=headers)


def _encode(run_id: str, table: results.Table, format: str) -> bytes:
    if format == "csv":
        return results.as_csv(table)
    if format == "parquet":
        return results.as_parquet(table)
    return results.as_json(run_id, table)


def _from_preview(record: RunRecord) -> results.Table:
    if record.status != "ok":
        raise CsvAnalystError(
            f"Run {record.id} has no result: its status is {record.status}.",
            hint=f"See GET /runs/{record.id} for its error.",
            code="not_found",
        )
    complete = (record.row_count or 0) <= len(record.preview)
    return results.Table(record.columns, record.preview, record.row_count or 0, record.truncated, complete)


def _get(state: ServerState, run_id: str) -> RunRecord:
    from csvanalyst.core.records import Records

    return Records(state.settings).run(run_id)
