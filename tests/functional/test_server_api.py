"""The HTTP API through the real uvicorn on loopback, with the ScriptedModel and the local sandbox."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from csvanalyst.events import from_json
from csvanalyst.llm.base import Message, Turn
from csvanalyst.server.app import create_app
from csvanalyst.server.limits import ServerLimits
from csvanalyst.testing.scripted import ScriptedModel, answer, call, last_tool_result
from tests.support.live import serve_in_thread

STATUS_SQL = "SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY n DESC"
GATE = threading.Event()  # a scripted step can wait on it, to hold a turn open mid-way


def _answer_from_result(messages: list[Message]) -> Turn:
    result = last_tool_result(messages)
    return answer(f"The most common status is {result['rows'][0][0]} (run {result['run_id']}).")


def _held_answer(messages: list[Message]) -> Turn:
    GATE.wait(timeout=30)
    return _answer_from_result(messages)


def _scripted() -> ScriptedModel:
    return ScriptedModel([call("run_sql", {"sql": STATUS_SQL}), _answer_from_result])


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    app = create_app(client_factory=_scripted, limits=ServerLimits(heartbeat_s=0.2))
    with serve_in_thread(app) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        yield http


def _events(http: httpx.Client, body: dict) -> list:
    with http.stream("POST", "/chat/stream", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    return [from_json(line[len("data: ") :]) for line in lines]


def test_probes_and_request_ids(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"store": "ok", "sandbox": "ok"}
    assert client.get("/healthz", headers={"x-request-id": "trace-42"}).headers["x-request-id"] == "trace-42"
    generated = client.get("/healthz", headers={"x-request-id": "bad id\twith spaces"}).headers["x-request-id"]
    assert generated != "bad id\twith spaces" and len(generated) == 32
    assert client.get("/nope").headers["x-request-id"]


def test_datasets_list_and_schema(client: httpx.Client) -> None:
    names = [d["name"] for d in client.get("/datasets").json()]
    assert {"retail", "support", "sensors"} <= set(names)
    schema = client.get("/datasets/retail/schema").json()
    orders = next(t for t in schema["tables"] if t["name"] == "orders")
    assert "quantity" in [c["name"] for c in orders["columns"]]
    missing = client.get("/datasets/retial/schema")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "not_found" and "retail" in missing.json()["title"]


def test_run_sql_then_capsule_status_and_results(client: httpx.Client) -> None:
    created = client.post("/runs", json={"kind": "sql", "code": STATUS_SQL, "dataset_id": "retail"})
    assert created.status_code == 201, created.text
    run = created.json()
    assert run["columns"][0]["name"] == "status" and run["row_count"] == 5
    run_id = run["run_id"]
    assert client.get(f"/runs/{run_id}").json()["compiled_sql"].startswith("SELECT")
    assert client.get(f"/runs/{run_id}/status").json()["status"] == "ok"
    csv_text = client.get(f"/runs/{run_id}/result", params={"format": "csv"}).text
    assert csv_text.splitlines()[0] == "status,n" and len(csv_text.splitlines()) == 6
    as_json = client.get(f"/runs/{run_id}/result").json()
    assert as_json["rows"] == run["rows"] and as_json["complete"] is True
    parquet = client.get(f"/runs/{run_id}/result", params={"format": "parquet"})
    assert parquet.content[:4] == b"PAR1"
    assert _parquet_rows(parquet.content) == [tuple(r) for r in run["rows"]]
    assert client.get(f"/runs/{run_id}/result", params={"format": "xlsx"}).status_code == 422


def _parquet_rows(data: bytes) -> list[tuple]:
    import tempfile
    from pathlib import Path

    import duckdb

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.parquet"
        path.write_bytes(data)
        return duckdb.sql(f"SELECT * FROM read_parquet('{path}')").fetchall()


def test_run_plan_and_rejections(client: httpx.Client) -> None:
    plan = {"table": "orders", "aggregates": [{"fn": "count", "as": "orders"}]}
    assert client.post("/runs", json={"kind": "plan", "code": plan, "dataset_id": "retail"}).json()["rows"] == [[3000]]
    rejected = client.post("/runs", json={"kind": "sql", "code": "COPY orders TO 'x.csv'", "dataset_id": "retail"})
    assert rejected.status_code == 422
    assert rejected.json()["code"] == "rejected" and rejected.json()["rule"] == "not_read_only"
    bad_plan = client.post("/runs", json={"kind": "plan", "code": {"table": "nope"}, "dataset_id": "retail"})
    assert bad_plan.status_code == 422 and bad_plan.json()["code"] == "invalid_plan"
    python = client.post("/runs", json={"kind": "python", "code": "print(1)", "dataset_id": "retail"})
    assert python.status_code == 422 and python.json()["code"] == "python_disabled"
    malformed = client.post("/runs", json={"code": 3})
    assert malformed.status_code == 422 and malformed.json()["code"] == "usage"
    assert "dataset_id" in malformed.json()["title"]


def test_chat_returns_the_ask_json_document(client: httpx.Client) -> None:
    response = client.post("/chat", json={"message": "which status is most common?", "dataset_id": "retail"})
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["status"] == "answered"
    assert doc["answer"].startswith("The most common status is delivered")
    assert doc["runs"][0]["sql"].startswith("SELECT") and doc["runs"][0]["row_count"] == 5
    assert doc["chart"]["$schema"].startswith("https://vega.github.io/schema/vega-lite/v5")
    assert doc["thread_id"].startswith("t")


def test_stream_sends_exactly_the_events_then_the_thread_is_kept(client: httpx.Client) -> None:
    events = _events(client, {"message": "which status is most common?", "dataset_id": "retail"})
    kinds = [e.type for e in events]
    assert kinds[0] == "status" and kinds[-1] == "done" and events[-1].status == "answered"
    assert {"tool_call", "sql_compiled", "run_finished", "chart", "answer", "usage"} <= set(kinds)
    thread_id = events[0].thread_id
    assert all(e.thread_id == thread_id for e in events)
    follow = _events(client, {"message": "again", "dataset_id": "retail", "thread_id": thread_id})
    assert follow[-1].thread_id == thread_id
    assert thread_id in [t["id"] for t in client.get("/threads").json()]
    messages = client.get(f"/threads/{thread_id}/messages").json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[0]["content"] == "which status is most common?"
    assert client.get("/threads/tzzzzzzz/messages").status_code == 404


def test_metrics_count_requests_turns_runs_and_tokens(client: httpx.Client) -> None:
    client.post("/chat", json={"message": "which status is most common?", "dataset_id": "retail"})
    text = client.get("/metrics").text
    assert 'csvanalyst_http_requests_total{method="POST",route="/chat",status="200"} 1.0' in text
    assert 'csvanalyst_agent_turns_total{status="answered"} 1.0' in text
    assert 'csvanalyst_sandbox_runs_total{executor="local",outcome="ok"} 1.0' in text
    assert 'csvanalyst_model_tokens_total{direction="input"} 250.0' in text


def test_openapi_lists_every_endpoint(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/healthz", "/readyz", "/metrics", "/datasets", "/datasets/{dataset_id}/schema", "/runs",
                 "/runs/{run_id}", "/runs/{run_id}/status", "/runs/{run_id}/result", "/chat", "/chat/stream",
                 "/threads", "/threads/{thread_id}/messages"):  # fmt: skip
        assert path in paths, path
    assert client.get("/docs").status_code == 200


def test_client_disconnect_cancels_the_turn() -> None:
    GATE.clear()
    app = create_app(
        client_factory=lambda: ScriptedModel([call("run_sql", {"sql": STATUS_SQL}), _held_answer]),
        limits=ServerLimits(heartbeat_s=0.1),
    )
    with serve_in_thread(app) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        body = {"message": "held question", "dataset_id": "retail"}
        with http.stream("POST", "/chat/stream", json=body) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and '"run_finished"' in line:
                    thread_id = json.loads(line[6:])["thread_id"]
                    break
        _wait_for(lambda: "csvanalyst_sse_aborted_total 1.0" in http.get("/metrics").text)
        GATE.set()
        _wait_for(lambda: len(http.get(f"/threads/{thread_id}/messages").json()["messages"]) == 2)
        answer_message = http.get(f"/threads/{thread_id}/messages").json()["messages"][1]
        assert answer_message["status"] == "cancelled"
        assert 'csvanalyst_agent_turns_total{status="answered"}' not in http.get("/metrics").text


def _wait_for(condition, limit_s: float = 30.0) -> None:
    """Poll a condition the server reaches asynchronously; the limit is a hang guard, not a timing claim."""
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_docs_page_loads_everything_from_this_server(client: httpx.Client) -> None:
    import re

    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page.text)
    assert urls, page.text
    assert not re.search(r"(?:https?:)?//(?!127\.0\.0\.1)", page.text), "the /docs page names an external host"
    for url in urls:  # the vendored script, stylesheet and icon, and the spec
        assert url.startswith("/"), url
        assert client.get(url).status_code == 200, url
    assert "validatorUrl" in page.text  # the validator badge (validator.swagger.io) is turned off
    assert client.get("/redoc").status_code == 404  # ReDoc would need a CDN: not offered
