"""The kubernetes sandbox behind the stand-in API server and kubelet, for tests that run the same probes in
every sandbox.

Not a live cluster: the API server is tests.support.kube_api, the Job controller and kubelet are
tests.support.kube_kubelet, which runs each Job's pod as a real Docker container of the runner image (so
the pod's walls are Docker's, set field by field from the pod spec the executor built). Each call stands
the directory holding the request's table files for the datasets claim, so a test's own tmp_path serves.

    with kube_sandbox() as sandbox:
        sandbox.run(request)              # KubernetesExecutor.run, the production path
        sandbox.spawn(argv, b"", request) # the same Job with only its command replaced
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from csvanalyst.executors.base import RunRequest, RunResult
from csvanalyst.executors.contract import Outcome
from tests.support.kube_kubelet import Kubelet, KubeletApiServer

CLAIM = "csvanalyst-datasets"
NAMESPACE = "analytics"
START_TIMEOUT_S = 30


def executor(server: KubeletApiServer, root: Path) -> Any:
    """The production executor, pointed at the stand-in and at `root` as the mounted datasets claim."""
    from csvanalyst.executors.docker.image import image_tag
    from csvanalyst.executors.kubernetes.executor import KubernetesExecutor

    return KubernetesExecutor(
        api_client=server.api_client(),
        namespace=NAMESPACE,
        image=image_tag(),
        datasets_pvc=CLAIM,
        datasets_root=str(root),
        labels={"app.kubernetes.io/instance": "test"},
        colocate_labels={},
        service_account="",
        start_timeout_s=START_TIMEOUT_S,
        poll_s=0.02,
    )


def spawn_job(runner: Any, argv: Sequence[str], request: RunRequest) -> Outcome:
    """A Job built exactly like a run's with only its command replaced, followed by the executor's Watch."""
    from kubernetes import client

    from csvanalyst.executors.kubernetes.executor import delete_job
    from csvanalyst.executors.kubernetes.job import build_job
    from csvanalyst.executors.kubernetes.watch import Target, Watch

    run_id = secrets.token_hex(6)
    job = build_job(request, run_id, runner.options)
    job.spec.template.spec.containers[0].command = list(argv)
    client.BatchV1Api(runner.api_client).create_namespaced_job(NAMESPACE, job)
    try:
        target = Target(NAMESPACE, job.metadata.name, run_id, runner.options.image, runner.host)
        return Watch(runner.api_client, target, request.limits, start_timeout_s=START_TIMEOUT_S, poll_s=0.02).follow()
    finally:
        delete_job(runner.api_client, NAMESPACE, job.metadata.name)


class KubeSandbox:
    """run() and spawn() as the docker sandbox offers them, each as one Job on the stand-in cluster."""

    name = "kubernetes"
    isolation = "pod"

    def __init__(self, kubelet: Kubelet, server: KubeletApiServer) -> None:
        self.kubelet = kubelet
        self.server = server

    def run(self, request: RunRequest, cancel: threading.Event | None = None) -> RunResult:
        return self._on_claim(request).run(request, cancel)

    def spawn(self, argv: Sequence[str], payload: bytes, request: RunRequest) -> Outcome:
        if payload:
            raise ValueError("a runner pod has no stdin: its request travels in the environment")
        return spawn_job(self._on_claim(request), argv, request)

    def _on_claim(self, request: RunRequest) -> Any:
        root = Path(os.path.commonpath([os.path.dirname(t.path) for t in request.tables.values()]))
        self.kubelet.claims[CLAIM] = root
        return executor(self.server, root)


@contextmanager
def kube_sandbox() -> Iterator[KubeSandbox]:
    """The sandbox; afterwards no Job and no pod container may remain, nor a Job the stand-in refused."""
    from tests.integration.docker_support import runner_image_client

    kubelet = Kubelet(client=runner_image_client("the stand-in kubelet"))
    try:
        with KubeletApiServer(kubelet) as server:
            yield KubeSandbox(kubelet, server)
            assert server.refusals == [], "the stand-in refused a Job the executor built"
            assert server.jobs == {}, "a runner Job outlived its run"
            assert kubelet.leftovers() == [], "a runner pod outlived its Job"
    finally:
        kubelet.close()
