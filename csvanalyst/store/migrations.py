"""Numbered migrations; each runs once, inside a transaction, and is recorded in `migrations`."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


def _001_initial(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE datasets (
            name TEXT PRIMARY KEY,
            origin TEXT NOT NULL,            -- demo | user
            source_path TEXT NOT NULL,       -- the CSV file or folder the user registered
            fingerprint TEXT NOT NULL,
            info_json TEXT NOT NULL,         -- DatasetInfo: tables, columns, profile, cache paths
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            dataset TEXT,
            fingerprint TEXT,
            kind TEXT NOT NULL,              -- sql | plan | python
            input TEXT NOT NULL,             -- what the user or model gave
            compiled_sql TEXT,
            executor TEXT,
            status TEXT NOT NULL,            -- running, then ok|error|rejected|timeout|oom|sandbox_error
            row_count INTEGER,
            truncated INTEGER,
            timings_json TEXT,
            columns_json TEXT,
            preview_json TEXT,
            error_json TEXT,
            request_json TEXT,               -- tables and limits: enough to replay
            scope_json TEXT,                 -- {"dataset": name} or {"files": [paths]}: what to replay on
            thread_id TEXT,
            finished_at TEXT
        )"""
    )
    db.execute("CREATE INDEX runs_created ON runs(created_at)")


def _002_threads(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE threads (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            scope_json TEXT NOT NULL,        -- the data the thread asks about
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            thread_id TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
            role TEXT NOT NULL,              -- user | assistant
            content TEXT NOT NULL,
            run_ids_json TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL DEFAULT 'answered',  -- answered | declined | failed | cancelled
            created_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX messages_thread ON messages(thread_id, id)")


def _003_run_owners(db: sqlite3.Connection) -> None:
    # Who runs a run, so only runs whose process is gone are repaired as interrupted.
    db.execute("ALTER TABLE runs ADD COLUMN owner_host TEXT")
    db.execute("ALTER TABLE runs ADD COLUMN owner_pid INTEGER")
    db.execute("ALTER TABLE runs ADD COLUMN owner_started TEXT")


MIGRATIONS: list[tuple[int, Callable[[sqlite3.Connection], None]]] = [
    (1, _001_initial),
    (2, _002_threads),
    (3, _003_run_owners),
]


def apply(db: sqlite3.Connection) -> None:
    """Apply missing migrations; each is checked and run inside one write transaction, so two
    processes opening a new home at once never both run it."""
    db.execute("CREATE TABLE IF NOT EXISTS migrations (number INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    if pending(db) == []:
        return
    for number, migrate in MIGRATIONS:
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("SELECT 1 FROM migrations WHERE number = ?", (number,)).fetchone() is None:
                migrate(db)
                db.execute("INSERT INTO migrations VALUES (?, datetime('now'))", (number,))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def pending(db: sqlite3.Connection) -> list[int]:
    """Numbers of the migrations this store has not applied yet (a read, no lock taken)."""
    applied = {row[0] for row in db.execute("SELECT number FROM migrations")}
    return [number for number, _ in MIGRATIONS if number not in applied]
