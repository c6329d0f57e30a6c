"""The kubernetes sandbox against recorded API exchanges: the real kubernetes client, a local API server.

No live cluster can run here, so tests.support.kube_api replays each scenario in
tests/fixtures/k8s/ (the Job and pod states a v1.34 API server returns on successive reads, and the
pod's log) over real HTTP. Each test checks the RunResult the user gets and that the Job was deleted
with propagationPolicy=Background whenever it had been created.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.errors import EnvironmentProblem
from csvanalyst.executors.base import Limits, RunRequest, RunResult, load
from tests.support.kube_api import KubeApiServer

kubernetes = pytest.importorskip("kubernetes", reason="the kubernetes client is not installed")

from csvanalyst.executors.contract import RUNNER_ARGV  # noqa: E402
from csvanalyst.executors.kubernetes.errors import CREATE_JOB, READ_LOG, from_api  # noqa: E402
from csvanalyst.executors.kubernetes.executor import KubernetesExecutor, cleanup, diagnose  # noqa: E402
from csvanalyst.executors.kubernetes.status import split_log  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "k8s"
IMAGE = "csvanalyst-runner:test"


@pytest.fixture
def claim(tmp_path: Path) -> Path:
    (tmp_path / "ab12").mkdir()
    (tmp_path / "ab12" / "sales.csv").write_text("region,amount\nnorth,10.5\nsouth,20\nnorth,1\n")
    return tmp_path


@pytest.fixture(autouse=True)
def no_cluster_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may find a real kubeconfig or think it runs in a pod."""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.setenv("HOME", str(tmp_path))


def scenario(name: str) -> Iterator[KubeApiServer]:
    with KubeApiServer.from_fixture(FIXTURES / f"{name}.json") as server:
        yield server


def executor(server: KubeApiServer, claim: Path, **over: Any) -> KubernetesExecutor:
    options: dict[str, Any] = dict(
        api_client=server.api_client(),
        namespace="analytics",
        image=IMAGE,
        datasets_pvc="csvanalyst-datasets",
        datasets_root=str(claim),
        labels={"app.kubernetes.io/instance": "prod"},
        start_timeout_s=0.2,
        poll_s=0.01,
    )
    return KubernetesExecutor(**{**options, **over})


def sales_request(
    claim: Path, code: str = "SELECT region, sum(amount) AS total FROM sales GROUP BY 1 ORDER BY 1", **limits: Any
) -> RunRequest:
    tables = {"sales": TableSource(path=str(claim / "ab12" / "sales.csv"), format="csv")}
    return RunRequest(code=code, tables=tables, limits=Limits(**limits))


def run_scenario(name: str, claim: Path, **limits: Any) -> tuple[RunResult, KubeApiServer]:
    with KubeApiServer.from_fixture(FIXTURES / f"{name}.json") as server:
        result = executor(server, claim).run(sales_request(claim, **limits))
    return result, server


def assert_deleted(server: KubeApiServer) -> None:
    (created,) = server.created_jobs
    (delete,) = server.calls("delete_job")
    assert delete.path.endswith(f"/namespaces/analytics/jobs/{created['metadata']['name']}")
    assert delete.query.get("propagationPolicy") == ["Background"]
    assert server.jobs == {}


def test_success_returns_the_runners_rows_and_deletes_the_job(claim: Path) -> None:
    result, server = run_scenario("success", claim)
    assert result.status == "ok", result.error
    assert result.rows == [["north", 11.5], ["south", 20.0]]
    assert [c.name for c in result.columns] == ["region", "total"]
    assert result.executor == "kubernetes" and "total_ms" in result.timings
    assert_deleted(server)
    run_id = server.created_jobs[0]["metadata"]["labels"]["csvanalyst.io/run"]
    assert {tuple(c.query["labelSelector"]) for c in server.calls("list_pods")} == {(f"csvanalyst.io/run={run_id}",)}
    (log,) = server.calls("read_log")
    assert log.query["container"] == ["runner"]
    assert int(log.query["limitBytes"][0]) > 8 * 1024 * 1024  # the capped output plus a margin


