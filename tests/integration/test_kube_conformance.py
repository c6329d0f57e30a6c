"""The kubernetes sandbox's real Jobs really running: the runner conformance checks, end to end.

Not a live cluster: the API server is played by tests.support.kube_api (over real HTTP, with the
real kubernetes client), the Job controller and the kubelet by tests.support.kube_kubelet, which
runs each Job's pod as a Docker container translated field by field from the pod spec the executor
built (network `none` standing for the Helm chart's deny-all NetworkPolicy). So these tests prove
what the recorded exchanges cannot: that the runner image, started exactly as the Job says, answers
correctly, and is locked down as the Job claims. Each run's Job and container must be gone afterwards.

Needs Docker and the runner image (`csvanalyst runner build`): skipped with the reason without them,
failed under CI=true.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import Limits, RunRequest
from csvanalyst.executors.contract import Outcome, to_result
from csvanalyst.executors.docker.check import KNOWN_CSV, KNOWN_ROWS, KNOWN_SQL
from csvanalyst.executors.local.executor import LocalExecutor
from tests.integration.docker_support import runner_image_client
from tests.integration.probes import SECRETS

pytest.importorskip("kubernetes", reason="the kubernetes client is not installed")

from tests.support.kube_kubelet import Kubelet, KubeletApiServer
from tests.support.kube_sandbox import CLAIM, NAMESPACE, executor, spawn_job
from tests.support.slow import never_ending_over

SLOW_SQL = never_ending_over("sales")


@pytest.fixture(scope="module")
def kubelet() -> Iterator[Kubelet]:
    stand_in = Kubelet(client=runner_image_client("the stand-in kubelet"))
    yield stand_in
    stand_in.close()
    assert stand_in.leftovers() == [], "a runner container outlived the module"


@pytest.fixture(scope="module")
def server(kubelet: Kubelet) -> Iterator[KubeletApiServer]:
    with KubeletApiServer(kubelet) as api:
        yield api


@pytest.fixture
def claim(tmp_path: Path, kubelet: Kubelet, server: KubeletApiServer) -> Iterator[Path]:
    """This test's claim: a directory standing for the PV, holding the known CSV and another file."""
    root = tmp_path / "claim"
    for relative, text in (("ab12/sales.csv", KNOWN_CSV), ("cd34/secret.csv", "secret\nhunter2\n")):
        (root / relative).parent.mkdir(parents=True)
        (root / relative).write_text(text)
    kubelet.claims[CLAIM] = root
    yield root
    assert server.refusals == [], "the stand-in refused a Job the executor built"
    assert server.jobs == {}, "a runner Job outlived its run"
    assert kubelet.leftovers() == [], "a runner container outlived its run"


@pytest.fixture(autouse=True)
def no_cluster_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))


def sales(root: Path, code: str = KNOWN_SQL, kind: str = "sql", **limits: Any) -> RunRequest:
    tables = {"sales": TableSource(path=str(root / "ab12" / "sales.csv"), format="csv")}
    merged = {"timeout_s": 30, "memory_mb": 512, **limits}
    return RunRequest(kind=kind, code=code, tables=tables, limits=Limits(**merged))  # type: ignore[arg-type]


def spawn(server: KubeletApiServer, root: Path, argv: list[str], request: RunRequest) -> Outcome:
    return spawn_job(executor(server, root), argv, request)


def probed(server: KubeletApiServer, root: Path, code: str, *args: str) -> dict[str, Any]:
    outcome = spawn(server, root, ["python3", "-c", code, *args], sales(root, "SELECT 1"))
    assert outcome.returncode == 0, outcome
    return json.loads(outcome.stdout)


def test_known_query_gives_the_known_rows(server: KubeletApiServer, claim: Path) -> None:
    result = executor(server, claim).run(sales(claim))
    assert result.status == "ok", result.error
    assert result.rows == KNOWN_ROWS and result.executor == "kubernetes"


def test_sql_error_carries_duckdbs_message(server: KubeletApiServer, claim: Path) -> None:
    result = executor(server, claim).run(sales(claim, "SELECT nope FROM sales"))
    local = LocalExecutor().run(sales(claim, "SELECT nope FROM sales"))
    assert result.status == "error" and result.error is not None and result.error.code == "sql_error"
    assert "nope" in result.error.message and result.error.message == local.error.message  # type: ignore[union-attr]


