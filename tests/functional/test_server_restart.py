"""Crash and restart: `csvanalyst serve` as a real child process, SIGKILLed while a sandbox run is in
flight, then started again on the same CSVANALYST_HOME.

What a crash leaves, and what the restart makes of it (documented in the README):
- the store (SQLite, WAL) passes `PRAGMA integrity_check`;
- the run that was executing is still `running` in the store; the restarted server marks it
  `error` with code `interrupted` before it serves anything;
- the thread exists and is readable, with no messages for the interrupted turn: the Session writes a
  turn's question and answer together when the turn ends, so a turn cut short leaves nothing half-written;
- the sandbox processes of the killed server die with it (bwrap --die-with-parent / PR_SET_PDEATHSIG);
- the restarted server answers a new turn on the same thread.
- the killed server's sandbox scratch folder (/tmp/csvanalyst-run-<pid>-*) is removed by the restart.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable

import httpx

from csvanalyst.config import get_settings
from csvanalyst.executors.local.launch import descendants
from tests.support.live import ServeProcess
from tests.support.processes import start_time
from tests.support.slow import NEVER_ENDING_SQL

SLOW_SQL = f"SQL: {NEVER_ENDING_SQL}"  # only the kill ends it
SERVE_ARGS = ("--timeout", "300")  # the sandbox deadline must not end the run before the kill does


def _wait_for(condition, limit_s: float = 60.0, what: Callable[[], str] = lambda: "condition not reached"):
    """Poll until `condition()` is truthy and return it; the limit is a hang guard, not a timing claim."""
    deadline = time.monotonic() + limit_s
    while not (value := condition()):
        assert time.monotonic() < deadline, what()
        time.sleep(0.05)
    return value


def _running_run(http: httpx.Client) -> dict | None:
    return next((r for r in http.get("/runs").json() if r["status"] == "running"), None)


def test_sigkill_mid_turn_then_restart_recovers() -> None:
    store = get_settings().store_path
    outcome: dict[str, object] = {}

    def ask(url: str) -> None:  # the client whose turn is in flight when the server dies
        try:
            with httpx.stream(
                "POST", f"{url}/chat/stream", json={"message": SLOW_SQL, "dataset_id": "retail"}, timeout=120
            ) as response:
                outcome["body"] = "".join(response.iter_text())
        except httpx.HTTPError as exc:
            outcome["error"] = type(exc).__name__

    with ServeProcess(SERVE_ARGS) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        client = threading.Thread(target=ask, args=(server.url,))
        client.start()
        run = _wait_for(lambda: _running_run(http))
        sandbox = _wait_for(lambda: descendants(server.pid))  # the run's sandbox process is up
        scratch = _scratch_dirs(sandbox)
        sandbox_started = {pid: start_time(pid) for pid in sandbox}
        assert scratch, "the run has a scratch folder"
        server.kill()
        client.join(timeout=60)
    assert "error" in outcome or '"done"' not in str(outcome.get("body")), outcome  # the stream was cut
    _wait_for(
        lambda: not _survivors(sandbox_started),
        limit_s=30,
        what=lambda: f"sandbox processes outlived the server: {_survivors(sandbox_started)}",
    )

    db = sqlite3.connect(store)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("SELECT status FROM runs WHERE id = ?", (run["id"],)).fetchone() == ("running",)
    finally:
        db.close()

    run_id = run["id"]
    thread_id = run["thread_id"]
    with ServeProcess(SERVE_ARGS) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        assert http.get("/readyz").status_code == 200
        assert [folder for folder in scratch if os.path.exists(folder)] == [], "the restart sweeps the dead scratch"
        status = http.get(f"/runs/{run_id}/status").json()
        assert status["status"] == "error" and status["error"]["code"] == "interrupted"
        assert http.get(f"/runs/{run_id}").json()["thread_id"] == thread_id
        thread = http.get(f"/threads/{thread_id}/messages")
        assert thread.status_code == 200
        assert thread.json()["messages"] == []  # the cut turn left no half-written message
        assert thread_id in [t["id"] for t in http.get("/threads").json()]

        body = {"message": "SQL: SELECT 42 AS x", "dataset_id": "retail", "thread_id": thread_id}
        again = http.post("/chat", json=body)
        assert again.status_code == 200 and again.json()["status"] == "answered", again.text
        assert again.json()["runs"][0]["rows"] == [[42]]
        messages = http.get(f"/threads/{thread_id}/messages").json()["messages"]
        assert [(m["role"], m["status"]) for m in messages] == [("user", "answered"), ("assistant", "answered")]
    assert any("marked interrupted runs as failed" in line for line in server.log_lines)


def _survivors(pids: dict[int, str | None]) -> dict[int, str]:
    """The processes among `pids` still running, with their command lines (to tell what escaped).
    A pid counts only while its start time is the recorded one: a reused pid is another process."""
    found = {}
    for pid, started in pids.items():
        if started is not None and start_time(pid) == started:
            try:
                with open(f"/proc/{pid}/cmdline") as handle:
                    found[pid] = handle.read().replace("\0", " ")[:300]
            except OSError:
                continue
    return found


def _scratch_dirs(pids: list[int]) -> set[str]:
    found: set[str] = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline") as handle:
                found |= set(re.findall(r"/tmp/csvanalyst-run-\w+", handle.read().replace("\0", " ")))
        except OSError:
            pass
    return found