def test_the_created_job_is_the_locked_down_one(claim: Path) -> None:
    _, server = run_scenario("success", claim)
    (job,) = server.created_jobs
    spec = job["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["command"] == RUNNER_ARGV and "args" not in container
    assert {e["name"] for e in container["env"]} == {"CSVANALYST_REQUEST", "CSVANALYST_SANDBOX", "CSVANALYST_SCRATCH"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["automountServiceAccountToken"] is False
    assert job["spec"]["backoffLimit"] == 0 and spec["restartPolicy"] == "Never"
    mounts = [m for m in container["volumeMounts"] if m["name"] == "datasets"]
    assert mounts == [
        {"name": "datasets", "mountPath": "/data/0/sales.csv", "subPath": "ab12/sales.csv", "readOnly": True}
    ]
    assert job["metadata"]["labels"]["app.kubernetes.io/instance"] == "prod"


def test_output_is_capped_below_the_kubelets_log_rotation(claim: Path) -> None:
    _, server = run_scenario("success", claim, max_output_bytes=64 * 1024 * 1024)
    (job,) = server.created_jobs
    env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert json.loads(env["CSVANALYST_REQUEST"])["limits"]["max_output_bytes"] == 8 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "limits", "status", "code", "said"),
    [
        ("runner_error", {"code": "SELECT nope FROM sales"}, "error", "sql_error", ['"nope" not found']),
        ("oom_killed", {"memory_mb": 256}, "oom", "out_of_memory", ["256 MB"]),
        ("output_flood", {"max_output_bytes": 1024}, "sandbox_error", "output_too_large", ["1024 bytes"]),
        ("deadline_exceeded", {"timeout_s": 5}, "timeout", "timeout", ["5 s"]),
        ("deadline_terminating", {"timeout_s": 5}, "timeout", "timeout", ["5 s"]),
        ("running_forever", {"timeout_s": 0.05}, "timeout", "timeout", ["0.05 s"]),
        ("image_pull_backoff", {}, "sandbox_error", "image_pull_failed", [IMAGE, "kind load docker-image"]),
        ("unschedulable", {}, "sandbox_error", "unschedulable", ["0/1 nodes are available: 1 Insufficient memory"]),
        ("evicted", {}, "sandbox_error", "pod_evicted", ["low on resource: memory"]),
        ("pod_vanished", {}, "sandbox_error", "pod_deleted", ["deleted before it finished"]),
        ("api_unavailable", {}, "sandbox_error", "k8s_api_error", ["503", "get jobs.batch"]),
    ],
)
def test_scenario_ends_with_the_precise_status_and_cleans_up(
    claim: Path, name: str, limits: dict[str, Any], status: str, code: str, said: list[str]
) -> None:
    code_sql = limits.pop("code", None)
    with KubeApiServer.from_fixture(FIXTURES / f"{name}.json") as server:
        request = sales_request(claim, **limits) if code_sql is None else sales_request(claim, code_sql, **limits)
        result = executor(server, claim).run(request)
    assert (result.status, result.error and result.error.code) == (status, code), result.error
    assert result.error.hint
    for text in said:
        assert text in result.error.message + result.error.hint
    assert "Traceback" not in result.error.message
    assert_deleted(server)


def test_transient_api_errors_while_following_are_ridden_out(claim: Path) -> None:
    result, server = run_scenario("api_flaky", claim)
    assert result.status == "ok" and result.rows == [["north", 11.5], ["south", 20.0]]
    assert_deleted(server)


@pytest.mark.parametrize(
    ("name", "code", "said"),
    [
        ("forbidden", "k8s_forbidden", ["create jobs.batch", "analytics", "cannot create resource"]),
        ("namespace_missing", "k8s_namespace_missing", ["analytics does not exist", "kubectl create namespace"]),
    ],
)
def test_a_refused_create_is_reported_and_nothing_is_deleted(
    claim: Path, name: str, code: str, said: list[str]
) -> None:
    result, server = run_scenario(name, claim)
    assert result.status == "sandbox_error" and result.error.code == code
    for text in said:
        assert text in result.error.message + result.error.hint
    assert server.calls("delete_job") == []  # a 4xx means no Job exists, and a same-named one is not ours


def test_unreachable_api_is_a_clear_error(claim: Path) -> None:
    with KubeApiServer() as server:
        dead = server.url
    client = kubernetes.client.ApiClient(kubernetes.client.Configuration(host=dead))
    with KubeApiServer() as stand_in:
        result = executor(stand_in, claim, api_client=client).run(sales_request(claim))
    assert result.status == "sandbox_error" and result.error.code == "k8s_unreachable"
    assert dead in result.error.message and "--sandbox local" in result.error.hint
    assert "Connection refused" in result.error.message and "HTTPConnectionPool" not in result.error.message


