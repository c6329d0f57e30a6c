"""The server's readiness follows the cluster when queries run as Jobs: /readyz through real uvicorn, the
kubernetes sandbox with the real client against the local Kubernetes API server (not a live cluster)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from csvanalyst.executors.kubernetes.executor import KubernetesExecutor
from csvanalyst.server.app import create_app
from tests.support.kube_api import KubeApiServer
from tests.support.live import serve_in_thread

pytest.importorskip("kubernetes", reason="the kubernetes client is not installed")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "k8s"


@pytest.fixture(autouse=True)
def no_cluster_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))


def readyz(api: KubeApiServer, tmp_path: Path) -> httpx.Response:
    executor = KubernetesExecutor(
        api_client=api.api_client(),
        namespace="analytics",
        image="csvanalyst-runner:t",
        datasets_pvc="datasets",
        datasets_root=str(tmp_path),
    )
    with serve_in_thread(create_app(executor=executor)) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        return http.get("/readyz")


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[KubeApiServer]:
    with KubeApiServer.from_fixture(FIXTURES / f"{request.param}.json") as server:
        yield server


@pytest.mark.parametrize("api", ["success"], indirect=True)
def test_ready_when_the_api_answers_and_jobs_may_be_created(api: KubeApiServer, tmp_path: Path) -> None:
    response = readyz(api, tmp_path)
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"store": "ok", "sandbox": "ok"} and response.json()["executor"] == "kubernetes"
    reviews = api.calls("access_review")
    assert {
        (r.body["spec"]["resourceAttributes"]["verb"], r.body["spec"]["resourceAttributes"]["resource"])
        for r in reviews
    } >= {("create", "jobs")}


@pytest.mark.parametrize("api", ["forbidden"], indirect=True)
def test_not_ready_names_the_missing_permission(api: KubeApiServer, tmp_path: Path) -> None:
    response = readyz(api, tmp_path)
    assert response.status_code == 503, response.text
    assert "create jobs.batch" in response.text, response.text


def test_not_ready_when_the_api_is_unreachable(tmp_path: Path) -> None:
    from kubernetes import client

    nowhere = client.ApiClient(client.Configuration(host="http://127.0.0.1:9"))  # the discard port: refused
    executor = KubernetesExecutor(
        api_client=nowhere, namespace="analytics", image="i:t", datasets_pvc="d", datasets_root=str(tmp_path)
    )
    verdict = executor.ready()
    assert verdict != "ok" and "127.0.0.1:9" in verdict, verdict
