"""Every sandbox backend implements the whole Executor protocol (prepare, isolation, ready, run with cancel,
close), so the core and the server call it directly instead of probing for optional methods.

Local and docker run for real; kubernetes talks to the local stand-in API server (no live cluster can run
here). Microsandbox cannot boot a VM here: its cancel and readiness tests are in test_microsandbox_unit.py.
Cancel against a running container, Job and warm worker is covered end to end in test_docker.py,
test_kube_exchange.py and test_local_pool.py.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import Executor, Limits, RunRequest
from csvanalyst.executors.local.executor import LocalExecutor
from tests.integration.docker_support import docker_executor
from tests.support.slow import NEVER_ENDING_SQL, never_ending_over

PROTOCOL = ("name", "isolation", "prepare", "ready", "run", "close", "__enter__", "__exit__")


def tables_at(path: Path) -> dict[str, TableSource]:
    path.write_text("a\n1\n2\n")
    return {"t": TableSource(path=str(path), format="csv")}


def cancelled(result: object) -> bool:
    error = getattr(result, "error", None)
    return getattr(result, "status", "") == "error" and error is not None and error.code == "cancelled"


def test_every_backend_class_declares_the_whole_protocol() -> None:
    from csvanalyst.executors.docker.executor import DockerExecutor
    from csvanalyst.executors.kubernetes.executor import KubernetesExecutor
    from csvanalyst.executors.microsandbox.executor import MicrosandboxExecutor

    for cls in (DockerExecutor, KubernetesExecutor, MicrosandboxExecutor):
        missing = [member for member in PROTOCOL if not hasattr(cls, member)]
        assert missing == [], f"{cls.__name__} lacks {missing}"
    assert {DockerExecutor.isolation, KubernetesExecutor.isolation, MicrosandboxExecutor.isolation} == {
        "container",
        "pod",
        "microvm",
    }


def test_local_implements_the_protocol_and_honours_cancel(tmp_path: Path) -> None:
    with LocalExecutor() as executor:
        assert isinstance(executor, Executor)
        assert executor.isolation in ("bwrap", "unshare", "none") and executor.ready() == "ok"
        tables = tables_at(tmp_path / "t.csv")
        executor.prepare(list(tables.values()), Limits())
        assert executor.run(RunRequest(code="SELECT count(*) FROM t", tables=tables)).rows == [[2]]
        cancel = threading.Event()
        cancel.set()
        result = executor.run(RunRequest(code=NEVER_ENDING_SQL, tables={}, limits=Limits(timeout_s=60)), cancel)
        assert cancelled(result), result


def test_docker_implements_the_protocol_honours_cancel_and_reports_a_missing_image(tmp_path: Path) -> None:
    with docker_executor() as executor:
        assert isinstance(executor, Executor)
        assert executor.isolation == "container" and executor.ready() == "ok"
        tables = tables_at(tmp_path / "t.csv")
        executor.prepare(list(tables.values()), Limits())
        cancel = threading.Event()
        cancel.set()
        slow = RunRequest(code=never_ending_over("t"), tables=tables, limits=Limits(timeout_s=60))
        assert cancelled(executor.run(slow, cancel))
        executor.image = "csvanalyst-runner:no-such-build"
        assert "is not built" in executor.ready()


def test_kubernetes_implements_the_protocol_and_prepares_nothing_ahead(tmp_path: Path) -> None:
    pytest.importorskip("kubernetes", reason="the kubernetes client is not installed")
    from csvanalyst.executors.kubernetes.executor import KubernetesExecutor
    from tests.support.kube_api import KubeApiServer

    with KubeApiServer() as api:
        executor = KubernetesExecutor(
            api_client=api.api_client(), namespace="analytics", image="csvanalyst-runner:t", datasets_pvc="datasets"
        )
        assert isinstance(executor, Executor) and executor.isolation == "pod"
        executor.prepare(list(tables_at(tmp_path / "t.csv").values()), Limits())
        assert api.requests == [], "a Job exists only for a run; prepare must not touch the cluster"