def test_a_create_that_never_connected_sends_no_delete(claim: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing can exist when the connection itself failed: no delete is attempted, no warning is logged."""
    from csvanalyst.executors.kubernetes import executor as backend

    deletes: list[str] = []
    refused = kubernetes.client.ApiClient(kubernetes.client.Configuration(host="http://127.0.0.1:9"))
    original = backend.delete_job
    backend.delete_job = lambda api, ns, name: deletes.append(name) or True  # type: ignore[assignment]
    try:
        with KubeApiServer() as stand_in:
            result = executor(stand_in, claim, api_client=refused).run(sales_request(claim))
    finally:
        backend.delete_job = original
    assert result.error is not None and result.error.code == "k8s_unreachable"
    assert deletes == [] and "not deleted" not in caplog.text


def test_cancel_deletes_the_job_and_reports_cancelled(claim: Path) -> None:
    cancel = threading.Event()
    with KubeApiServer.from_fixture(FIXTURES / "running_forever.json") as server:

        def cancel_once_running() -> None:
            while not server.calls("list_pods"):
                threading.Event().wait(0.01)
            cancel.set()

        threading.Thread(target=cancel_once_running, daemon=True).start()
        result = executor(server, claim).run(sales_request(claim, timeout_s=600), cancel=cancel)
    assert result.status == "error" and result.error.code == "cancelled"
    assert_deleted(server)


def test_a_table_outside_the_claim_never_reaches_the_cluster(
    claim: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("laptop") / "mine.csv"
    outside.write_text("a\n1\n")
    with KubeApiServer() as server:
        request = RunRequest(code="SELECT a FROM mine", tables={"mine": TableSource(path=str(outside), format="csv")})
        result = executor(server, claim).run(request)
    assert result.status == "sandbox_error" and result.error.code == "table_not_on_claim"
    assert str(outside) in result.error.message and "server" in result.error.hint
    assert server.requests == []


def test_cleanup_deletes_only_leftover_runner_jobs(claim: Path) -> None:
    with KubeApiServer() as server:
        api = server.api_client()
        batch = kubernetes.client.BatchV1Api(api)
        runner = executor(server, claim)
        from csvanalyst.executors.kubernetes.job import build_job

        for run_id in ("aaaaaaaaaaaa", "bbbbbbbbbbbb"):
            batch.create_namespaced_job("analytics", build_job(sales_request(claim), run_id, runner.options))
        other = build_job(sales_request(claim), "cccccccccccc", runner.options)
        other.metadata.labels = {"app": "someone-else"}
        batch.create_namespaced_job("analytics", other)
        assert cleanup("analytics", api_client=api) == 2
        assert [name for _, name in server.jobs] == ["csvanalyst-run-cccccccccccc"]
        (listing,) = server.calls("list_jobs")
        assert listing.query["labelSelector"] == [
            "app.kubernetes.io/managed-by=csvanalyst,app.kubernetes.io/component=runner"
        ]


def test_load_without_kubeconfig_or_cluster_says_what_to_do() -> None:
    with pytest.raises(EnvironmentProblem) as caught:
        load("kubernetes")
    assert "No kubeconfig" in caught.value.message
    assert "KUBECONFIG" in caught.value.hint and "--sandbox local" in caught.value.hint


def test_kubeconfig_context_gives_the_cluster_and_namespace(
    claim: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with KubeApiServer.from_fixture(FIXTURES / "success.json") as server:
        config = tmp_path / "kubeconfig"
        config.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "local", "cluster": {"server": server.url}}],
                    "users": [{"name": "me", "user": {"token": "t0ken"}}],
                    "contexts": [
                        {"name": "other", "context": {"cluster": "local", "user": "me"}},
                        {"name": "team", "context": {"cluster": "local", "user": "me", "namespace": "team-a"}},
                    ],
                    "current-context": "other",
                }
            )
        )
        monkeypatch.setenv("KUBECONFIG", str(config))
        monkeypatch.setenv("CSVANALYST_K8S_DATASETS_PVC", "csvanalyst-datasets")
        runner = KubernetesExecutor(context="team", datasets_root=str(claim), image=IMAGE, poll_s=0.01)
        assert runner.namespace == "team-a"
        result = runner.run(sales_request(claim))
    assert result.status == "ok" and result.rows == [["north", 11.5], ["south", 20.0]]
    assert server.created_jobs[0]["metadata"]["namespace"] == "team-a"
    assert server.calls("create_job")[0].headers["authorization"] == "Bearer t0ken"


def test_no_datasets_claim_is_an_environment_problem(claim: Path) -> None:
    with KubeApiServer() as server, pytest.raises(EnvironmentProblem) as caught:
        KubernetesExecutor(api_client=server.api_client(), datasets_root=str(claim))
    assert "CSVANALYST_K8S_DATASETS_PVC" in caught.value.hint


def test_diagnose_without_kubeconfig() -> None:
    usable, why = diagnose()
    assert not usable and "No kubeconfig" in why


def test_diagnose_reachable_and_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSVANALYST_K8S_DATASETS_PVC", "csvanalyst-datasets")
    with KubeApiServer() as server:
        usable, why = diagnose(server.api_client(), "analytics")
        reviews = server.calls("access_review")
    assert usable and "v1.34.1" in why and "analytics" in why and "csvanalyst-datasets" in why
    asked = {
        (r.body["spec"]["resourceAttributes"]["verb"], r.body["spec"]["resourceAttributes"]["resource"])
        for r in reviews
    }
    assert asked == {("create", "jobs"), ("get", "jobs"), ("delete", "jobs"), ("list", "pods"), ("get", "pods")}


def test_diagnose_names_the_missing_permissions() -> None:
    with KubeApiServer.from_fixture(FIXTURES / "forbidden.json") as server:
        usable, why = diagnose(server.api_client(), "analytics")
    assert not usable and "create jobs.batch" in why and "delete jobs.batch" in why and "get pods/log" not in why


def test_diagnose_without_a_datasets_claim() -> None:
    with KubeApiServer() as server:
        usable, why = diagnose(server.api_client(), "analytics")
    assert not usable and "CSVANALYST_K8S_DATASETS_PVC" in why


def test_diagnose_unreachable() -> None:
    with KubeApiServer() as server:
        dead = server.url
    usable, why = diagnose(kubernetes.client.ApiClient(kubernetes.client.Configuration(host=dead)), "analytics")
    assert not usable and "not reachable" in why and dead in why


@pytest.mark.parametrize(
    ("status", "code", "said"),
    [
        (401, "k8s_unauthorized", "credentials"),
        (409, "k8s_conflict", "conflict"),
        (422, "k8s_invalid", "admission"),
        (500, "k8s_api_error", "readyz"),
    ],
)
def test_api_statuses_map_to_codes(status: int, code: str, said: str) -> None:
    body = json.dumps({"kind": "Status", "message": "the server says no", "code": status})
    failure = from_api(kubernetes.client.ApiException(status=status, reason="x", body=body), CREATE_JOB, "ns", "h")
    assert failure.code == code and "the server says no" in failure.message
    assert said in (failure.message + failure.hint)


def test_forbidden_log_read_names_the_subresource() -> None:
    failure = from_api(kubernetes.client.ApiException(status=403, reason="Forbidden", body="{}"), READ_LOG, "ns", "h")
    assert "get pods/log" in failure.hint


def test_pod_log_is_split_into_result_and_diagnostics() -> None:
    raw = b'runner: could not apply resource limits: x\n{"status":"ok","rows":[[1]]}\nTraceback-ish tail'
    stdout, stderr = split_log(raw)
    assert stdout == b'{"status":"ok","rows":[[1]]}'
    assert b"could not apply" in stderr and b"Traceback-ish" in stderr
    assert split_log(b"no json at all") == (b"", b"no json at all")


@pytest.mark.parametrize("name", ["success", "runner_error"])
def test_recorded_logs_are_what_the_runner_writes_today(name: str, tmp_path: Path) -> None:
    """The fixtures' logs came from the real runner; re-running it must give the same result (timings aside)."""
    recorded = json.loads((FIXTURES / f"{name}.json").read_text())
    csv = tmp_path / "sales.csv"
    csv.write_text(recorded["recorded_with"]["csv"])
    request = recorded["recorded_with"]["request"]
    request["tables"]["sales"]["path"] = str(csv)
    env = {"PATH": os.environ["PATH"], "CSVANALYST_REQUEST": json.dumps(request), "CSVANALYST_SCRATCH": str(tmp_path)}
    fresh = subprocess.run(
        [sys.executable, "-s", "-B", "-m", "csvanalyst.runner"],
        env=env,
        capture_output=True,
        check=True,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
    )
    now, then = json.loads(fresh.stdout), json.loads(recorded["responses"]["read_log"][0]["text"])
    now.pop("timings"), then.pop("timings")
    assert now == then