def test_registered_parquet_and_a_csv_on_the_claim(server: KubeletApiServer, kubelet: Kubelet, tmp_path: Path) -> None:
    """The deployment's layout: the claim is the dataset cache, where registered datasets' Parquet lives."""
    from csvanalyst.catalog.registry import add_dataset
    from csvanalyst.config import get_settings

    source = tmp_path / "orders.csv"
    source.write_text("region,qty\nnorth,2\nsouth,5\nnorth,3\n")
    info = add_dataset(source, name="orders")
    cache = Path(get_settings().cache_dir)
    (cache / "uploads").mkdir()
    (cache / "uploads" / "sales.csv").write_text(KNOWN_CSV)
    kubelet.claims[CLAIM] = cache
    parquet = info.tables[0].source
    assert parquet.format == "parquet" and Path(parquet.path).is_relative_to(cache)
    tables = {"orders": parquet, "sales": TableSource(path=str(cache / "uploads" / "sales.csv"), format="csv")}
    code = (
        "SELECT o.region, sum(o.qty) AS qty, any_value(s.total) AS total FROM orders o "
        "JOIN (SELECT region, sum(amount) AS total FROM sales GROUP BY 1) s USING (region) GROUP BY 1 ORDER BY 1"
    )
    request = RunRequest(code=code, tables=tables, limits=Limits(timeout_s=30, memory_mb=512))
    result = executor(server, cache).run(request)
    assert result.status == "ok", result.error
    assert result.rows == [["north", 5, 11.5], ["south", 5, 20.0]] == LocalExecutor().run(request).rows
    assert server.jobs == {} and kubelet.leftovers() == []


def test_restricted_python_runs_and_is_restricted(server: KubeletApiServer, claim: Path) -> None:
    runner = executor(server, claim)
    result = runner.run(sales(claim, "result = float(sales['amount'].sum())", kind="python"))
    assert result.status == "ok", result.error
    assert result.rows == [[31.5]]
    refused = runner.run(sales(claim, "import socket\nresult = 1", kind="python"))
    assert refused.status == "rejected", refused.error


def test_slow_query_times_out_and_leaves_nothing(server: KubeletApiServer, kubelet: Kubelet, claim: Path) -> None:
    result = executor(server, claim).run(sales(claim, SLOW_SQL, timeout_s=1))
    assert result.status == "timeout", result.error
    assert server.jobs == {} and kubelet.leftovers() == []


def test_active_deadline_kills_the_pod(server: KubeletApiServer, kubelet: Kubelet, claim: Path) -> None:
    """The Job's activeDeadlineSeconds, not our own clock, ends this one: the Watch sees DeadlineExceeded."""
    from kubernetes import client

    from csvanalyst.executors.kubernetes.executor import delete_job
    from csvanalyst.executors.kubernetes.job import build_job
    from csvanalyst.executors.kubernetes.watch import Target, Watch

    runner = executor(server, claim)
    request = sales(claim, SLOW_SQL, timeout_s=600)
    run_id = secrets.token_hex(6)
    job = build_job(request, run_id, runner.options)
    job.spec.active_deadline_seconds = 1
    client.BatchV1Api(runner.api_client).create_namespaced_job(NAMESPACE, job)
    try:
        target = Target(NAMESPACE, job.metadata.name, run_id, runner.options.image, runner.host)
        outcome = Watch(runner.api_client, target, request.limits, start_timeout_s=30, poll_s=0.02).follow()
        assert outcome.timed_out
        assert failed_condition(runner.api_client, job.metadata.name) == ("Failed", "DeadlineExceeded")
        assert kubelet.leftovers() == []  # the deadline removed the pod; the Job is not deleted yet
    finally:
        delete_job(runner.api_client, NAMESPACE, job.metadata.name)
    assert to_result(outcome, request).status == "timeout"


def failed_condition(api_client: Any, name: str) -> tuple[str, str] | None:
    """The Job's Failed condition, once the pod is gone (FailureTarget comes first, while it terminates)."""
    from kubernetes import client

    for _ in range(1500):  # a bound, not a timing claim: the pod's grace period is 1 s
        conditions = client.BatchV1Api(api_client).read_namespaced_job(name, NAMESPACE).status.conditions or []
        failed = [(c.type, c.reason) for c in conditions if c.type == "Failed"]
        if failed:
            return failed[0]
        time.sleep(0.02)
    return None


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("python", "chunks = []\nwhile True:\n    chunks.append('x' * (64 * 1024 * 1024))\n"),
        ("sql", "SELECT list(i || 'padding-padding') FROM range(100000000) t(i)"),
    ],
)
def test_memory_bomb_is_oom(server: KubeletApiServer, claim: Path, kind: str, code: str) -> None:
    result = executor(server, claim).run(sales(claim, code, kind=kind, memory_mb=256))
    assert result.status == "oom" and result.error is not None, result


