"""The application image: built offline, run hardened (read-only root, uid 10001, no capabilities), and it
answers a real question about an uploaded CSV with the same number DuckDB gives on the file."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from csvanalyst.errors import EnvironmentProblem
from tests.integration.docker_support import unavailable
from tests.support.requires import HOW_TO_INSTALL

REPO = Path(__file__).resolve().parents[2]
ORDERS = REPO / "datasets" / "retail" / "orders.csv"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    from csvanalyst.executors.docker.executor import connect

    try:
        connected = connect()
    except EnvironmentProblem as exc:
        unavailable(f"docker unavailable: {exc.message} ({HOW_TO_INSTALL['docker']})")
    yield connected
    connected.close()


@pytest.fixture(scope="module")
def image(client: object) -> str:
    from csvanalyst.deploy import app_image

    try:
        return str(app_image.build(client)["tag"])
    except EnvironmentProblem as exc:
        unavailable(f"cannot build the application image: {exc.message} ({exc.hint})")
        raise


@pytest.fixture(scope="module")
def app(client: object, image: str) -> Iterator[object]:
    from csvanalyst.deploy import app_check

    with app_check.running(client, image, ("--provider", "offline", "--sandbox", "local")) as running:
        yield running
    assert client.containers.list(all=True, filters={"id": running.container.id}) == []  # type: ignore[attr-defined]


def _multipart(path: Path, name: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{name}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode(),
        path.read_bytes(),
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_the_server_runs_as_uid_10001_on_a_read_only_root(app: object) -> None:
    from csvanalyst.deploy import app_check

    assert app_check.process_uid(app) == 10001  # type: ignore[arg-type]
    host = app.container.attrs["HostConfig"]  # type: ignore[attr-defined]
    assert host["ReadonlyRootfs"] is True and host["CapDrop"] == ["ALL"]
    code, out = app.container.exec_run(["touch", "/opt/csvanalyst/x"])  # type: ignore[attr-defined]
    assert code != 0 and b"Read-only file system" in out


def test_probes_answer_and_the_api_wants_the_token(app: object) -> None:
    assert app.get("/healthz") == (200, {"status": "ok"})  # type: ignore[attr-defined]
    status, ready = app.get("/readyz")  # type: ignore[attr-defined]
    assert status == 200 and ready["checks"] == {"store": "ok", "sandbox": "ok"}, ready
    anonymous = type(app)(app.container, app.url, "wrong")  # type: ignore[attr-defined]
    assert anonymous.get("/datasets")[0] == 401


def test_an_uploaded_csv_is_answered_with_duckdbs_number(app: object) -> None:
    body, content_type = _multipart(ORDERS, "shop")
    status, created = app.request("POST", "/datasets", body, content_type)  # type: ignore[attr-defined]
    assert status == 201, created
    assert created["name"] == "shop" and created["tables"][0]["rows"] == 3000
    question = json.dumps({"message": "what is the total quantity?", "dataset_id": "shop"}).encode()
    status, doc = app.request("POST", "/chat", question, "application/json")  # type: ignore[attr-defined]
    assert status == 200 and doc["status"] == "answered", doc
    [(expected,)] = duckdb.sql(f"SELECT sum(quantity) FROM read_csv('{ORDERS}')").fetchall()
    assert doc["runs"][0]["rows"] == [[expected]]
    assert f"{expected:,}" in doc["answer"]
