"""The docker sandbox for tests: a real daemon and the real runner image, or a skip saying why.

In CI (env CI set) a missing daemon or image fails the test instead: the hardening must be proven
there, not silently skipped.
"""

from __future__ import annotations

import os
from typing import Any

from csvanalyst.errors import EnvironmentProblem
from tests.support.requires import HOW_TO_INSTALL, unavailable

__all__ = ["docker_executor", "leftovers", "runner_image_client", "unavailable"]


def docker_executor(**options: object):  # -> DockerExecutor
    from csvanalyst.executors.docker.executor import DockerExecutor

    try:
        return DockerExecutor(**options)  # type: ignore[arg-type]
    except EnvironmentProblem as exc:
        unavailable(f"docker sandbox unavailable: {exc.message} ({HOW_TO_INSTALL['docker']})")


def runner_image_client(needed_by: str) -> Any:
    """A Docker client whose daemon answers and holds the runner image of this checkout."""
    from csvanalyst.executors.docker import image as docker_image
    from csvanalyst.executors.docker.executor import connect, require_image

    try:
        client = connect()
        require_image(client, docker_image.image_tag())
    except EnvironmentProblem as exc:
        unavailable(f"{needed_by} needs Docker and the runner image: {exc.message} ({HOW_TO_INSTALL['docker']})")
    return client


def leftovers(executor: object) -> list[object]:
    """Containers this test process started that still exist."""
    from csvanalyst.executors.docker.executor import LABEL

    client = executor.client  # type: ignore[attr-defined]
    return client.containers.list(all=True, filters={"label": [LABEL, f"csvanalyst.host_pid={os.getpid()}"]})


def bridge_gateway(client: Any) -> str:
    """The host's address on Docker's default bridge, which containers reach the host by. A freshly started
    daemon may report only the subnet; the bridge then holds the subnet's first address, as Docker assigns it."""
    import ipaddress
    import socket

    config = (client.networks.get("bridge").attrs.get("IPAM") or {}).get("Config") or []
    found = next((c["Gateway"] for c in config if c.get("Gateway")), None)
    if found is None:
        subnet = next((c["Subnet"] for c in config if c.get("Subnet")), None)
        if subnet is None:
            unavailable(f"Docker's bridge network reports neither a gateway nor a subnet: {config}")
        found = str(next(ipaddress.ip_network(subnet).hosts()))
    with socket.socket() as probe:
        try:
            probe.bind((found, 0))  # the address must be this host's, or the containers cannot reach us on it
        except OSError as exc:
            unavailable(f"Docker's bridge address {found} is not an address of this host: {exc}")
    return found
