"""How often the kubernetes sandbox asks about its Job: fast after every change of the pod's state, then
backing off to poll_s. Checked on the delays the follower asks for (no clock involved), against the local
Kubernetes API server replaying recorded exchanges (not a live cluster)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

pytest.importorskip("kubernetes", reason="the kubernetes client is not installed")

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import RunRequest, RunResult
from csvanalyst.executors.kubernetes.executor import KubernetesExecutor
from csvanalyst.executors.kubernetes.watch import BACKOFF, FAST_POLL_S
from tests.support.kube_api import KubeApiServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "k8s"


class RecordingCancel(threading.Event):
    """A cancel event that records each wait instead of sleeping, and cancels after `limit` waits."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.delays: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.delays.append(round(float(timeout or 0), 6))
        if len(self.delays) >= self.limit:
            self.set()
        return self.is_set()


def delays(scenario: str, poll_s: float, tmp_path: Path, limit: int = 50) -> tuple[list[float], RunResult]:
    """The waits a whole run asks for, through the executor and the real client."""
    (tmp_path / "sales.csv").write_text("region,amount\nnorth,1\n")
    request = RunRequest(code="SELECT 1", tables={"sales": TableSource(path=str(tmp_path / "sales.csv"), format="csv")})
    cancel = RecordingCancel(limit)
    with KubeApiServer.from_fixture(FIXTURES / f"{scenario}.json") as server:
        executor = KubernetesExecutor(
            api_client=server.api_client(),
            namespace="analytics",
            image="runner:t",
            datasets_pvc="datasets",
            datasets_root=str(tmp_path),
            start_timeout_s=3600,
            poll_s=poll_s,
        )
        result = executor.run(request, cancel=cancel)
    return cancel.delays, result


def test_a_steady_state_backs_off_geometrically_to_poll_s(tmp_path: Path) -> None:
    waited, result = delays("running_forever", 0.5, tmp_path, limit=12)
    assert result.error is not None and result.error.code == "cancelled"
    expected, delay = [], FAST_POLL_S
    for _ in range(12):
        expected.append(round(delay, 6))
        delay = min(0.5, delay * BACKOFF)
    assert waited == expected and max(waited) == 0.5


def test_every_change_of_the_pods_state_starts_fast_again(tmp_path: Path) -> None:
    waited, result = delays("success", 0.5, tmp_path)
    assert result.status == "ok", result
    assert waited == [FAST_POLL_S, FAST_POLL_S], "Pending, then Running: each seen state is polled fast first"


def test_poll_s_below_the_fast_interval_is_kept(tmp_path: Path) -> None:
    waited, _ = delays("running_forever", 0.01, tmp_path, limit=5)
    assert waited == [0.01] * 5
