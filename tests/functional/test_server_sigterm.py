"""SIGTERM under load: `csvanalyst serve` stops its turns in flight within the grace period.

Every open stream ends with an `error` and a `done` event, a `POST /runs` in flight is answered with a
`cancelled` problem (not a 500), the runs in flight are recorded (cancelled, not left `running`), and
the process exits on its own.
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
    posted: list[httpx.Response] = []

    def ask(url: str) -> None:
        with httpx.stream(
            "POST", f"{url}/chat/stream", json={"message": SLOW_SQL, "dataset_id": "retail"}, timeout=120
        ) as response:
            bodies.append("".join(response.iter_text()))

    def post_run(url: str) -> None:
        body = {"code": SLOW_SQL.removeprefix("SQL: "), "dataset_id": "retail"}
        posted.append(httpx.post(f"{url}/runs", json=body, timeout=120))

    with ServeProcess((*SERVE_ARGS, "--max-runs", str(STREAMS + 1))) as server:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            clients = [threading.Thread(target=ask, args=(server.url,)) for _ in range(STREAMS)]
            clients.append(threading.Thread(target=post_run, args=(server.url,)))
            for client in clients:
                client.start()
            _wait_for(lambda: len([r for r in http.get("/runs").json() if r["status"] == "running"]) == STREAMS + 1)
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
    assert len(statuses) == STREAMS + 1
    assert len(posted) == 1 and posted[0].status_code != 500, posted
    assert posted[0].json()["code"] == "cancelled", posted[0].text
    assert all(status == "error" and "cancelled" in (error or "") for status, error in statuses), statuses
