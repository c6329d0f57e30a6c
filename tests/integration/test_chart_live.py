"""The Helm chart installed on a live cluster (kind or k3d) by Helm's own engine, then asked a question whose
query runs as a runner Job, end to end.

Skipped unless KUBECONFIG names a reachable cluster; none can run on our build machines. To run it:

    kind create cluster --name csvanalyst
    csvanalyst runner build                    # also tags csvanalyst-runner:latest
    csvanalyst deploy image                    # tags csvanalyst-app:<version>, the chart's default
    kind load docker-image csvanalyst-runner:latest csvanalyst-app:<version> --name csvanalyst
    kind get kubeconfig --name csvanalyst > /tmp/kind.kubeconfig
    KUBECONFIG=/tmp/kind.kubeconfig .venv/bin/pytest tests/integration/test_chart_live.py
    # other tags: CSVANALYST_TEST_APP_IMAGE=repo:tag CSVANALYST_TEST_RUNNER_IMAGE=repo:tag

The release lives in a throwaway namespace, uninstalled and deleted at the end. The chart's PersistentVolumeClaims
need a default StorageClass (kind's local-path). Helm is the helm-python-sdk wheel, else a `helm` binary on PATH.
The server is reached through a port-forward to its pod, not the API server's service proxy: the API server
consumes the Authorization header, so the server's bearer token would never arrive. kind's default CNI may not
enforce NetworkPolicy, so this test does not check the runner's network isolation (test_kube_live.py does).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import pytest
import yaml

from csvanalyst import __version__
from csvanalyst.errors import EnvironmentProblem
from tests.integration.helm_support import CHART, PORT, RELEASE, chart_values, exchange, helm_engine, split_image
from tests.integration.test_app_image import ORDERS, _multipart
from tests.integration.test_kube_live import _require_image, _skip

SERVER = f"app.kubernetes.io/component=server,app.kubernetes.io/instance={RELEASE}"
RUNNER = f"app.kubernetes.io/component=runner,app.kubernetes.io/instance={RELEASE}"
RUNNING = "status.phase=Running"
TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
READY_TIMEOUT_S, WATCH_TIMEOUT_S = 180.0, 120

live = pytest.mark.skipif(
    not os.environ.get("KUBECONFIG"), reason="KUBECONFIG is not set: no live cluster to install the chart on"
)


@dataclass
class Release:
    api: Any
    namespace: str
    token: str


@pytest.fixture(scope="module")
def release() -> Iterator[Release]:
    kubernetes = pytest.importorskip("kubernetes", reason="the kubernetes client is not installed")
    from csvanalyst.executors.kubernetes.config import connect

    context = os.environ.get("CSVANALYST_K8S_CONTEXT")
    try:
        api = connect(context).api_client
        kubernetes.client.VersionApi(api).get_code(_request_timeout=5)
    except EnvironmentProblem as exc:
        _skip(exc.message)
    except Exception as exc:  # any client error: the cluster is not reachable
        _skip(f"the API server does not answer ({type(exc).__name__}: {str(exc)[:200]})")
    token = secrets.token_hex(16)
    values = chart_values(token)
    for image in (values["image"], values["runner"]["image"]):
        _require_image(api, f"{image['repository']}:{image['tag']}")
    namespace = f"csvanalyst-chart-{secrets.token_hex(3)}"
    core = kubernetes.client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": namespace}})
    install, uninstall = helm_engine(namespace, context)
    try:
        install(values)
        wait_available(api, namespace)
        yield Release(api, namespace, token)
    finally:
        try:
            uninstall()
        finally:
            core.delete_namespace(namespace, propagation_policy="Background")


def wait_available(api: Any, namespace: str) -> None:
    from kubernetes import client

    apps, end = client.AppsV1Api(api), time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < end:
        status = apps.read_namespaced_deployment_status(f"{RELEASE}-csvanalyst", namespace).status
        if any(c.type == "Available" and c.status == "True" for c in status.conditions or []):
            return
        time.sleep(2)
    pytest.fail(f"the Deployment was not Available within {READY_TIMEOUT_S:.0f} s: {why_not(api, namespace)}")


def why_not(api: Any, namespace: str) -> str:
    """The server pods' container states and the namespace's warnings (claims, scheduling, image pulls)."""
    from kubernetes import client

    core, lines = client.CoreV1Api(api), []
    for pod in core.list_namespaced_pod(namespace, label_selector=SERVER).items:
        lines.append(f"pod {pod.metadata.name} {pod.status.phase}")
        lines += [f"  {s.name}: {s.state.to_dict()}" for s in pod.status.container_statuses or []]
    warnings = [e for e in core.list_namespaced_event(namespace).items if e.type == "Warning"][-30:]
    lines += [f"{e.involved_object.kind}/{e.involved_object.name} {e.reason}: {e.message}" for e in warnings]
    return "\n".join(lines)


def call(release: Release, method: str, path: str, body: bytes | None = None, content_type: str = "") -> Any:
    """A request to the server's pod through a port-forward of its own (one connection each)."""
    from kubernetes import client
    from kubernetes.stream import portforward

    core = client.CoreV1Api(release.api)
    (pod,) = core.list_namespaced_pod(release.namespace, label_selector=SERVER, field_selector=RUNNING).items
    forward = portforward(
        core.connect_get_namespaced_pod_portforward, pod.metadata.name, release.namespace, ports=str(PORT)
    )
    try:
        return exchange(forward.socket(PORT), method, path, release.token, body, content_type)
    except (OSError, http.client.HTTPException) as exc:
        pytest.fail(f"{method} {path} through the port-forward: {exc!r}; forward error: {forward.error(PORT)}")
    finally:
        forward.close()


