"""The chart and the kubernetes sandbox agree: the Job the server would create from the chart's own environment
is selected by the chart's deny-all NetworkPolicy, runs as the chart's tokenless runner account, mounts the
chart's datasets claim and lands on the server's node when the claim is ReadWriteOnce.

No cluster is involved (none can run here): the chart is rendered by Helm's engine, the settings are loaded from
the rendered Deployment's env, and the Job is built by the executor itself (its API client points nowhere).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import RunRequest
from tests.integration.test_chart import RELEASE, VARIANTS, env, one, render

helm = pytest.importorskip("helm_python", reason="helm-python-sdk (the dev extra) is not installed")
kubernetes = pytest.importorskip("kubernetes", reason="the kubernetes client is not installed")
kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")

CHART = Path(__file__).resolve().parents[2] / "charts" / "csvanalyst"


@pytest.fixture(scope="module")
def chart() -> Any:
    with helm.Chart.load(CHART) as loaded:
        yield loaded


def job_from_chart(docs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The Job the executor builds when configured exactly as the chart configures the server."""
    from kubernetes.client import ApiClient, Configuration

    from csvanalyst import config
    from csvanalyst.executors.kubernetes.executor import KubernetesExecutor
    from csvanalyst.executors.kubernetes.job import build_job

    for name, value in env(docs).items():
        if isinstance(value, str):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("CSVANALYST_K8S_NAMESPACE", "analytics")  # the chart uses the downward API for this
    config.get_settings.cache_clear()
    try:
        nowhere = ApiClient(Configuration(host="http://127.0.0.1:9"))
        executor = KubernetesExecutor(api_client=nowhere)
        table = TableSource(path="/var/lib/csvanalyst/cache/retail/orders.parquet", format="parquet")
        request = RunRequest(code="SELECT count(*) FROM orders", tables={"orders": table})
        job = build_job(request, "0123456789ab", executor.options)
        return ApiClient().sanitize_for_serialization(job)
    finally:
        config.get_settings.cache_clear()


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.mark.parametrize("variant", ["default", "rwx"])
def test_the_job_fits_the_chart(chart: Any, variant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = render(chart, VARIANTS[variant])
    job = job_from_chart(docs, monkeypatch)
    kubernetes_validate.validate(job, "1.37", strict=True)
    pod = job["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert labels["app.kubernetes.io/instance"] == RELEASE

    policies = [
        d for d in docs if d["kind"] == "NetworkPolicy" and matches(d["spec"]["podSelector"]["matchLabels"], labels)
    ]
    assert len(policies) == 1, "exactly one policy, the deny-all one, must select runner pods"
    assert policies[0]["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert not policies[0]["spec"].get("ingress") and not policies[0]["spec"].get("egress")

    account = pod["spec"]["serviceAccountName"]
    runner_account = one(docs, "ServiceAccount", "-runner")
    assert account == runner_account["metadata"]["name"] and runner_account["automountServiceAccountToken"] is False
    bound = [s["name"] for d in docs if d["kind"] == "RoleBinding" for s in d["subjects"]]
    assert account not in bound

    claims = {d["metadata"]["name"] for d in docs if d["kind"] == "PersistentVolumeClaim"}
    (volume,) = [v for v in pod["spec"]["volumes"] if "persistentVolumeClaim" in v]
    assert volume["persistentVolumeClaim"] == {
        "claimName": one(docs, "PersistentVolumeClaim", "-datasets")["metadata"]["name"],
        "readOnly": True,
    }
    assert volume["persistentVolumeClaim"]["claimName"] in claims
    (mount,) = [m for m in pod["spec"]["containers"][0]["volumeMounts"] if m["name"] == volume["name"]]
    assert mount["subPath"] == "retail/orders.parquet" and mount["readOnly"] is True

    affinity = pod["spec"].get("affinity")
    server_labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    if variant == "default":  # ReadWriteOnce: runner pods must share the server's node
        (term,) = affinity["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert term["topologyKey"] == "kubernetes.io/hostname"
        assert matches(term["labelSelector"]["matchLabels"], server_labels)
    else:
        assert affinity is None

    image = pod["spec"]["containers"][0]["image"]
    values = VARIANTS[variant].get("runner", {}).get("image", {})
    assert image == f"{values.get('repository', 'csvanalyst-runner')}:{values.get('tag', 'latest')}"


def rbac_verb(method: str, path: str) -> tuple[str, str, str] | None:
    """(apiGroup, resource[/subresource], verb) of a namespaced request, as the API server's authorizer sees it."""
    parts = path.strip("/").split("/")
    group = "" if parts[0] == "api" else parts[1]
    rest = parts[2:] if parts[0] == "api" else parts[3:]
    if len(rest) < 3 or rest[0] != "namespaces":
        return None  # cluster-scoped: /version, selfsubjectaccessreviews (allowed to every authenticated user)
    resource, named = rest[2], len(rest) > 3
    if len(rest) > 4:
        resource += "/" + rest[4]
    verb = {"POST": "create", "DELETE": "delete"}.get(method, "get" if named else "list")
    return group, resource, verb


def test_the_role_grants_exactly_what_the_executor_calls(
    chart: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every call of a run, a cancelled run and a cleanup, recorded by the local API server, is allowed by the
    chart's Role, and the Role allows nothing the executor never calls (least privilege)."""
    import threading

    from csvanalyst.executors.kubernetes.executor import KubernetesExecutor, cleanup
    from tests.support.kube_api import KubeApiServer

    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "k8s"
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "sales.csv").write_text("region,amount\nnorth,1\n")
    request = RunRequest(
        code="SELECT 1", tables={"sales": TableSource(path=str(tmp_path / "t" / "sales.csv"), format="csv")}
    )
    calls: set[tuple[str, str, str]] = set()
    expected = {"success": ("ok", None), "running_forever": ("error", "cancelled")}
    for name in ("success", "running_forever"):
        with KubeApiServer.from_fixture(fixtures / f"{name}.json") as server:
            executor = KubernetesExecutor(
                api_client=server.api_client(),
                namespace="analytics",
                image="csvanalyst-runner:test",
                datasets_pvc="datasets",
                datasets_root=str(tmp_path),
                start_timeout_s=0.2,
                poll_s=0.01,
            )
            cancel = threading.Event()
            if name == "running_forever":
                threading.Timer(0.3, cancel.set).start()
            result = executor.run(request, cancel=cancel)
            assert (result.status, result.error and result.error.code) == expected[name]
            cleanup("analytics", api_client=server.api_client())
            calls |= {v for r in server.requests if (v := rbac_verb(r.method, r.path))}

    (role,) = [d for d in render(chart, {}) if d["kind"] == "Role"]
    granted = {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert calls == granted, f"called but not granted: {calls - granted}; granted but never called: {granted - calls}"
