"""The sandboxes Python mode may run in, for tests that run the same snippets in each: bwrap locally, or a
container of the runner image; the escape tests add a runner pod (kubernetes, on the stand-in cluster of
tests.support.kube_sandbox) and a microVM. Each skips (or fails under CI) where it cannot run, and each
proves that no container, Job or VM outlived the test."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from csvanalyst.executors.base import RunRequest
from csvanalyst.executors.local.executor import LocalExecutor
from tests.integration.docker_support import docker_executor, leftovers
from tests.support.requires import local_isolation, microvm_rootfs

PYTHON_SANDBOXES = ["bwrap", "docker"]
ESCAPE_SANDBOXES = [*PYTHON_SANDBOXES, "kubernetes", "microsandbox"]


@contextmanager
def python_sandbox(name: str) -> Iterator[object]:
    if name == "docker":
        executor = docker_executor()
        yield executor
        executor.close()
        assert leftovers(executor) == [], "a container outlived its run"
        return
    if name == "kubernetes":
        pytest.importorskip("kubernetes", reason="the kubernetes client is not installed")
        from tests.support.kube_sandbox import kube_sandbox

        with kube_sandbox() as pod:
            yield pod
        return
    if name == "microsandbox":
        yield from _microvm()
        return
    local_isolation(name)
    with LocalExecutor(isolation=name) as local:
        yield local


def _microvm() -> Iterator[object]:
    from csvanalyst.executors.microsandbox import executor as microsandbox

    vm = microsandbox.MicrosandboxExecutor(microvm_rootfs())
    yield vm
    assert microsandbox.ours(os.getpid()) == [], "a microVM outlived its run"


def table_paths(sandbox: object, request: RunRequest) -> dict[str, str]:
    """Each table's path as code in `sandbox` sees it: the host's own locally, its mount point elsewhere."""
    if not isinstance(sandbox, LocalExecutor):
        from csvanalyst.executors.contract import mapped_request

        request = mapped_request(request)
    return {name: source.path for name, source in request.tables.items()}


def python_in(sandbox: object) -> str:
    """The interpreter to start in `sandbox`: this one locally, the runner image's elsewhere."""
    return sys.executable if isinstance(sandbox, LocalExecutor) else "python3"
