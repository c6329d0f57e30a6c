"""The runner Job object, field by field, through the kubernetes client's own models and the OpenAPI schema.

No cluster is needed (none can run here): the Job is built, serialised exactly as the client sends it,
read back through the client's deserializer, and validated against the Kubernetes JSON schema that
kubernetes-validate ships for the newest release it knows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import Limits, RunRequest
from csvanalyst.executors.contract import MEMORY_HEADROOM_MB, RUNNER_ARGV
from csvanalyst.executors.kubernetes.job import (
    MIN_TTL_S,
    JobOptions,
    NotOnClaim,
    build_job,
    job_name,
    subpaths,
)

kubernetes = pytest.importorskip("kubernetes", reason="the kubernetes client is not installed")
kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")

DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
HOSTILE_SQL = "SELECT '\"$(rm -rf /)\"', `id`, $HOME\n; rm -rf / -- '\\x00 \u2028 ${IFS}"


@pytest.fixture
def claim(tmp_path: Path) -> Path:
    """A datasets root laid out like the cache on the claim: <fingerprint>/<file>."""
    for rel in ("ab12/orders.parquet", "cd34/customers.parquet", "ef56/unused.parquet"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"PAR1")
    return tmp_path


def options(claim: Path, **over: Any) -> JobOptions:
    base: dict[str, Any] = dict(
        namespace="analytics",
        image="csvanalyst-runner:test",
        datasets_pvc="csvanalyst-datasets",
        datasets_root=str(claim),
        labels={"app.kubernetes.io/instance": "prod"},
        ttl_s=600,
    )
    return JobOptions(**{**base, **over})


def request(claim: Path, code: str = "SELECT 1", **limits: Any) -> RunRequest:
    tables = {
        "orders": TableSource(path=str(claim / "ab12/orders.parquet"), format="parquet"),
        "customers": TableSource(path=str(claim / "cd34/customers.parquet"), format="parquet"),
    }
    return RunRequest(code=code, tables=tables, limits=Limits(**limits))


def serialized(job: Any) -> dict[str, Any]:
    return kubernetes.client.ApiClient().sanitize_for_serialization(job)


def pod_spec(job: dict[str, Any]) -> dict[str, Any]:
    return job["spec"]["template"]["spec"]


def env_of(job: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in pod_spec(job)["containers"][0]["env"]}


def test_job_round_trips_through_the_client_models(claim: Path) -> None:
    job = build_job(request(claim), "0123456789ab", options(claim))
    body = serialized(job)
    again = kubernetes.client.ApiClient().deserialize(json.dumps(body), "V1Job", "application/json")
    assert isinstance(again, kubernetes.client.V1Job)
    assert serialized(again) == body


def test_job_validates_against_the_newest_kubernetes_schema(claim: Path) -> None:
    body = serialized(build_job(request(claim), "0123456789ab", options(claim, colocate_labels={"app": "api"})))
    newest = kubernetes_validate.latest_version()
    assert kubernetes_validate.validate(body, newest, strict=True) == kubernetes_validate.utils.major_minor(newest)


def test_schema_validation_can_fail(claim: Path) -> None:
    body = serialized(build_job(request(claim), "0123456789ab", options(claim)))
    pod_spec(body)["containers"][0]["securityContext"]["readOnlyRootFileSystem"] = True  # misspelt field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(body, kubernetes_validate.latest_version(), strict=True)


def test_pod_and_container_are_locked_down(claim: Path) -> None:
    body = serialized(build_job(request(claim), "0123456789ab", options(claim)))
    spec = pod_spec(body)
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False
    assert spec["restartPolicy"] == "Never"
    assert "serviceAccountName" not in spec  # None: the namespace's default account, with no token
    (container,) = spec["containers"]
    assert container["securityContext"] == {
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    for forbidden in ("hostNetwork", "hostPID", "hostIPC", "initContainers", "imagePullSecrets"):
        assert forbidden not in spec


def test_job_spec_limits_and_lifetime(claim: Path) -> None:
    body = serialized(
        build_job(
            request(claim, timeout_s=30, memory_mb=1024, threads=3),
            "0123456789ab",
            options(claim, start_timeout_s=60, ttl_s=1),
        )
    )
    spec = body["spec"]
    assert spec["backoffLimit"] == 0
    assert spec["activeDeadlineSeconds"] == 93  # start allowance 60 + timeout 30 + kill grace 3
    assert spec["ttlSecondsAfterFinished"] == MIN_TTL_S  # never so short the log is gone before it is read
    resources = pod_spec(body)["containers"][0]["resources"]
    expected = {"cpu": "3", "memory": f"{1024 + MEMORY_HEADROOM_MB}Mi"}
    assert resources == {"requests": expected, "limits": expected}


def test_command_is_a_fixed_argv_and_the_env_is_exactly_three_names(claim: Path) -> None:
    body = serialized(build_job(request(claim), "0123456789ab", options(claim)))
    (container,) = pod_spec(body)["containers"]
    assert container["command"] == RUNNER_ARGV and "args" not in container
    assert not {"sh", "bash", "/bin/sh", "-c"} & set(container["command"])
    env = env_of(body)
    assert set(env) == {"CSVANALYST_REQUEST", "CSVANALYST_SANDBOX", "CSVANALYST_SCRATCH"}
    assert env["CSVANALYST_SANDBOX"] == "kubernetes" and env["CSVANALYST_SCRATCH"] == "/tmp/spill"
    assert "envFrom" not in container


def test_hostile_sql_is_data_inside_the_request_json_only(claim: Path) -> None:
    body = serialized(build_job(request(claim, code=HOSTILE_SQL), "0123456789ab", options(claim)))
    sent = json.loads(env_of(body)["CSVANALYST_REQUEST"])
    assert sent["code"] == HOSTILE_SQL  # byte-identical after the JSON round trip
    (container,) = pod_spec(body)["containers"]
    assert all("rm -rf" not in part for part in container["command"])
    everything_but_env = json.dumps({**body, "spec": {**body["spec"], "template": "-"}}) + json.dumps(
        {k: v for k, v in container.items() if k != "env"}
    )
    assert "rm -rf" not in everything_but_env


def test_request_tables_point_at_their_mounts(claim: Path) -> None:
    body = serialized(build_job(request(claim), "0123456789ab", options(claim)))
    sent = json.loads(env_of(body)["CSVANALYST_REQUEST"])
    assert {name: t["path"] for name, t in sent["tables"].items()} == {
        "orders": "/data/0/orders.parquet",
        "customers": "/data/1/customers.parquet",
    }


def test_only_the_requests_files_are_mounted_read_only_from_the_claim(claim: Path) -> None:
    body = serialized(build_job(request(claim), "0123456789ab", options(claim)))
    spec = pod_spec(body)
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["datasets"]["persistentVolumeClaim"] == {"claimName": "csvanalyst-datasets", "readOnly": True}
    assert volumes["tmp"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "256Mi"}
    mounts = spec["containers"][0]["volumeMounts"]
    assert {"name": "tmp", "mountPath": "/tmp"} in mounts
    data = sorted((m["mountPath"], m["subPath"], m["readOnly"]) for m in mounts if m["name"] == "datasets")
    assert data == [
        ("/data/0/orders.parquet", "ab12/orders.parquet", True),
        ("/data/1/customers.parquet", "cd34/customers.parquet", True),
    ]
    assert "unused" not in json.dumps(body)


def test_a_query_without_tables_mounts_no_claim(claim: Path) -> None:
    bare = RunRequest(code="SELECT 1", tables={})
    spec = pod_spec(serialized(build_job(bare, "0123456789ab", options(claim))))
    assert [v["name"] for v in spec["volumes"]] == ["tmp"]


@pytest.mark.parametrize("where", ["outside", "dotdot", "symlink"])
def test_a_file_not_on_the_claim_is_refused(claim: Path, tmp_path_factory: pytest.TempPathFactory, where: str) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "secret.csv"
    elsewhere.write_text("a\n1\n")
    if where == "outside":
        path = str(elsewhere)
    elif where == "dotdot":
        path = str(claim / "ab12" / ".." / ".." / elsewhere.parent.name / "secret.csv")
    else:
        (claim / "link.csv").symlink_to(elsewhere)
        path = str(claim / "link.csv")
    sneaky = RunRequest(code="SELECT 1", tables={"t": TableSource(path=path, format="csv")})
    with pytest.raises(NotOnClaim):
        subpaths(sneaky, str(claim))


def test_labels_follow_the_contract_and_fixed_ones_win(claim: Path) -> None:
    opts = options(claim, labels={"app.kubernetes.io/instance": "prod", "app.kubernetes.io/component": "evil"})
    body = serialized(build_job(request(claim), "0123456789ab", opts))
    expected = {
        "app.kubernetes.io/name": "csvanalyst",
        "app.kubernetes.io/component": "runner",
        "app.kubernetes.io/managed-by": "csvanalyst",
        "app.kubernetes.io/instance": "prod",
        "csvanalyst.io/run": "0123456789ab",
    }
    assert body["metadata"]["labels"] == expected
    assert body["spec"]["template"]["metadata"]["labels"] == expected


def test_colocation_is_a_required_pod_affinity_on_the_node(claim: Path) -> None:
    body = serialized(build_job(request(claim), "0123456789ab", options(claim, colocate_labels={"app": "api"})))
    (term,) = pod_spec(body)["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term == {"labelSelector": {"matchLabels": {"app": "api"}}, "topologyKey": "kubernetes.io/hostname"}
    plain = serialized(build_job(request(claim), "0123456789ab", options(claim)))
    assert "affinity" not in pod_spec(plain)


def test_service_account_is_set_only_when_configured(claim: Path) -> None:
    body = serialized(build_job(request(claim), "0123456789ab", options(claim, service_account="csvanalyst-runner")))
    assert pod_spec(body)["serviceAccountName"] == "csvanalyst-runner"
    assert pod_spec(body)["automountServiceAccountToken"] is False


@pytest.mark.parametrize("run_id", ["0123456789ab", "a" * 80, "abc-"])
def test_job_names_are_dns_labels(run_id: str) -> None:
    name = job_name(run_id)
    assert len(name) <= 63 and DNS_1123_LABEL.match(name), name
