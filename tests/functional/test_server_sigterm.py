"""SIGTERM under load: `csvanalyst serve` stops its turns in flight within the grace period.

Every open stream ends with an `error` and a `done` event, the runs in flight are recorded (cancelled,
not left `running`), and the process exits on its own.
"""

from __future__ import annotations

import signal
import sqlite3
import threading

import httpx

from csvanalyst.config import get_settings
from tests.functional.test_server_restart import SERVE_ARGS, SLOW_SQL, _wait_for
from tests.support.live import ServeProcess

STREAMS = 3


def test_sigterm_ends_every_stream_with_error_and_done_and_records_the_runs() -> None:
    bodies: list[str] = []

    def ask(url: str) -> None:
        with httpx.stream(
            "POST", f"{url}/chat/stream", json={"message": SLOW_SQL, "dataset_id": "retail"}, timeout=120
        ) as response:
            bodies.append("".join(response.iter_text()))

    with ServeProcess((*SERVE_ARGS, "--max-runs", str(STREAMS))) as server:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            clients = [threading.Thread(target=ask, args=(server.url,)) for _ in range(STREAMS)]
            for client in clients:
                client.start()
            _wait_for(lambda: len([r for r in http.get("/runs").json() if r["status"] == "running"]) == STREAMS)
        server.process.send_signal(signal.SIGTERM)
        for client in clients:
            client.join(timeout=120)
        # uvicorn re-raises the signal once it has shut down, so the exit status is SIGTERM's.
        assert server.process.wait(timeout=60) in (0, -signal.SIGTERM)
    assert len(bodies) == STREAMS
    for body in bodies:
        assert "event: error" in body and "shutting down" in body and "event: done" in body, body[-600:]
    db = sqlite3.connect(get_settings().store_path)
    try:
        statuses = db.execute("SELECT status, error_json FROM runs").fetchall()
    finally:
        db.close()
    assert len(statuses) == STREAMS
    assert all(status == "error" and "cancelled" in (error or "") for status, error in statuses), statuses
