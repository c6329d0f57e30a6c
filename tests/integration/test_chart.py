"""The Helm chart, rendered and linted by Helm's own engine (helm-python-sdk), every object checked against
the Kubernetes OpenAPI schema in strict mode, and the security properties asserted on what it renders."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

helm = pytest.importorskip("helm_python", reason="helm-python-sdk (the dev extra) is not installed")
kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")

CHART = Path(__file__).resolve().parents[2] / "charts" / "csvanalyst"
RELEASE, NAMESPACE = "demo", "analytics"
TOKEN, OPENAI_KEY, ANTHROPIC_KEY = "t0ken-that-must-stay-secret", "sk-openai-secret-value", "sk-ant-secret-value"
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "ingress": {
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "hosts": [{"host": "analyst.example.com", "paths": [{"path": "/", "pathType": "Prefix"}]}],
            "tls": [{"secretName": "analyst-tls", "hosts": ["analyst.example.com"]}],
        }
    },
    "existing-secret": {"secrets": {"existingSecret": "analyst-credentials"}},
    "given-secrets": {"secrets": {"token": TOKEN, "openaiApiKey": OPENAI_KEY, "anthropicApiKey": ANTHROPIC_KEY}},
    "local": {"sandbox": {"provider": "local"}},
    "tracing": {"tracing": {"enabled": True, "trackingUri": "http://mlflow.mlops:5000", "experimentName": "prod"}},
    "rwx": {"persistence": {"datasets": {"accessModes": ["ReadWriteMany"], "storageClass": "nfs"}}},
    "egress-restricted": {
        "networkPolicy": {"server": {"egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}},
        "model": {"provider": "openai", "name": "gpt-x", "openaiBaseUrl": "http://vllm.models:8000/v1"},
    },
}
BAD_VALUES = {
    "two replicas": ({"replicaCount": 2}, "/replicaCount"),
    "unknown sandbox": ({"sandbox": {"provider": "ssh"}}, "/sandbox/provider"),
    "negative timeout": ({"limits": {"timeoutSeconds": -1}}, "/limits/timeoutSeconds"),
    "unknown top-level key": ({"replicas": 1}, "additional properties 'replicas' not allowed"),
    "tag with spaces": ({"image": {"tag": "v1 latest"}}, "/image/tag"),
    "size not a quantity": ({"persistence": {"datasets": {"size": "ten gigs"}}}, "/persistence/datasets/size"),
    "unknown pull policy": ({"runner": {"image": {"pullPolicy": "Sometimes"}}}, "/runner/image/pullPolicy"),
    "zero threads": ({"limits": {"threads": 0}}, "/limits/threads"),
    "tracking uri without a scheme": ({"tracing": {"trackingUri": "mlflow:5000"}}, "/tracing/trackingUri"),
}
RUNNER_SELECTOR = {
    "app.kubernetes.io/name": "csvanalyst",
    "app.kubernetes.io/component": "runner",
    "app.kubernetes.io/instance": RELEASE,
}
DROP_ALL = {"drop": ["ALL"]}


@pytest.fixture(scope="module")
def chart() -> Any:
    with helm.Chart.load(CHART) as loaded:
        yield loaded


def render(chart: Any, values: dict[str, Any]) -> list[dict[str, Any]]:
    manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    docs = []
    for name, text in manifests.items():
        if name.endswith(".yaml"):
            docs += [doc for doc in yaml.safe_load_all(text) if doc]
    return docs


@pytest.fixture(scope="module")
def rendered(chart: Any) -> dict[str, list[dict[str, Any]]]:
    return {name: render(chart, values) for name, values in VARIANTS.items()}


def one(docs: list[dict[str, Any]], kind: str, name_suffix: str = "") -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].endswith(name_suffix)]
    assert len(found) == 1, f"{kind} *{name_suffix}: {[d['metadata']['name'] for d in found]}"
    return found[0]


def kinds(docs: list[dict[str, Any]]) -> list[str]:
    return sorted(d["kind"] for d in docs)


def server(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def env(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in server(docs)["env"]}


def test_chart_metadata_matches_the_package(chart: Any) -> None:
    from csvanalyst import __version__

    assert chart.metadata["apiVersion"] == "v2" and chart.metadata["appVersion"] == __version__
    assert chart.schema is not None and chart.schema["additionalProperties"] is False


def test_helm_lint_strict_finds_nothing(chart: Any) -> None:
    for values in VARIANTS.values():
        report = helm.lint(CHART, values, strict=True, namespace=NAMESPACE, kube_version="v1.37.0")
        problems = [m for m in report["messages"] if m["severity"] >= 2]
        assert report["errors"] == [] and problems == [], problems


def test_every_object_is_valid_kubernetes_in_strict_mode(rendered: dict[str, list[dict[str, Any]]]) -> None:
    version = kubernetes_validate.latest_version()
    assert tuple(map(int, version.split("."))) >= (1, 37)
    for variant, docs in rendered.items():
        for doc in docs:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{variant}: {doc['kind']} {doc['metadata']['name']}: {exc.message}")


def test_strict_validation_would_catch_an_unknown_field(rendered: dict[str, list[dict[str, Any]]]) -> None:
    broken = copy.deepcopy(one(rendered["default"], "Deployment"))
    broken["spec"]["template"]["spec"]["containers"][0]["securityContex"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes_validate.latest_version(), strict=True)


def test_the_objects_each_variant_renders(rendered: dict[str, list[dict[str, Any]]]) -> None:
    base = ["Deployment", "NetworkPolicy", "PersistentVolumeClaim", "PersistentVolumeClaim", "Secret", "Service"]
    k8s = sorted([*base, "NetworkPolicy", "Role", "RoleBinding", "ServiceAccount", "ServiceAccount"])
    assert kinds(rendered["default"]) == k8s
    assert kinds(rendered["ingress"]) == sorted([*k8s, "Ingress"])
    assert kinds(rendered["existing-secret"]) == sorted(k for k in k8s if k != "Secret")
    assert kinds(rendered["local"]) == sorted([*base, "ServiceAccount"])


def test_the_server_role_is_exactly_what_a_run_needs(rendered: dict[str, list[dict[str, Any]]]) -> None:
    role = one(rendered["default"], "Role")
    assert role["metadata"].get("namespace") in (None, NAMESPACE)
    assert role["rules"] == [
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "get", "list", "delete"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    ]
    binding = one(rendered["default"], "RoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    pod = one(rendered["default"], "Deployment")["spec"]["template"]["spec"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": pod["serviceAccountName"], "namespace": NAMESPACE}
    ]
    assert not [d for d in rendered["default"] if d["kind"] in ("ClusterRole", "ClusterRoleBinding")]


def test_runner_pods_get_a_tokenless_account_without_any_binding(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["default"]
    runner_sa = env(docs)["CSVANALYST_K8S_SERVICE_ACCOUNT"]
    account = one(docs, "ServiceAccount", "-runner")
    assert account["metadata"]["name"] == runner_sa and account["automountServiceAccountToken"] is False
    bound = [s["name"] for d in docs if d["kind"] == "RoleBinding" for s in d["subjects"]]
    assert runner_sa not in bound


def test_runner_network_policy_denies_everything(rendered: dict[str, list[dict[str, Any]]]) -> None:
    policy = one(rendered["default"], "NetworkPolicy", "-runner-deny-all")
    assert policy["spec"] == {"podSelector": {"matchLabels": RUNNER_SELECTOR}, "policyTypes": ["Ingress", "Egress"]}
    # The executor labels runner pods with the release through CSVANALYST_K8S_LABELS: the selector matches them.
    assert json.loads(env(rendered["default"])["CSVANALYST_K8S_LABELS"]) == {"app.kubernetes.io/instance": RELEASE}


def test_server_network_policy_opens_only_its_port(rendered: dict[str, list[dict[str, Any]]]) -> None:
    policy = one(rendered["default"], "NetworkPolicy", "-server")["spec"]
    assert policy["policyTypes"] == ["Ingress"] and policy["ingress"] == [
        {"ports": [{"port": "http", "protocol": "TCP"}]}
    ]
    assert server(rendered["default"])["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    restricted = one(rendered["egress-restricted"], "NetworkPolicy", "-server")["spec"]
    assert restricted["policyTypes"] == ["Ingress", "Egress"]
    assert restricted["egress"] == [{"ports": [{"port": 53, "protocol": "UDP"}]}]


def test_pod_and_container_are_locked_down(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for variant, docs in rendered.items():
        pod = one(docs, "Deployment")["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        ctx = server(docs)["securityContext"]
        assert ctx["readOnlyRootFilesystem"] is True and ctx["allowPrivilegeEscalation"] is False, variant
        assert ctx["capabilities"] == DROP_ALL and ctx["runAsNonRoot"] is True and ctx["runAsUser"] == 10001
        mounts = {m["mountPath"]: m["name"] for m in server(docs)["volumeMounts"]}
        assert mounts == {"/var/lib/csvanalyst": "store", "/var/lib/csvanalyst/cache": "datasets", "/tmp": "tmp"}
        assert {v["name"]: "emptyDir" in v for v in pod["volumes"]}["tmp"] is True
        assert pod["automountServiceAccountToken"] is (variant != "local")


def test_probes_hit_the_servers_health_routes(rendered: dict[str, list[dict[str, Any]]]) -> None:
    from csvanalyst.server.routes.health import router

    container = server(rendered["default"])
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    routes = {getattr(r, "path", None) for r in router.routes}
    assert {"/healthz", "/readyz"} <= routes


def test_secrets_are_referenced_never_inlined(rendered: dict[str, list[dict[str, Any]]]) -> None:
    docs = rendered["given-secrets"]
    secret = one(docs, "Secret")
    values = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert values == {"token": TOKEN, "openai-api-key": OPENAI_KEY, "anthropic-api-key": ANTHROPIC_KEY}
    variables = env(docs)
    for name, key in [("CSVANALYST_TOKEN", "token"), ("OPENAI_API_KEY", "openai-api-key")]:
        assert variables[name] == {"secretKeyRef": {"name": secret["metadata"]["name"], "key": key, **_optional(key)}}
    text = yaml.safe_dump([d for d in docs if d["kind"] != "Secret"])
    for value in (TOKEN, OPENAI_KEY, ANTHROPIC_KEY):
        assert value not in text
    existing = env(rendered["existing-secret"])
    assert existing["CSVANALYST_TOKEN"]["secretKeyRef"]["name"] == "analyst-credentials"


def _optional(key: str) -> dict[str, bool]:
    return {} if key == "token" else {"optional": True}


def test_a_token_is_generated_when_none_is_given(rendered: dict[str, list[dict[str, Any]]]) -> None:
    token = base64.b64decode(one(rendered["default"], "Secret")["data"]["token"]).decode()
    assert len(token) == 40 and token.isalnum()
    assert "OPENAI_API_KEY" in env(rendered["default"])  # optional reference: absent key, no error


def test_env_is_what_the_settings_accept(
    rendered: dict[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from csvanalyst.config import Settings

    docs = rendered["default"]
    variables = env(docs)
    assert variables["CSVANALYST_K8S_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    for name, value in variables.items():
        if isinstance(value, str):
            monkeypatch.setenv(name, value)
    settings = Settings()
    pod = one(docs, "Deployment")["spec"]
    assert settings.sandbox == "kubernetes" and settings.k8s_image == "csvanalyst-runner:latest"
    assert settings.k8s_colocate_labels == pod["selector"]["matchLabels"]
    assert settings.k8s_labels == {"app.kubernetes.io/instance": RELEASE}
    assert str(settings.k8s_datasets_root) == "/var/lib/csvanalyst/cache" == str(settings.cache_dir)
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in pod["template"]["spec"]["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert settings.k8s_datasets_pvc == claims["datasets"]
    assert (settings.timeout_s, settings.memory_mb, settings.threads, settings.max_rows) == (60, 1024, 2, 10000)
    assert (settings.k8s_ttl_s, settings.k8s_start_timeout_s, settings.k8s_image_pull_policy) == (
        300,
        120,
        "IfNotPresent",
    )


def test_runner_pods_follow_a_read_write_once_claim_only(rendered: dict[str, list[dict[str, Any]]], chart: Any) -> None:
    assert "CSVANALYST_K8S_COLOCATE_LABELS" in env(rendered["default"])
    assert "CSVANALYST_K8S_COLOCATE_LABELS" not in env(rendered["rwx"])
    forced = render(chart, {**VARIANTS["rwx"], "runner": {"colocateWithServer": True}})
    assert "CSVANALYST_K8S_COLOCATE_LABELS" in env(forced)
    claim = one(rendered["rwx"], "PersistentVolumeClaim", "-datasets")["spec"]
    assert claim["accessModes"] == ["ReadWriteMany"] and claim["storageClassName"] == "nfs"


def test_local_sandbox_gets_no_kubernetes_access(rendered: dict[str, list[dict[str, Any]]]) -> None:
    variables = env(rendered["local"])
    assert variables["CSVANALYST_SANDBOX"] == "local"
    assert not [name for name in variables if name.startswith("CSVANALYST_K8S_")]


def test_one_replica_recreated_and_serve_flags_exist(rendered: dict[str, list[dict[str, Any]]]) -> None:
    from typer.testing import CliRunner

    from csvanalyst.cli.app import app

    spec = one(rendered["default"], "Deployment")["spec"]
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
    args = server(rendered["default"])["args"]
    help_text = CliRunner().invoke(app, ["serve", "--help"], terminal_width=200).output
    for flag in (a for a in args if a.startswith("--")):
        assert flag in help_text
    assert args[:4] == ["--host", "0.0.0.0", "--port", "8000"]
    assert args[args.index("--provider") + 1] == "auto"


def test_ingress_routes_to_the_service_with_tls(rendered: dict[str, list[dict[str, Any]]]) -> None:
    ingress = one(rendered["ingress"], "Ingress")["spec"]
    service = one(rendered["ingress"], "Service")
    assert ingress["ingressClassName"] == "nginx"
    assert ingress["tls"] == [{"secretName": "analyst-tls", "hosts": ["analyst.example.com"]}]
    backend = ingress["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": service["metadata"]["name"], "port": {"name": "http"}}


@pytest.mark.parametrize("values,where", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_schema_rejects_bad_values_in_helm_and_in_jsonschema(chart: Any, values: dict[str, Any], where: str) -> None:
    with pytest.raises(helm.HelmValuesError) as failure:
        chart.render(values, name=RELEASE, namespace=NAMESPACE)
    assert "values don't meet the specifications of the schema" in str(failure.value) and where in str(failure.value)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(chart.merge_values(values), chart.schema)


def test_schema_accepts_every_variant(chart: Any) -> None:
    for values in VARIANTS.values():
        jsonschema.validate(chart.merge_values(values), chart.schema)


def test_pod_grace_period_covers_the_servers_shutdown_grace(rendered: dict[str, list[dict[str, Any]]]) -> None:
    pod = one(rendered["default"], "Deployment")["spec"]["template"]["spec"]
    args = server(rendered["default"])["args"]
    grace = int(args[args.index("--grace") + 1])
    assert pod["terminationGracePeriodSeconds"] == grace + 10  # the server's grace, then time to exit
