"""The first use of a new home by many processes at once: every open succeeds, migrations run once."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

OPENERS = 32


def _open_in_child(path: str, barrier: object, results: object) -> None:
    from csvanalyst.store.db import connect

    barrier.wait()  # type: ignore[attr-defined]
    try:
        connect(Path(path)).close()
        results.put("ok")  # type: ignore[attr-defined]
    except Exception as exc:  # reported to the parent, which fails the test with it
        results.put(repr(exc))  # type: ignore[attr-defined]


def test_many_synchronized_first_opens_all_succeed(tmp_path: Path) -> None:
    from csvanalyst.store.migrations import MIGRATIONS

    path = tmp_path / "fresh-home" / "csvanalyst.db"
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(OPENERS), spawn.Queue()
    children = [spawn.Process(target=_open_in_child, args=(str(path), barrier, results)) for _ in range(OPENERS)]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=120) for _ in children]
    for child in children:
        child.join()
    assert [o for o in outcomes if o != "ok"] == []
    with sqlite3.connect(path) as db:
        applied = [row[0] for row in db.execute("SELECT number FROM migrations ORDER BY number")]
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert applied == [number for number, _ in MIGRATIONS]
    assert mode == "wal"
