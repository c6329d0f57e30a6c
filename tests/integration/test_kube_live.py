"""The kubernetes sandbox on a live cluster (kind or k3d): the runner's conformance checks, end to end.

Skipped unless KUBECONFIG names a reachable cluster; none can run on our build machines, so there
these tests report why they skipped. To run them (single-node kind; k3d works the same way):

    kind create cluster --name csvanalyst
    csvanalyst runner build                    # prints the tag: csvanalyst-runner:<key>
    kind load docker-image csvanalyst-runner:<key> --name csvanalyst
    kind get kubeconfig --name csvanalyst > /tmp/kind.kubeconfig
    KUBECONFIG=/tmp/kind.kubeconfig .venv/bin/pytest tests/integration/test_kube_live.py
    # k3d: `k3d cluster create csvanalyst`, `k3d image import csvanalyst-runner:<key> -c csvanalyst`

Everything happens in a throwaway namespace, deleted at the end. The demo CSV reaches the cluster the
way a deployment's datasets do, on a PersistentVolumeClaim: the test creates a claim (the default
StorageClass, e.g. kind's local-path), and a helper pod of the runner image writes the file into it
from an environment variable. Runner Jobs then mount that one file read-only by subPath. A single-node
cluster keeps the ReadWriteOnce claim usable from every pod. The no-network check applies a deny-all
NetworkPolicy to runner pods, as the Helm chart does; it holds where the CNI enforces NetworkPolicy
(kindnet in kind >= 0.24, k3s's bundled controller).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.errors import EnvironmentProblem
from csvanalyst.executors.base import Limits, RunRequest
from csvanalyst.executors.docker.check import KNOWN_CSV, KNOWN_ROWS, KNOWN_SQL
from tests.support.slow import never_ending_over

pytestmark = pytest.mark.skipif(
    not os.environ.get("KUBECONFIG"), reason="KUBECONFIG is not set: no live cluster to run runner Jobs on"
)

CLAIM = "datasets"
DATA_FILE = "demo/sales.csv"
SETUP_TIMEOUT_S = 180.0
PROBE = """
import json, os, socket
seen = {"uid": os.getuid()}
status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
seen["cap_eff"] = status["CapEff"].strip()
seen["no_new_privs"] = status.get("NoNewPrivs", "").strip()
try:
    open("/opt/csvanalyst/runner/x", "w"); seen["root_writable"] = True
except OSError:
    seen["root_writable"] = False
seen["reached"] = []
for host, port in (("kubernetes.default.svc", 443), ("1.1.1.1", 53), ("169.254.169.254", 80)):
    try:
        socket.create_connection((host, port), timeout=3).close(); seen["reached"].append(host)
    except OSError:
        pass