def test_memory_past_the_container_limit_is_oom_killed(server: KubeletApiServer, claim: Path) -> None:
    """No runner limits here: the cgroup limit from resources.limits.memory kills it, reported OOMKilled."""
    code = "chunks = []\nwhile True:\n    chunks.append(bytearray(64 * 1024 * 1024))\n"
    request = sales(claim, "SELECT 1", memory_mb=128)
    outcome = spawn(server, claim, ["python3", "-c", code], request)
    assert to_result(outcome, request).status == "oom", outcome


def test_large_result_is_shrunk_to_the_output_cap(server: KubeletApiServer, claim: Path) -> None:
    cap = 64 * 1024
    code = "SELECT i, repeat('x', 1000) AS s FROM range(10000) t(i)"
    result = executor(server, claim).run(sales(claim, code, max_output_bytes=cap))
    assert result.status == "ok" and result.truncated, result.error
    assert 0 < len(result.rows) < 10000 and len(result.model_dump_json(include={"rows"})) <= cap


def test_output_flood_is_cut_off(server: KubeletApiServer, claim: Path) -> None:
    code = "import sys\nblock = b'x' * (1 << 20)\nfor _ in range(4):\n    sys.stdout.buffer.write(block)\n"
    request = sales(claim, "SELECT 1", max_output_bytes=1 << 20)
    outcome = spawn(server, claim, ["python3", "-c", code], request)
    result = to_result(outcome, request)
    assert result.status == "sandbox_error" and result.error and result.error.code == "output_too_large"


TRY_CONNECT = """
import json, socket
seen = {}
for host, port in (("1.1.1.1", 53), ("169.254.169.254", 80)):
    try:
        socket.create_connection((host, port), timeout=3).close(); seen[host] = "connected"
    except OSError as exc:
        seen[host] = "blocked: " + type(exc).__name__
print(json.dumps(seen))
"""


def test_no_network_from_inside(server: KubeletApiServer, claim: Path) -> None:
    seen = probed(server, claim, TRY_CONNECT)
    assert set(seen) == {"1.1.1.1", "169.254.169.254"}
    assert all(v.startswith("blocked") for v in seen.values()), seen


LOOK_AROUND = """
import json, os, sys
seen = {"uid": os.getuid(), "gid": os.getgid(), "groups": sorted(os.getgroups())}
status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
seen["cap_eff"] = status["CapEff"].strip()
seen["no_new_privs"] = status.get("NoNewPrivs", "").strip()
seen["written"] = []
for path in ("/opt/csvanalyst/runner/x", "/etc/x", "/data/0/sales.csv", "/tmp/ok"):
    try:
        open(path, "a").write("x"); seen["written"].append(path)
    except OSError:
        pass
seen["data"] = {d: sorted(os.listdir(os.path.join("/data", d))) for d in sorted(os.listdir("/data"))}
seen["table"] = open("/data/0/sales.csv").read()
seen["other"] = [p for p in sys.argv[1:] if os.path.exists(p)]
seen["token"] = os.path.exists("/var/run/secrets/kubernetes.io/serviceaccount")
seen["env"] = dict(os.environ)
print(json.dumps(seen))
"""