def changes_since(lister: Callable[..., Any], namespace: str, version: str) -> dict[str, list[tuple[str, Any]]]:
    """Every runner object's events after `version`, replayed by the API server, until each one is deleted."""
    from kubernetes import watch

    seen: dict[str, list[tuple[str, Any]]] = {}
    follow = watch.Watch()
    events = follow.stream(
        lister, namespace, label_selector=RUNNER, resource_version=version, timeout_seconds=WATCH_TIMEOUT_S
    )
    for event in events:
        seen.setdefault(event["raw_object"]["metadata"]["name"], []).append((event["type"], event["raw_object"]))
        if all(any(kind == "DELETED" for kind, _ in history) for history in seen.values()):
            follow.stop()
    return seen


def test_the_values_install_with_helms_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the live test installs, as a client-side dry run of the same SDK call (no cluster needed)."""
    helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk (the dev extra) is not installed")
    monkeypatch.setenv("CSVANALYST_TEST_APP_IMAGE", "registry:5000/team/app:1.2")
    monkeypatch.delenv("CSVANALYST_TEST_RUNNER_IMAGE", raising=False)
    token = secrets.token_hex(16)
    nowhere = (
        "clusters: [{name: x, cluster: {server: 'https://127.0.0.1:1'}}]\ncontexts: [{name: x, context: {cluster: x}}]"
    )
    with helm_python.Config(kubeconfig_content=nowhere, kube_context="x") as config, helm_python.Chart.load(CHART) as c:
        done = config.install(c, RELEASE, chart_values(token), namespace="ns", dry_run="client")
    docs = [d for d in yaml.safe_load_all(done["manifest"]) if d]
    (deploy,) = [d for d in docs if d["kind"] == "Deployment"]
    server = deploy["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in server["env"]}
    assert deploy["metadata"]["name"] == f"{RELEASE}-csvanalyst" and server["image"] == "registry:5000/team/app:1.2"
    assert env["CSVANALYST_K8S_IMAGE"] == "csvanalyst-runner:latest"
    assert server["args"][server["args"].index("--provider") + 1] == "offline"
    (secret,) = [d for d in docs if d["kind"] == "Secret"]
    assert base64.b64decode(secret["data"]["token"]).decode() == token
    sizes = [d["spec"]["resources"]["requests"]["storage"] for d in docs if d["kind"] == "PersistentVolumeClaim"]
    assert sizes == ["64Mi", "64Mi"]
    assert split_image("registry:5000/team/app") == ("registry:5000/team/app", "latest")
    assert split_image(f"csvanalyst-app:{__version__}") == ("csvanalyst-app", __version__)


def test_exchange_speaks_http_over_a_port_forward_socket() -> None:
    """The socket a PortForward hands out (one end of a socket pair), served here by a minimal HTTP peer."""
    from kubernetes.stream.ws_client import PortForward

    port = PortForward._Port(0, PORT)
    body = b'{"ok": true}'
    head = f"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    port.python.settimeout(10)
    try:
        port.python.sendall(head.encode() + body)  # answered before it is read: the pair buffers both ways
        status, doc = exchange(port.socket, "POST", "/datasets", "t0k", b"x" * 10, "text/csv")
        request = port.python.recv(65536)
    finally:
        port.python.close()
    assert (status, doc) == (201, {"ok": True})
    assert request.startswith(b"POST /datasets HTTP/1.1\r\n") and b"Authorization: Bearer t0k\r\n" in request
    assert b"Content-Length: 10\r\n" in request and request.endswith(b"\r\n\r\n" + b"x" * 10)


@live
def test_ready_with_runner_jobs_as_the_sandbox(release: Release) -> None:
    status, ready = call(release, "GET", "/readyz")
    assert status == 200 and ready["executor"] == "kubernetes" and ready["checks"]["sandbox"] == "ok", ready


@live
def test_a_question_is_answered_by_a_runner_job_that_is_then_gone(release: Release) -> None:
    from kubernetes import client

    batch, core = client.BatchV1Api(release.api), client.CoreV1Api(release.api)
    jobs_at = batch.list_namespaced_job(release.namespace, label_selector=RUNNER).metadata.resource_version
    pods_at = core.list_namespaced_pod(release.namespace, label_selector=RUNNER).metadata.resource_version
    status, created = call(release, "POST", "/datasets", *_multipart(ORDERS, "shop"))
    assert status == 201 and created["name"] == "shop", created
    question = json.dumps({"message": "what is the total quantity?", "dataset_id": "shop"}).encode()
    status, doc = call(release, "POST", "/chat", question, "application/json")
    assert status == 200 and doc["status"] == "answered", doc
    [(expected,)] = duckdb.sql(f"SELECT sum(quantity) FROM read_csv('{ORDERS}')").fetchall()
    assert doc["runs"][0]["rows"] == [[expected]] and f"{expected:,}" in doc["answer"]

    jobs = changes_since(batch.list_namespaced_job, release.namespace, jobs_at)
    kinds = {name: [kind for kind, _ in history] for name, history in jobs.items()}
    assert len(kinds) == 1 and next(iter(kinds.values()))[-1] == "DELETED", kinds
    left = batch.list_namespaced_job(release.namespace, label_selector=RUNNER).items
    assert [j.metadata.name for j in left if not j.metadata.deletion_timestamp] == []
    pods = changes_since(core.list_namespaced_pod, release.namespace, pods_at)
    assert pods, "no runner pod was seen"
    for history in pods.values():
        spec = history[0][1]["spec"]  # as admitted: a token would have been added by then
        assert spec["serviceAccountName"] == f"{RELEASE}-csvanalyst-runner", spec
        assert spec.get("automountServiceAccountToken") is False, spec
        mounts = [m["mountPath"] for c in spec["containers"] for m in c.get("volumeMounts", [])]
        assert TOKEN_DIR not in mounts and not [v for v in spec.get("volumes", []) if "projected" in v], spec
