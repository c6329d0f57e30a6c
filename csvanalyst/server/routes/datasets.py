"""Datasets: list, schema, upload (validated before it is registered), delete."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from csvanalyst.server import uploads
from csvanalyst.server.state import ServerState, get_state

router = APIRouter(prefix="/datasets", tags=["datasets"])
log = logging.getLogger("csvanalyst.server.ingest")
State = Annotated[ServerState, Depends(get_state)]


@router.get("", summary="Registered and demo datasets.")
async def list_all() -> list[dict[str, Any]]:
    from csvanalyst.catalog.registry import list_datasets
    from csvanalyst.server.public import public_schema

    return [public_schema(d.model_dump()) for d in await run_in_threadpool(list_datasets)]


@router.get("/{dataset_id}/schema", summary="Tables, columns, types and column statistics.")
async def schema(dataset_id: str) -> dict[str, Any]:
    return await run_in_threadpool(_describe, dataset_id)


def _describe(dataset_id: str) -> dict[str, Any]:
    from csvanalyst.catalog.describe import describe_dataset
    from csvanalyst.catalog.registry import get_dataset
    from csvanalyst.server.public import public_schema

    described: dict[str, Any] = public_schema(describe_dataset(get_dataset(dataset_id)))
    return described


@router.post("", status_code=201, summary="Upload a CSV file as a new dataset.")
async def upload(
    state: State,
    file: Annotated[UploadFile, File(description="The CSV file.")],
    name: Annotated[str | None, Form(description="Dataset name (default: the file's name).")] = None,
) -> dict[str, Any]:
    return await run_in_threadpool(_register, state, file, name)


def _register(state: ServerState, file: UploadFile, name: str | None) -> dict[str, Any]:
    from csvanalyst.catalog.describe import describe_dataset
    from csvanalyst.catalog.registry import add_dataset

    path = uploads.save(file.file, file.filename, state.uploads_dir)
    try:
        info = add_dataset(path, name=name or uploads.safe_stem(file.filename), progress=_logged())
    except BaseException:
        uploads.discard(path, state.uploads_dir)
        raise
    from csvanalyst.server.public import public_schema

    described: dict[str, Any] = public_schema(describe_dataset(info))
    return described


def _logged() -> Callable[[str, float], None]:
    """Progress of an upload's ingest in the server log: a start, every quarter of the file, and the end."""
    last = -1

    def report(stage: str, fraction: float) -> None:
        nonlocal last
        quarter = int(fraction * 4)
        if quarter != last or fraction >= 1.0:
            last = quarter
            log.info("ingest: %s (%.0f%%)", stage, fraction * 100)

    return report


@router.delete("/{dataset_id}", status_code=204, summary="Forget a dataset (and delete it if it was uploaded).")
async def delete(state: State, dataset_id: str) -> Response:
    await run_in_threadpool(_remove, state, dataset_id)
    return Response(status_code=204)


def _remove(state: ServerState, dataset_id: str) -> None:
    from csvanalyst.catalog.registry import list_datasets, remove_dataset

    source = next((d.source for d in list_datasets() if d.name == dataset_id), None)
    remove_dataset(dataset_id)
    if source:
        uploads.discard(Path(source), state.uploads_dir)
