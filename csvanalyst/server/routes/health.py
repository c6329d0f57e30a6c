"""Liveness, readiness and metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from csvanalyst.errors import CsvAnalystError, EnvironmentProblem
from csvanalyst.server.state import ServerState, get_state

router = APIRouter(tags=["health"])
State = Annotated[ServerState, Depends(get_state)]


@router.get("/healthz", summary="Liveness: the process answers.")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the store opens and the sandbox is usable.")
async def readyz(state: State) -> dict[str, object]:
    checks = await run_in_threadpool(_checks, state)
    failed = {k: v for k, v in checks.items() if v != "ok"}
    if failed:
        raise EnvironmentProblem(
            "Not ready: " + "; ".join(f"{k}: {v}" for k, v in failed.items()) + ".",
            hint="Run `csvanalyst doctor` on the server's machine.",
        )
    return {"status": "ready", "checks": checks, "executor": state.executor.name}


def _checks(state: ServerState) -> dict[str, str]:
    from csvanalyst.core.records import Records

    checks: dict[str, str] = {}
    try:
        Records(state.settings).run_count()
        checks["store"] = "ok"
    except CsvAnalystError as exc:
        checks["store"] = exc.message
    checks["sandbox"] = state.executor.ready()
    return checks


@router.get("/metrics", summary="Prometheus metrics.", response_class=Response)
def metrics(state: State) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
