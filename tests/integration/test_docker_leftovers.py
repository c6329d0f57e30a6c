"""Containers left by a process killed with -9: swept by the next start on the same home, never
another home's (another user's) containers."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from pathlib import Path

from csvanalyst.config import get_settings
from csvanalyst.executors.docker.executor import LABEL, cleanup
from tests.integration.docker_support import docker_executor, runner_image_client


def _warm_worker_then_wait(home: str, csv: str, ready: object) -> None:
    os.environ["CSVANALYST_HOME"] = home
    from csvanalyst.catalog.schema import TableSource
    from csvanalyst.executors.base import RunRequest
    from csvanalyst.executors.docker.executor import DockerExecutor

    executor = DockerExecutor(keep_warm=True)
    executor.run(RunRequest(code="SELECT a FROM t", tables={"t": TableSource(path=csv, format="csv")}))
    ready.put(os.getpid())  # type: ignore[attr-defined]
    threading.Event().wait()  # a server holding an idle warm worker, until killed


def _killed_owner_on(home: Path, csv: Path) -> int:
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Queue()
    child = spawn.Process(target=_warm_worker_then_wait, args=(str(home), str(csv), ready))
    child.start()
    pid = ready.get(timeout=120)
    os.kill(pid, signal.SIGKILL)
    child.join()
    return pid


def _containers_of(client: object, pid: int) -> list[object]:
    return client.containers.list(all=True, filters={"label": [LABEL, f"csvanalyst.host_pid={pid}"]})  # type: ignore[attr-defined]


def test_a_restart_sweeps_its_homes_orphans_and_only_those(tmp_path: Path) -> None:
    client = runner_image_client("sweeping docker leftovers")
    csv = tmp_path / "t.csv"
    csv.write_text("a\n1\n")
    here = _killed_owner_on(get_settings().home, csv)
    elsewhere = _killed_owner_on(tmp_path / "another-users-home", csv)
    try:
        assert _containers_of(client, here) and _containers_of(client, elsewhere), "-9 leaves the workers"
        with docker_executor():  # any front end starting on this home
            assert _containers_of(client, here) == []
            assert cleanup(client) == 0  # nothing of this home is left, and the other home is not ours
        assert _containers_of(client, elsewhere), "another home's containers must not be touched"
    finally:
        for container in _containers_of(client, elsewhere):
            container.remove(force=True)  # type: ignore[attr-defined]
        client.close()
