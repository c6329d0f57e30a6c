"""The docker sandbox for tests: a real daemon and the real runner image, or a skip saying why.

In CI (env CI set) a missing daemon or image fails the test instead: the hardening must be proven
there, not silently skipped.
"""

from __future__ import annotations

import os

import pytest

from csvanalyst.errors import EnvironmentProblem


def docker_executor(**options: object):  # -> DockerExecutor
    from csvanalyst.executors.docker import DockerExecutor

    try:
        return DockerExecutor(**options)  # type: ignore[arg-type]
    except EnvironmentProblem as exc:
        reason = f"docker sandbox unavailable: {exc.message} ({exc.hint})"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def leftovers(executor: object) -> list[object]:
    """Containers this test process started that still exist."""
    from csvanalyst.executors.docker import LABEL

    client = executor.client  # type: ignore[attr-defined]
    return client.containers.list(all=True, filters={"label": [LABEL, f"csvanalyst.host_pid={os.getpid()}"]})
