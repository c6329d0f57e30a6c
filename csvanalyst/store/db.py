"""Opening the SQLite store: WAL, foreign keys, busy timeout, migrations applied once per process."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from csvanalyst.errors import EnvironmentProblem
from csvanalyst.store import migrations

BUSY_TIMEOUT_S = 30.0


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the store at `path`, with migrations applied."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        db.row_factory = sqlite3.Row
        _use_wal(db)
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        migrations.apply(db)
    except (OSError, sqlite3.Error) as exc:
        raise EnvironmentProblem(
            f"Cannot open the store at {path}: {exc}.",
            hint="Check that CSVANALYST_HOME points to a writable directory.",
        ) from exc
    return db


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch to WAL, retrying while another opener holds the lock: this pragma does not wait on
    the busy timeout by itself, so two first opens of a new home would otherwise fail at once."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.01
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


_UNWRITABLE = ("disk i/o error", "database or disk is full", "readonly database", "unable to open database")


def is_unwritable(exc: BaseException) -> bool:
    """True when `exc` means the store cannot be written (full or read-only disk), not a bug."""
    cause = exc.__cause__ if isinstance(exc, EnvironmentProblem) else exc
    return isinstance(cause, (sqlite3.Error, OSError)) and any(s in str(cause).lower() for s in _UNWRITABLE)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Open the store for reading only: never writes, so reads work on a full or read-only disk.

    A WAL database needs its -shm file to be read normally; when even that cannot be created (the
    disk is full), the last checkpointed state is read as an immutable file. A store that does not
    exist yet, or still lacks migrations, is opened normally (there is nothing to read otherwise)."""
    if not path.is_file():
        return connect(path)
    for query in ("mode=ro", "immutable=1"):
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True, timeout=BUSY_TIMEOUT_S)
            db.row_factory = sqlite3.Row
            if migrations.pending(db):
                db.close()
                return connect(path)
            return db
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                break  # a writer holds it: the normal open waits for it instead of reading stale data
    return connect(path)  # raises the EnvironmentProblem that says what is wrong


@contextmanager
def opened(path: Path, *, readonly: bool = False) -> Iterator[sqlite3.Connection]:
    """The store at `path`, closed on leaving the block whatever happens in it."""
    db = connect_readonly(path) if readonly else connect(path)
    try:
        yield db
    finally:
        db.close()


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """An explicit write transaction: all or nothing, so a crash never leaves half a change."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
