"""SQL for the `datasets` table: one row per registered (or profiled demo) dataset."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def upsert(
    db: sqlite3.Connection, *, name: str, origin: str, source_path: str, fingerprint: str, info_json: str
) -> None:
    """Insert or replace a dataset row, keeping its original `created_at`."""
    now = _now()
    db.execute(
        """INSERT INTO datasets (name, origin, source_path, fingerprint, info_json, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET origin = excluded.origin, source_path = excluded.source_path,
             fingerprint = excluded.fingerprint, info_json = excluded.info_json,
             updated_at = excluded.updated_at""",
        (name, origin, source_path, fingerprint, info_json, now, now),
    )


def get(db: sqlite3.Connection, name: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute("SELECT * FROM datasets WHERE name = ?", (name,)).fetchone()
    return row


def list_all(db: sqlite3.Connection) -> list[sqlite3.Row]:
    return db.execute("SELECT * FROM datasets ORDER BY name").fetchall()


def delete(db: sqlite3.Connection, name: str) -> bool:
    """Remove a dataset row; True if there was one."""
    return db.execute("DELETE FROM datasets WHERE name = ?", (name,)).rowcount > 0
