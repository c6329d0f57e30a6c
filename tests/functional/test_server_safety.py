"""Safety of the HTTP server: auth, bind policy, size limits, admission (429), CORS, hostile uploads,
and start-up repair of runs interrupted by a crash. Real uvicorn on loopback throughout."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from csvanalyst.config import get_settings
from csvanalyst.errors import UsageError
from csvanalyst.llm.base import Message, Turn
from csvanalyst.server.app import create_app
from csvanalyst.server.auth import check_bind
from csvanalyst.server.limits import ServerLimits
from csvanalyst.testing.scripted import ScriptedModel, answer, call
from tests.support.live import serve_in_thread

TOKEN = "s3cret-token-value"
CSV = b"city,temp\nOslo,3.5\nLima,19.0\n"


@pytest.fixture
def live() -> Iterator[str]:
    limits = ServerLimits(max_body_bytes=4096, max_upload_bytes=64 * 1024)
    with serve_in_thread(create_app(limits=limits)) as server:
        yield server.url


def test_token_is_required_on_the_api_but_not_on_the_page_or_probes() -> None:
    with serve_in_thread(create_app(token=TOKEN)) as server, httpx.Client(base_url=server.url) as http:
        refused = http.get("/datasets")
        assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
        assert refused.headers["www-authenticate"] == "Bearer" and refused.headers["x-request-id"]
        assert http.get("/datasets", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.get("/datasets", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
        assert http.get("/datasets", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert http.get("/metrics").status_code == 401
        for public in ("/", "/healthz", "/readyz", "/static/app.js", "/openapi.json"):
            assert http.get(public).status_code == 200, public


def test_bind_policy() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_bind(host, None, False)
    check_bind("0.0.0.0", TOKEN, False)
    check_bind("0.0.0.0", None, True)
    with pytest.raises(UsageError, match="without a token"):
        check_bind("0.0.0.0", None, False)


def test_serve_command_refuses_an_open_address_without_a_token() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "csvanalyst", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**_env(), "CSVANALYST_TOKEN": ""},
    )
    assert done.returncode == 2
    assert "without a token" in done.stderr and "Traceback" not in done.stderr


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "CSVANALYST_TOKEN"}


def test_oversized_bodies_get_413(live: str) -> None:
    with httpx.Client(base_url=live) as http:
        big_json = http.post(
            "/runs", content=b'{"code": "' + b"x" * 10_000 + b'"}', headers={"content-type": "application/json"}
        )
        assert big_json.status_code == 413 and big_json.json()["code"] == "too_large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while streaming
            for _ in range(20):
                yield b"x" * 1024

        chunked = http.post("/runs", content=chunks(), headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        upload = http.post("/datasets", files={"file": ("big.csv", b"a,b\n" + b"1,2\n" * 40_000, "text/csv")})
        assert upload.status_code == 413
    assert not any((get_settings().home / "uploads").glob("*/*"))


def test_upload_with_a_hostile_name_stays_in_the_uploads_folder(live: str, tmp_path: Path) -> None:
    with httpx.Client(base_url=live, timeout=60) as http:
        created = http.post("/datasets", files={"file": ("../../../../tmp/evil name.csv", CSV, "text/csv")})
        assert created.status_code == 201, created.text
        info = created.json()
        assert info["name"] == "evil_name"
        uploads = (get_settings().home / "uploads").resolve()
        assert "/" not in info["tables"][0]["file"]  # the server's folders are not the client's business
        (stored,) = uploads.glob("*/*.csv")
        assert stored.name == info["tables"][0]["file"]
        ran = http.post("/runs", json={"code": "SELECT max(temp) AS m FROM evil_name", "dataset_id": "evil_name"})
        assert ran.json()["rows"] == [[19.0]]
        windows = http.post("/datasets", files={"file": ("..\\..\\win.csv", CSV, "text/csv")}, data={"name": "w"})
        assert windows.status_code == 201 and windows.json()["name"] == "w"
        assert http.delete("/datasets/evil_name").status_code == 204
        assert http.get("/datasets/evil_name/schema").status_code == 404
        assert len(list(uploads.iterdir())) == 1  # only the "w" upload is left


def test_non_csv_uploads_are_refused_with_the_catalog_message(live: str) -> None:
    with httpx.Client(base_url=live, timeout=60) as http:
        wrong_suffix = http.post("/datasets", files={"file": ("data.xlsx", CSV, "application/octet-stream")})
        assert wrong_suffix.status_code == 422 and wrong_suffix.json()["code"] == "bad_input"
        gzip = http.post("/datasets", files={"file": ("data.csv", b"\x1f\x8b\x08\x00" + b"\x00" * 64, "text/csv")})
        assert gzip.status_code == 422 and "gzip" in gzip.json()["title"].lower()
        demo = http.post("/datasets", files={"file": ("x.csv", CSV, "text/csv")}, data={"name": "retail"})
        assert demo.status_code == 400 and demo.json()["code"] == "usage"
        assert http.delete("/datasets/retail").status_code == 400
    assert not any((get_settings().home / "uploads").iterdir())


def test_beyond_capacity_the_server_answers_429_with_retry_after() -> None:
    gate = threading.Event()

    def held(messages: list[Message]) -> Turn:
        gate.wait(timeout=30)
        return answer("done")

    app = create_app(
        client_factory=lambda: ScriptedModel([call("run_sql", {"sql": "SELECT 1 AS x"}), held]),
        limits=ServerLimits(max_runs=1, max_queue=0, heartbeat_s=0.2),
    )
    body = {"message": "hold", "dataset_id": "retail"}
    with serve_in_thread(app) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        with http.stream("POST", "/chat/stream", json=body) as first:
            lines = first.iter_lines()
            while '"run_finished"' not in next(lines):
                pass
            busy = http.post("/chat", json=body)
            assert busy.status_code == 429 and busy.headers["retry-after"] == "2"
            assert busy.json()["code"] == "busy"
            assert http.post("/runs", json={"code": "SELECT 1", "dataset_id": "retail"}).status_code == 429
            gate.set()
            assert '"done"' in "".join(lines)  # read to the end of the stream: the turn is over
        assert http.post("/runs", json={"code": "SELECT 1", "dataset_id": "retail"}).status_code == 201
        assert "csvanalyst_admission_rejected_total 2.0" in http.get("/metrics").text


def test_cors_is_off_unless_configured() -> None:
    preflight = {"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
    with serve_in_thread(create_app()) as server:
        response = httpx.options(f"{server.url}/chat", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
    with serve_in_thread(create_app(cors_origins=("https://example.org",))) as server:
        response = httpx.options(f"{server.url}/chat", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://example.org"


def test_runs_left_running_by_a_dead_process_are_failed_at_start_up() -> None:
    import subprocess
    import sys

    record = (
        "import sys; from pathlib import Path; from csvanalyst.store import runs;"
        " from csvanalyst.store.db import connect;"
        " print(runs.start(connect(Path(sys.argv[1])), dataset='retail', fingerprint=None, kind='sql',"
        " input='SELECT 1'))"
    )
    started = subprocess.run(  # a process that records a run and exits without finishing it
        [sys.executable, "-c", record, str(get_settings().store_path)], capture_output=True, text=True, check=True
    )
    run_id = started.stdout.strip()
    with serve_in_thread(create_app()) as server:
        status = httpx.get(f"{server.url}/runs/{run_id}/status").json()
    assert status["status"] == "error" and status["error"]["code"] == "interrupted"
