"""Run capsules: every query that reaches the executor is recorded, with enough to replay it."""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from csvanalyst.store.db import transaction
from csvanalyst.store.owners import this_process

PREVIEW_ROWS = 50


class RunRecord(BaseModel):
    """One row of the `runs` table, decoded."""

    id: str
    created_at: str
    dataset: str | None
    fingerprint: str | None
    kind: str
    input: str
    compiled_sql: str | None
    executor: str | None
    status: str
    row_count: int | None
    truncated: bool
    timings: dict[str, float]
    columns: list[dict[str, str]]
    preview: list[list[Any]]
    error: dict[str, Any] | None
    request: dict[str, Any] | None
    scope: dict[str, Any]
    thread_id: str | None
    finished_at: str | None


def new_run_id() -> str:
    """Time-ordered, short enough to type: 11 hex digits of milliseconds + 6 random."""
    return f"{int(time.time() * 1000):011x}{secrets.token_hex(3)}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def start(
    db: sqlite3.Connection,
    *,
    dataset: str | None,
    fingerprint: str | None,
    kind: str,
    input: str,
    scope: dict[str, Any] | None = None,
    thread_id: str | None = None,
) -> str:
    """Record a run before anything executes, so even a crash leaves a trace."""
    run_id = new_run_id()
    owner = this_process()
    with transaction(db):
        db.execute(
            "INSERT INTO runs (id, created_at, dataset, fingerprint, kind, input, status, scope_json,"
            " thread_id, owner_host, owner_pid, owner_started) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)",
            (
                run_id,
                _now(),
                dataset,
                fingerprint,
                kind,
                input,
                json.dumps(scope or {}),
                thread_id,
                owner.host,
                owner.pid,
                owner.started,
            ),
        )
    return run_id


def finish(
    db: sqlite3.Connection,
    run_id: str,
    *,
    status: str,
    compiled_sql: str | None = None,
    executor: str | None = None,
    row_count: int | None = None,
    truncated: bool = False,
    timings: dict[str, float] | None = None,
    columns: list[dict[str, str]] | None = None,
    rows: list[list[Any]] | None = None,
    error: dict[str, Any] | None = None,
    request: dict[str, Any] | None = None,
) -> None:
    """Close a capsule with its final status; the preview keeps the first rows only."""
    with transaction(db):
        db.execute(
            "UPDATE runs SET status=?, compiled_sql=?, executor=?, row_count=?, truncated=?, timings_json=?,"
            " columns_json=?, preview_json=?, error_json=?, request_json=?, finished_at=? WHERE id=?",
            (
                status,
                compiled_sql,
                executor,
                row_count,
                int(truncated),
                json.dumps(timings or {}),
                json.dumps(columns or []),
                json.dumps((rows or [])[:PREVIEW_ROWS], default=str),
                json.dumps(error) if error else None,
                json.dumps(request) if request else None,
                _now(),
                run_id,
            ),
        )


def cancel_if_running(db: sqlite3.Connection, run_id: str, *, message: str) -> None:
    """Record a run as cancelled at once (Ctrl-C), unless it already has its final status."""
    error = json.dumps({"code": "interrupted", "message": message})
    with transaction(db):
        db.execute(
            "UPDATE runs SET status='cancelled', error_json=?, finished_at=? WHERE id=? AND status='running'",
            (error, _now(), run_id),
        )


def _decode(row: sqlite3.Row) -> RunRecord:
    def load(text: str | None, default: Any) -> Any:
        return json.loads(text) if text else default

    return RunRecord(
        id=row["id"],
        created_at=row["created_at"],
        dataset=row["dataset"],
        fingerprint=row["fingerprint"],
        kind=row["kind"],
        input=row["input"],
        compiled_sql=row["compiled_sql"],
        executor=row["executor"],
        status=row["status"],
        row_count=row["row_count"],
        truncated=bool(row["truncated"]),
        timings=load(row["timings_json"], {}),
        columns=load(row["columns_json"], []),
        preview=load(row["preview_json"], []),
        error=load(row["error_json"], None),
        request=load(row["request_json"], None),
        scope=load(row["scope_json"], {}),
        thread_id=row["thread_id"],
        finished_at=row["finished_at"],
    )


def get(db: sqlite3.Connection, run_id: str) -> RunRecord:
    """A run by full id, unique prefix or suffix (at least 4 characters), or `last`."""
    from csvanalyst.store.ids import resolve_id

    full = resolve_id(db, "runs", run_id)
    return _decode(db.execute("SELECT * FROM runs WHERE id = ?", (full,)).fetchone())


def of_thread_since(db: sqlite3.Connection, thread_id: str, created_at: str) -> list[RunRecord]:
    """The runs of a thread recorded at or after `created_at` (an ISO time as the store writes it)."""
    rows = db.execute(
        "SELECT * FROM runs WHERE thread_id = ? AND created_at >= ? ORDER BY rowid", (thread_id, created_at)
    ).fetchall()
    return [_decode(r) for r in rows]


def recent(db: sqlite3.Connection, limit: int = 20, dataset: str | None = None) -> list[RunRecord]:
    """The newest runs first, in the order they were started (rowid), also within one millisecond."""
    if dataset:
        rows = db.execute(
            "SELECT * FROM runs WHERE dataset = ? ORDER BY rowid DESC LIMIT ?", (dataset, limit)
        ).fetchall()
    else:
        rows = db.execute("SELECT * FROM runs ORDER BY rowid DESC LIMIT ?", (limit,)).fetchall()
    return [_decode(r) for r in rows]
