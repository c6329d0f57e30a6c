"""The deployed shape end to end: the application image, configured exactly as the Helm chart configures it,
answers a question whose query runs as a Kubernetes Job of the runner image.

Not a live cluster (none can run here). The chart is rendered by Helm's engine; its Deployment's arguments and
environment start the real application image (read-only root, uid 10001, no capabilities); the server reaches
the Kubernetes API through a kubeconfig (a cluster would give it its service account instead) served by
tests.support.kube_api, and the Job controller and kubelet are played by Docker
(tests.support.kube_kubelet): the Job the server creates runs as a real runner container that mounts the
table file from the datasets "claim" (a host directory the server also has at /var/lib/csvanalyst/cache).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from csvanalyst.errors import EnvironmentProblem
from tests.integration.docker_support import bridge_gateway, runner_image_client, unavailable
from tests.integration.test_app_image import ORDERS, _multipart

helm = pytest.importorskip("helm_python", reason="helm-python-sdk (the dev extra) is not installed")
pytest.importorskip("kubernetes", reason="the kubernetes client is not installed")

from tests.support.kube_kubelet import Kubelet, KubeletApiServer  # noqa: E402

CHART = Path(__file__).resolve().parents[2] / "charts" / "csvanalyst"
RELEASE, NAMESPACE = "analyst", "analytics"
KUBECONFIG_IN_POD = "/etc/csvanalyst-kube/config"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def docker_client() -> Iterator[Any]:
    client = runner_image_client("the deployed shape")
    yield client
    client.close()


def deployment(runner_tag: str) -> dict[str, Any]:
    """The chart's server container (defaults, but the runner image pinned to the one built from this checkout)."""
    values = {"runner": {"image": {"tag": runner_tag}}}
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    docs = [d for name, text in manifests.items() if name.endswith(".yaml") for d in yaml.safe_load_all(text) if d]
    (deploy,) = [d for d in docs if d["kind"] == "Deployment"]
    (claim,) = [d for d in docs if d["kind"] == "PersistentVolumeClaim" and d["metadata"]["name"].endswith("-datasets")]
    return {"container": deploy["spec"]["template"]["spec"]["containers"][0], "claim": claim["metadata"]["name"]}


@pytest.fixture(scope="module")
def cluster(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The stand-in API server and kubelet, reachable from containers on Docker's bridge network."""
    gateway = bridge_gateway(docker_client)
    claim_root = tmp_path_factory.mktemp("claim")
    os.chown(claim_root, 10001, 10001)  # the server (uid 10001) writes the datasets' Parquet files there
    kubelet = Kubelet(client=docker_client)
    with KubeletApiServer(kubelet, host=gateway) as api:
        yield {"api": api, "kubelet": kubelet, "claim_root": claim_root}
    kubelet.close()
    assert kubelet.leftovers() == [], "a runner container outlived the test"


def kubeconfig(url: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "stand-in", "cluster": {"server": url}}],
            "users": [{"name": "server", "user": {"token": "not-checked"}}],
            "contexts": [{"name": "stand-in", "context": {"cluster": "stand-in", "user": "server"}}],
            "current-context": "stand-in",
        }
    )


@pytest.fixture(scope="module")
def app(docker_client: Any, cluster: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from csvanalyst.deploy import app_check, app_image
    from csvanalyst.executors.docker import image as docker_image

    try:
        image = str(app_image.build(docker_client)["tag"])
    except EnvironmentProblem as exc:
        unavailable(f"cannot build the application image: {exc.message} ({exc.hint})")
    shape = deployment(docker_image.image_tag().rsplit(":", 1)[1])
    cluster["kubelet"].claims[shape["claim"]] = cluster["claim_root"]
    config = tmp_path_factory.mktemp("kube") / "config"
    config.write_text(kubeconfig(cluster["api"].url))
    config.chmod(0o644)
    token = secrets.token_urlsafe(24)
    env = {e["name"]: e["value"] for e in shape["container"]["env"] if "value" in e}
    env.update(CSVANALYST_TOKEN=token, CSVANALYST_K8S_NAMESPACE=NAMESPACE, KUBECONFIG=KUBECONFIG_IN_POD)
    store = docker_client.volumes.create(labels={app_check.LABEL: "1"})
    container = None
    try:
        container = docker_client.containers.run(
            image,
            command=shape["container"]["args"],
            environment=env,
            read_only=True,
            user="10001:10001",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            tmpfs={"/tmp": "rw,nosuid,nodev,size=512m"},
            volumes={
                store.name: {"bind": "/var/lib/csvanalyst", "mode": "rw"},
                str(cluster["claim_root"]): {"bind": env["CSVANALYST_K8S_DATASETS_ROOT"], "mode": "rw"},
                str(config): {"bind": KUBECONFIG_IN_POD, "mode": "ro"},
            },
            ports={"8000/tcp": ("127.0.0.1", None)},
            labels={app_check.LABEL: "1"},
            detach=True,
        )
        running = app_check.RunningApp(container, app_check._published_url(container), token)
        app_check.wait_healthy(running)
        yield running
    finally:
        if container is not None:
            container.remove(force=True, v=True)
        store.remove(force=True)


def test_ready_means_the_cluster_lets_it_run_jobs(app: Any, cluster: dict[str, Any]) -> None:
    status, ready = app.get("/readyz")
    assert status == 200 and ready["executor"] == "kubernetes" and ready["checks"]["sandbox"] == "ok", ready
    assert cluster["api"].calls("access_review"), "readiness asks the API whether Jobs may be created"


def test_a_question_is_answered_by_a_runner_job(app: Any, cluster: dict[str, Any]) -> None:
    api = cluster["api"]
    body, content_type = _multipart(ORDERS, "shop")
    status, created = app.request("POST", "/datasets", body, content_type)
    assert status == 201, created
    question = json.dumps({"message": "what is the total quantity?", "dataset_id": "shop"}).encode()
    status, doc = app.request("POST", "/chat", question, "application/json")
    assert status == 200 and doc["status"] == "answered", doc
    [(expected,)] = duckdb.sql(f"SELECT sum(quantity) FROM read_csv('{ORDERS}')").fetchall()
    assert doc["runs"][0]["rows"] == [[expected]] and f"{expected:,}" in doc["answer"]

    (job,) = api.created_jobs
    pod = job["spec"]["template"]["spec"]
    assert (
        job["metadata"]["namespace"] == NAMESPACE and job["metadata"]["labels"]["app.kubernetes.io/instance"] == RELEASE
    )
    assert pod["serviceAccountName"] == f"{RELEASE}-csvanalyst-runner" and pod["automountServiceAccountToken"] is False
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if "subPath" in m]
    assert (cluster["claim_root"] / mount["subPath"]).is_file() and mount["readOnly"] is True
    request = json.loads(next(e["value"] for e in pod["containers"][0]["env"] if e["name"] == "CSVANALYST_REQUEST"))
    assert "sum" in request["code"].lower()
    assert api.jobs == {}, "the server deleted its Job"
    assert not [e for e in pod["containers"][0]["env"] if "KEY" in e["name"] or "TOKEN" in e["name"]]