seen["data"] = sorted(os.listdir("/data")) if os.path.isdir("/data") else []
seen["token"] = os.path.exists("/var/run/secrets/kubernetes.io/serviceaccount/token")
print(json.dumps(seen))
"""


@dataclass
class Live:
    api_client: Any
    namespace: str
    image: str
    root: Path  # a local mirror of the claim's layout, so table paths map to subPaths


def _skip(reason: str) -> None:
    pytest.skip(f"no usable live cluster: {reason}")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    kubernetes = pytest.importorskip("kubernetes", reason="the kubernetes client is not installed")
    from csvanalyst.executors.kubernetes.config import connect
    from csvanalyst.executors.kubernetes.executor import _default_image

    try:
        connection = connect(os.environ.get("CSVANALYST_K8S_CONTEXT"))
        kubernetes.client.VersionApi(connection.api_client).get_code(_request_timeout=5)
    except EnvironmentProblem as exc:
        _skip(exc.message)
    except Exception as exc:  # any client error: the cluster is not reachable
        _skip(f"the API server does not answer ({type(exc).__name__}: {str(exc)[:200]})")
    api = connection.api_client
    image = os.environ.get("CSVANALYST_K8S_IMAGE") or _default_image()
    _require_image(api, image)
    namespace = f"csvanalyst-live-{secrets.token_hex(3)}"
    core = kubernetes.client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": namespace}})
    try:
        _put_demo_file(api, namespace, image)
        _deny_all_network(api, namespace)
        root = tmp_path_factory.mktemp("claim")
        (root / DATA_FILE).parent.mkdir(parents=True)
        (root / DATA_FILE).write_text(KNOWN_CSV)
        yield Live(api, namespace, image, root)
    finally:
        core.delete_namespace(namespace, propagation_policy="Background")


def _require_image(api: Any, image: str) -> None:
    """Skip (saying which) when no node has the runner image; a pull would fail without a registry."""
    from kubernetes import client

    try:
        nodes = client.CoreV1Api(api).list_node(_request_timeout=10).items
    except Exception:  # may not list nodes: let the runs report a pull failure themselves
        return
    names = {name for node in nodes for img in (node.status.images or []) for name in (img.names or [])}
    if not any(name == image or name.endswith(f"/{image}") for name in names):
        _skip(f"no node has the image {image}; load it with `kind load docker-image {image}`")


def _put_demo_file(api: Any, namespace: str, image: str) -> None:
    """A claim holding demo/sales.csv, written by a helper pod (argv only: the CSV travels in its env)."""
    from kubernetes import client

    core = client.CoreV1Api(api)
    core.create_namespaced_persistent_volume_claim(
        namespace,
        {
            "metadata": {"name": CLAIM},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}},
        },
    )
    target = f"/claim/{DATA_FILE}"
    write = (
        f"import os; os.makedirs(os.path.dirname({target!r}), exist_ok=True); "
        f"open({target!r}, 'w').write(os.environ['CSV'])"
    )
    pod = {
        "metadata": {"name": "put-demo"},
        "spec": {
            "restartPolicy": "Never",
            "securityContext": {"runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001},
            "containers": [
                {
                    "name": "put",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["python3", "-c", write],
                    "env": [{"name": "CSV", "value": KNOWN_CSV}],
                    "volumeMounts": [{"name": "claim", "mountPath": "/claim"}],
                }
            ],
            "volumes": [{"name": "claim", "persistentVolumeClaim": {"claimName": CLAIM}}],
        },
    }
    core.create_namespaced_pod(namespace, pod)
    end = time.monotonic() + SETUP_TIMEOUT_S
    while (phase := core.read_namespaced_pod("put-demo", namespace).status.phase) not in ("Succeeded", "Failed"):
        if time.monotonic() > end:
            _skip(f"the helper pod writing the demo file did not finish (phase {phase}); is there a StorageClass?")
        time.sleep(1)
    if phase == "Failed":
        pytest.fail(core.read_namespaced_pod_log("put-demo", namespace))
    core.delete_namespaced_pod("put-demo", namespace)


def _deny_all_network(api: Any, namespace: str) -> None:
    """What the Helm chart applies: runner pods may neither send nor receive anything."""
    from kubernetes import client

    policy = {
        "metadata": {"name": "runner-deny-all"},
        "spec": {
            "podSelector": {
                "matchLabels": {"app.kubernetes.io/name": "csvanalyst", "app.kubernetes.io/component": "runner"}
            },
            "policyTypes": ["Ingress", "Egress"],
        },
    }
    client.NetworkingV1Api(api).create_namespaced_network_policy(namespace, policy)


def executor(live: Live) -> Any:
    from csvanalyst.executors.kubernetes.executor import KubernetesExecutor

    return KubernetesExecutor(
        api_client=live.api_client,
        namespace=live.namespace,
        image=live.image,
        datasets_pvc=CLAIM,
        datasets_root=str(live.root),
        start_timeout_s=120,
        poll_s=0.2,
    )


def request(live: Live, code: str, kind: str = "sql", **limits: Any) -> RunRequest:
    tables = {"sales": TableSource(path=str(live.root / DATA_FILE), format="csv")}
    return RunRequest(
        kind=kind, code=code, tables=tables, limits=Limits(**{"timeout_s": 30, "memory_mb": 512, **limits})
    )  # type: ignore[arg-type]


def test_known_query_gives_the_known_answer(live: Live) -> None:
    result = executor(live).run(request(live, KNOWN_SQL))
    assert result.status == "ok", result.error
    assert result.rows == KNOWN_ROWS


def test_query_error_is_the_runners_error(live: Live) -> None:
    result = executor(live).run(request(live, "SELECT nope FROM sales"))
    assert result.status == "error" and result.error.code == "sql_error"


def test_timeout(live: Live) -> None:
    result = executor(live).run(request(live, never_ending_over("sales"), timeout_s=2))
    assert result.status == "timeout", result.error


def test_python_mode_is_allowed_in_a_pod(live: Live) -> None:
    result = executor(live).run(request(live, "result = float(sales['amount'].sum())", kind="python"))
    assert result.status == "ok", result.error
    assert result.rows == [[31.5]]


def test_python_mode_refuses_forbidden_code(live: Live) -> None:
    result = executor(live).run(request(live, "import socket\nresult = 1", kind="python"))
    assert result.status == "rejected", result.error


def test_pod_is_locked_down_and_has_no_network(live: Live) -> None:
    """The probe runs in a Job built exactly like a run's, with only its command replaced."""
    from kubernetes import client

    from csvanalyst.executors.kubernetes.executor import delete_job
    from csvanalyst.executors.kubernetes.job import build_job
    from csvanalyst.executors.kubernetes.watch import Target, Watch

    runner = executor(live)
    run_id = secrets.token_hex(6)
    probe = request(live, "SELECT 1")
    job = build_job(probe, run_id, runner.options)
    job.spec.template.spec.containers[0].command = ["python3", "-c", PROBE]
    client.BatchV1Api(live.api_client).create_namespaced_job(live.namespace, job)
    try:
        target = Target(live.namespace, job.metadata.name, run_id, live.image, runner.host)
        outcome = Watch(live.api_client, target, probe.limits, start_timeout_s=120, poll_s=0.2).follow()
    finally:
        delete_job(live.api_client, live.namespace, job.metadata.name)
    seen = json.loads(outcome.stdout)
    assert seen["uid"] == 10001
    assert int(seen["cap_eff"], 16) == 0 and seen["no_new_privs"] == "1"
    assert not seen["root_writable"] and not seen["token"]
    assert seen["data"] == ["0"]
    assert seen["reached"] == []


def test_no_runner_job_is_left_behind(live: Live) -> None:
    from kubernetes import client

    executor(live).run(request(live, KNOWN_SQL))
    jobs = client.BatchV1Api(live.api_client).list_namespaced_job(
        live.namespace, label_selector="app.kubernetes.io/managed-by=csvanalyst"
    )
    assert [j.metadata.name for j in jobs.items if not j.metadata.deletion_timestamp] == []
