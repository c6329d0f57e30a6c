"""Run status stays honest: runs of a process killed with -9 are repaired, live processes' runs are not."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from pathlib import Path

from csvanalyst.config import get_settings
from csvanalyst.core.session import Session
from csvanalyst.server.recovery import fail_interrupted_runs
from csvanalyst.store import runs
from csvanalyst.store.db import connect


def _start_run_and_wait(store: str, started: object) -> None:
    db = connect(Path(store))
    run_id = runs.start(db, dataset="d", fingerprint="f", kind="sql", input="SELECT 1")
    started.put(run_id)  # type: ignore[attr-defined]
    threading.Event().wait()  # a run in flight until the test ends this process


def _owner_with_a_run(store: Path) -> tuple[multiprocessing.process.BaseProcess, str]:
    spawn = multiprocessing.get_context("spawn")
    started = spawn.Queue()
    child = spawn.Process(target=_start_run_and_wait, args=(str(store), started), daemon=True)
    child.start()
    return child, started.get(timeout=60)


def _status(store: Path, run_id: str) -> tuple[str, str | None]:
    db = connect(store)
    try:
        record = runs.get(db, run_id)
    finally:
        db.close()
    return record.status, (record.error or {}).get("code")


def test_only_runs_of_dead_owners_are_repaired_by_every_front_end() -> None:
    store = get_settings().store_path
    dead, dead_run = _owner_with_a_run(store)
    live, live_run = _owner_with_a_run(store)
    try:
        os.kill(dead.pid, signal.SIGKILL)
        dead.join()
        Session(provider="offline")  # what ask, chat and serve all build first
        assert _status(store, dead_run) == ("error", "interrupted")
        assert fail_interrupted_runs(store) == 0  # the server's start-up repair finds nothing more
        assert _status(store, live_run) == ("running", None), "a live process's run must stay running"
    finally:
        live.kill()
        live.join()
    assert fail_interrupted_runs(store) == 1
    assert _status(store, live_run) == ("error", "interrupted")
