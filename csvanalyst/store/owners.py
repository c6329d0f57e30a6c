"""Who runs a run: host, pid and process start time, so a dead owner's `running` runs can be repaired.

A pid alone is not enough (pids are reused), so the owner's start time is recorded too; on Linux it
comes from /proc. A run owned by another host is never touched: its liveness cannot be seen from here.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path

INTERRUPTED = {
    "code": "interrupted",
    "message": "The process running this query stopped before it finished.",
    "hint": "Run the query again.",
}


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    started: str  # the process's start time as the OS reports it; "" where it cannot be read


def start_time(pid: int) -> str | None:
    """The start time of process `pid` (clock ticks since boot, from /proc), "" if unknowable, None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]  # field 22 (starttime), counted after the command name


@cache
def this_process() -> Owner:
    pid = os.getpid()
    return Owner(socket.gethostname(), pid, start_time(pid) or "")


def is_gone(owner: Owner) -> bool:
    """True only when we can tell the owner has exited (same host, and its pid is dead or reused)."""
    if owner.host != socket.gethostname():
        return False
    if Path("/proc/self/stat").exists():
        now = start_time(owner.pid)
        return now is None or bool(owner.started and now and now != owner.started)
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def repair_orphaned_runs(db: sqlite3.Connection) -> int:
    """Mark `running` runs whose owner is gone as interrupted; live owners' runs are left alone."""
    from csvanalyst.store.db import transaction

    with transaction(db):
        rows = db.execute("SELECT id, owner_host, owner_pid, owner_started FROM runs WHERE status = 'running'")
        orphans = [row[0] for row in rows.fetchall() if _orphaned(row[1], row[2], row[3])]
        for run_id in orphans:
            db.execute(
                "UPDATE runs SET status = 'error', error_json = ?, finished_at = created_at"
                " WHERE id = ? AND status = 'running'",
                (json.dumps(INTERRUPTED), run_id),
            )
    return len(orphans)


def _orphaned(host: str | None, pid: int | None, started: str | None) -> bool:
    if host is None or pid is None:
        return True  # recorded before owners were: no process of this version can still hold it
    return is_gone(Owner(host, int(pid), started or ""))


_repaired: set[Path] = set()


def repair_once(store_path: Path) -> None:
    """Repair orphaned runs the first time this process uses `store_path` (every front end does)."""
    from csvanalyst.errors import CsvAnalystError
    from csvanalyst.store.db import opened

    if store_path in _repaired:
        return
    _repaired.add(store_path)
    try:
        with opened(store_path) as db:
            repair_orphaned_runs(db)
    except CsvAnalystError:
        pass  # the store cannot be opened: the front end reports that when it needs the store
    except sqlite3.Error:
        pass  # a read-only or full store: stale runs stay as they are until a later start
