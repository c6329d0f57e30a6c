"""Conversation threads: a turn is stored whole (question + answer) in one transaction, or not at all.

Only questions and final answers are kept; tool traffic lives in the run capsules the answer names. That
keeps a thread consistent whatever happens mid-turn and keeps the history sent to a model small.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from csvanalyst.store.db import transaction


class ThreadRecord(BaseModel):
    id: str
    title: str
    scope: dict[str, Any]
    created_at: str
    updated_at: str
    turns: int = 0


class MessageRecord(BaseModel):
    id: int
    thread_id: str
    role: str
    content: str
    run_ids: list[str]
    status: str
    created_at: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_thread_id() -> str:
    return f"t{int(time.time()):x}{secrets.token_hex(2)}"


def create(db: sqlite3.Connection, *, title: str, scope: dict[str, Any]) -> str:
    thread_id = new_thread_id()
    now = _now()
    with transaction(db):
        db.execute(
            "INSERT INTO threads (id, title, scope_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (thread_id, title[:120], json.dumps(scope), now, now),
        )
    return thread_id


def get(db: sqlite3.Connection, thread_id: str) -> ThreadRecord:
    """A thread by full id, unique prefix or suffix (at least 4 characters), or `last`."""
    from csvanalyst.store.ids import resolve_id

    full = resolve_id(db, "threads", thread_id)
    row = db.execute(
        "SELECT t.*, (SELECT count(*) FROM messages m WHERE m.thread_id = t.id AND m.role = 'user') AS turns"
        " FROM threads t WHERE t.id = ?",
        (full,),
    ).fetchone()
    return _decode(row)


def _decode(row: sqlite3.Row) -> ThreadRecord:
    return ThreadRecord(
        id=row["id"],
        title=row["title"],
        scope=json.loads(row["scope_json"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        turns=row["turns"],
    )


def recent(db: sqlite3.Connection, limit: int = 20) -> list[ThreadRecord]:
    rows = db.execute(
        "SELECT t.*, (SELECT count(*) FROM messages m WHERE m.thread_id = t.id AND m.role = 'user') AS turns"
        " FROM threads t ORDER BY t.updated_at DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [_decode(r) for r in rows]


def add_turn(
    db: sqlite3.Connection, thread_id: str, *, question: str, answer: str, run_ids: list[str], status: str
) -> None:
    """Append one question and its answer atomically."""
    now = _now()
    with transaction(db):
        db.execute(
            "INSERT INTO messages (thread_id, role, content, created_at) VALUES (?, 'user', ?, ?)",
            (thread_id, question, now),
        )
        db.execute(
            "INSERT INTO messages (thread_id, role, content, run_ids_json, status, created_at)"
            " VALUES (?, 'assistant', ?, ?, ?, ?)",
            (thread_id, answer, json.dumps(run_ids), status, now),
        )
        db.execute("UPDATE threads SET updated_at = ? WHERE id = ?", (now, thread_id))


def messages(db: sqlite3.Connection, thread_id: str, *, last_turns: int | None = None) -> list[MessageRecord]:
    """The thread's messages in order; `last_turns` keeps only the most recent question/answer pairs."""
    rows = db.execute("SELECT * FROM messages WHERE thread_id = ? ORDER BY id", (thread_id,)).fetchall()
    records = [
        MessageRecord(
            id=r["id"],
            thread_id=r["thread_id"],
            role=r["role"],
            content=r["content"],
            run_ids=json.loads(r["run_ids_json"]),
            status=r["status"],
            created_at=r["created_at"],
        )
        for r in rows
    ]
    if last_turns is not None:
        records = records[-2 * last_turns :] if last_turns > 0 else []
    return records