def test_locked_down_as_the_job_says(server: KubeletApiServer, claim: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    other = claim / "cd34" / "secret.csv"
    seen = probed(server, claim, LOOK_AROUND, str(other), "/data/1/secret.csv", "/cd34/secret.csv")
    assert (seen["uid"], seen["gid"]) == (10001, 10001)
    assert int(seen["cap_eff"], 16) == 0 and seen["no_new_privs"] == "1"
    assert seen["written"] == ["/tmp/ok"], "only the emptyDir at /tmp is writable"
    assert seen["data"] == {"0": ["sales.csv"]} and seen["table"] == KNOWN_CSV
    assert seen["other"] == [] and not seen["token"]
    env = seen["env"]
    assert not set(SECRETS) & set(env) and not any(v in json.dumps(env) for v in SECRETS.values())
    assert env["CSVANALYST_SANDBOX"] == "kubernetes" and json.loads(env["CSVANALYST_REQUEST"])["code"] == "SELECT 1"


def test_a_job_the_stand_in_cannot_reproduce_is_refused(server: KubeletApiServer, claim: Path) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    from csvanalyst.executors.kubernetes.job import build_job

    runner = executor(server, claim)
    job = build_job(sales(claim), secrets.token_hex(6), runner.options)
    job.spec.template.spec.host_network = True
    with pytest.raises(ApiException) as caught:
        client.BatchV1Api(runner.api_client).create_namespaced_job(NAMESPACE, job)
    assert caught.value.status == 422 and "hostNetwork" in json.loads(caught.value.body)["message"]
    assert server.refusals and "hostNetwork" in server.refusals.pop()


@pytest.mark.parametrize(("owner", "readable"), [(10001, True), (10002, False)], ids=["app-uid", "other-uid"])
def test_table_file_mode_as_the_app_writes_it(
    server: KubeletApiServer, claim: Path, owner: int, readable: bool
) -> None:
    """The application pod writes the claim as uid 10001; under umask 077 only the same uid can read it back."""
    if os.geteuid() != 0:
        pytest.skip("changing a file's owner needs root")
    table = claim / "ab12" / "sales.csv"
    os.chown(table, owner, owner)
    table.chmod(0o600)
    result = executor(server, claim).run(sales(claim))
    if readable:
        assert result.status == "ok" and result.rows == KNOWN_ROWS, result.error
    else:
        assert result.status == "error" and result.error is not None and result.error.code == "table_unreadable"


def test_largest_request_the_executor_sends_still_starts(server: KubeletApiServer, claim: Path) -> None:
    """Linux refuses one environment string over 128 KiB; a request just under the executor's cap must start."""
    from csvanalyst.executors.kubernetes.job import MAX_REQUEST_ENV_BYTES, request_env

    base = sales(claim, "SELECT 1 AS one -- ")
    padding = MAX_REQUEST_ENV_BYTES - len(request_env(base).encode()) - 16
    request = sales(claim, "SELECT 1 AS one -- " + "x" * padding)
    assert MAX_REQUEST_ENV_BYTES - 64 < len(request_env(request).encode()) <= MAX_REQUEST_ENV_BYTES
    result = executor(server, claim).run(request)
    assert result.status == "ok" and result.rows == [[1]], result.error


def test_cancel_deletes_the_running_pod(server: KubeletApiServer, kubelet: Kubelet, claim: Path) -> None:
    cancel = threading.Event()
    results: list[Any] = []
    worker = threading.Thread(
        target=lambda: results.append(executor(server, claim).run(sales(claim, SLOW_SQL), cancel))
    )
    worker.start()
    while not any(kubelet.container_status(p)[0] == "Running" for p in kubelet.pods if not p.gone):
        assert worker.is_alive(), results
        time.sleep(0.02)
    cancel.set()
    worker.join()
    (result,) = results
    assert result.status == "error" and result.error.code == "cancelled"


def test_a_root_pod_is_refused_by_the_kubelet(server: KubeletApiServer, kubelet: Kubelet, claim: Path) -> None:
    """runAsNonRoot is the kubelet's check, not the API server's: the pod is created and never starts."""
    from kubernetes import client

    from csvanalyst.executors.kubernetes.errors import KubeFailure
    from csvanalyst.executors.kubernetes.executor import delete_job
    from csvanalyst.executors.kubernetes.job import build_job
    from csvanalyst.executors.kubernetes.watch import Target, Watch

    runner = executor(server, claim)
    request = sales(claim)
    run_id = secrets.token_hex(6)
    job = build_job(request, run_id, runner.options)
    job.spec.template.spec.security_context.run_as_user = 0
    client.BatchV1Api(runner.api_client).create_namespaced_job(NAMESPACE, job)
    try:
        target = Target(NAMESPACE, job.metadata.name, run_id, runner.options.image, runner.host)
        with pytest.raises(KubeFailure) as caught:
            Watch(runner.api_client, target, request.limits, start_timeout_s=30, poll_s=0.02).follow()
    finally:
        delete_job(runner.api_client, NAMESPACE, job.metadata.name)
    assert caught.value.code == "container_start_failed" and "runAsNonRoot" in caught.value.message
    assert kubelet.leftovers() == []
