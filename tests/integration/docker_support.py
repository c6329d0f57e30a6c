"""The docker sandbox for tests: a real daemon and the real runner image, or a skip saying why.

In CI (env CI set) a missing daemon or image fails the test instead: the hardening must be proven
there, not silently skipped.
"""

from __future__ import annotations

import os
from typing import Any, NoReturn

import pytest

from csvanalyst.errors import EnvironmentProblem


def unavailable(reason: str) -> NoReturn:
    """Skip, saying why; under CI fail instead, since this machine can run what is missing."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def docker_executor(**options: object):  # -> DockerExecutor
    from csvanalyst.executors.docker import DockerExecutor

    try:
        return DockerExecutor(**options)  # type: ignore[arg-type]
    except EnvironmentProblem as exc:
        unavailable(f"docker sandbox unavailable: {exc.message} ({exc.hint})")


def runner_image_client(needed_by: str) -> Any:
    """A Docker client whose daemon answers and holds the runner image of this checkout."""
    from csvanalyst.executors import docker_image
    from csvanalyst.executors.docker import connect, require_image

    try:
        client = connect()
        require_image(client, docker_image.image_tag())
    except EnvironmentProblem as exc:
        unavailable(f"{needed_by} needs Docker and the runner image: {exc.message} ({exc.hint})")
    return client


def leftovers(executor: object) -> list[object]:
    """Containers this test process started that still exist."""
    from csvanalyst.executors.docker import LABEL

    client = executor.client  # type: ignore[attr-defined]
    return client.containers.list(all=True, filters={"label": [LABEL, f"csvanalyst.host_pid={os.getpid()}"]})
