"""The sandboxes Python mode may run in, for tests that run the same snippets in each: bwrap locally, or a
container of the runner image. Each skips (or fails under CI) where it cannot run, and docker proves that no
container outlived the test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from csvanalyst.executors.local.executor import LocalExecutor
from tests.integration.docker_support import docker_executor, leftovers
from tests.support.requires import local_isolation

PYTHON_SANDBOXES = ["bwrap", "docker"]


@contextmanager
def python_sandbox(name: str) -> Iterator[object]:
    if name == "docker":
        executor = docker_executor()
        yield executor
        executor.close()
        assert leftovers(executor) == [], "a container outlived its run"
        return
    local_isolation(name)
    with LocalExecutor(isolation=name) as local:
        yield local
