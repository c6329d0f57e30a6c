"""Load test of `csvanalyst serve` on loopback: concurrent SSE chats and a burst of POST /runs.

Bounded in count and time; it talks only to a server it starts on 127.0.0.1. `run()` returns the
figures `make bench` reports: throughput, p50/p95 latency, errors (429s counted apart), server RSS,
a bounded soak (bench/soak.py: p50/p95, RSS and fds at its start and end), and a crash drill:
`csvanalyst serve` as a child process SIGKILLed mid-run, then restarted.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

CHAT_CLIENTS = int(os.environ.get("BENCH_SERVER_CHATS", "50"))
RUN_BURST = int(os.environ.get("BENCH_SERVER_RUNS", "100"))
REQUEST_LIMIT_S = 120.0
SQL = "SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY n DESC"


def _rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _scripted():  # -> ScriptedModel
    from csvanalyst.testing.scripted import ScriptedModel, answer, call, last_tool_result

    def reply(messages):
        result = last_tool_result(messages)
        return answer(f"Most orders are {result['rows'][0][0]} (run {result['run_id']}).")

    return ScriptedModel([call("run_sql", {"sql": SQL}), reply])


def _chat(url: str) -> tuple[float, str]:
    started = time.perf_counter()
    with (
        httpx.Client(timeout=REQUEST_LIMIT_S) as http,
        http.stream(
            "POST", f"{url}/chat/stream", json={"message": "most common status", "dataset_id": "retail"}
        ) as response,
    ):
        if response.status_code != 200:
            return time.perf_counter() - started, str(response.status_code)
        text = "".join(response.iter_text())
    ok = '"status":"answered"' in text
    return time.perf_counter() - started, "ok" if ok else "bad_stream"


def _run(url: str) -> tuple[float, str]:
    started = time.perf_counter()
    response = httpx.post(f"{url}/runs", json={"code": SQL, "dataset_id": "retail"}, timeout=REQUEST_LIMIT_S)
    return time.perf_counter() - started, "ok" if response.status_code == 201 else str(response.status_code)


def _phase(fn, url: str, count: int, workers: int) -> dict[str, float]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(lambda _: fn(url), range(count)))
    wall = time.perf_counter() - started
    latencies = sorted(t for t, status in outcomes if status == "ok")
    rejected = sum(1 for _, status in outcomes if status == "429")
    return {
        "requests": count,
        "ok": len(latencies),
        "rejected_429": rejected,
        "errors": count - len(latencies) - rejected,
        "throughput_per_s": round(len(latencies) / wall, 2),
        "p50_s": round(statistics.median(latencies), 3) if latencies else 0.0,
        "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3) if latencies else 0.0,
    }


SLOW_SQL = "SQL: SELECT count(*) FROM range(3000000000) WHERE hash(range) % 7 = 0"


def kill_restart() -> dict[str, float]:
    """SIGKILL `csvanalyst serve` while a sandbox run is in flight, restart it on the same home, check it."""
    import sqlite3
    import threading

    from csvanalyst.config import get_settings
    from tests.support.live import ServeProcess

    args = ("--timeout", "300")

    def ask(url: str) -> None:
        with contextlib.suppress(httpx.HTTPError):  # expected: the server dies under it
            httpx.post(f"{url}/chat", json={"message": SLOW_SQL, "dataset_id": "retail"}, timeout=REQUEST_LIMIT_S)

    with ServeProcess(args) as server, httpx.Client(base_url=server.url, timeout=REQUEST_LIMIT_S) as http:
        threading.Thread(target=ask, args=(server.url,), daemon=True).start()
        deadline = time.monotonic() + REQUEST_LIMIT_S
        while not (running := [r for r in http.get("/runs").json() if r["status"] == "running"]):
            if time.monotonic() > deadline:
                raise RuntimeError("the slow run never started")
            time.sleep(0.05)
        time.sleep(1.0)
        server.kill()
    run = running[0]
    db = sqlite3.connect(get_settings().store_path)
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    db.close()
    killed = time.perf_counter()
    with ServeProcess(args) as server, httpx.Client(base_url=server.url, timeout=REQUEST_LIMIT_S) as http:
        ready = http.get("/readyz").status_code == 200
        restart_s = time.perf_counter() - killed
        status = http.get(f"/runs/{run['id']}/status").json()
        thread = http.get(f"/threads/{run['thread_id']}/messages")
        body = {"message": "SQL: SELECT 42 AS x", "dataset_id": "retail", "thread_id": run["thread_id"]}
        started = time.perf_counter()
        again = http.post("/chat", json=body).json()
        turn_s = time.perf_counter() - started
    return {
        "store_integrity_ok": float(integrity == "ok"),
        "restart_to_ready_s": round(restart_s, 2) if ready else -1.0,
        "run_marked_interrupted": float(status["status"] == "error" and status["error"]["code"] == "interrupted"),
        "thread_readable": float(thread.status_code == 200),
        "thread_messages_after_kill": float(len(thread.json()["messages"])),
        "new_turn_answered": float(again.get("status") == "answered"),
        "new_turn_s": round(turn_s, 2),
    }


def run() -> dict[str, float]:
    os.environ.setdefault("CSVANALYST_HOME", tempfile.mkdtemp(prefix="csvanalyst-bench-server-"))
    from csvanalyst.server.app import create_app
    from csvanalyst.server.limits import ServerLimits
    from tests.support.live import serve_in_thread

    app = create_app(client_factory=_scripted, limits=ServerLimits(max_runs=4, max_queue=64))
    figures: dict[str, float] = {}
    with serve_in_thread(app) as live:
        httpx.get(f"{live.url}/datasets/retail/schema", timeout=REQUEST_LIMIT_S)  # build the demo cache once
        figures["rss_before_mb"] = round(_rss_mb(), 1)
        chat = _phase(_chat, live.url, CHAT_CLIENTS, CHAT_CLIENTS)
        runs = _phase(_run, live.url, RUN_BURST, RUN_BURST)
        figures["rss_after_mb"] = round(_rss_mb(), 1)
        from bench.soak import soak

        soaked = soak(live.url, [_run, _chat])
    figures.update({f"chat_stream_{k}": v for k, v in chat.items()})
    figures.update({f"runs_burst_{k}": v for k, v in runs.items()})
    figures.update({f"soak_{k}": v for k, v in soaked.items()})
    figures.update({f"kill_restart_{k}": v for k, v in kill_restart().items()})
    return figures


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:32} {value}")
