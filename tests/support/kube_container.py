"""The stand-in kubelet's container: a translated pod spec as the Docker SDK's create() arguments.

Also what a kubelet checks before starting it: the image pull policy against the local images (no
registry is reachable, so a pull always fails), runAsNonRoot against the effective user, and each
claim subPath against the claim's directory (created when missing, as the kubelet does, unless the
claim is mounted read-only; refused when it resolves outside the volume).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.kube_podspec import ClaimMount, ContainerPlan

if TYPE_CHECKING:
    from tests.support.kube_pod import Pod

# What every kubelet injects for the default namespace's `kubernetes` service, enableServiceLinks or not.
MASTER_SERVICE_ENV = {
    "KUBERNETES_SERVICE_HOST": "10.96.0.1",
    "KUBERNETES_SERVICE_PORT": "443",
    "KUBERNETES_SERVICE_PORT_HTTPS": "443",
    "KUBERNETES_PORT": "tcp://10.96.0.1:443",
    "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443",
    "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
    "KUBERNETES_PORT_443_TCP_PORT": "443",
    "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
}


class ConfigError(Exception):
    """What the kubelet reports as CreateContainerConfigError: the pod stays Pending."""


class Unschedulable(Exception):
    """What the scheduler reports as Unschedulable (here: a claim with no PV configured)."""


def pull_problem(client: Any, plan: ContainerPlan) -> tuple[str, str] | None:
    """The waiting reason a kubelet with no registry reports for this image and policy, if any."""
    import docker.errors

    try:
        client.images.get(plan.image)
        present = True
    except docker.errors.ImageNotFound:
        present = False
    if plan.pull_policy == "Never" and not present:
        return "ErrImageNeverPull", f'Container image "{plan.image}" is not present with pull policy of Never'
    if plan.pull_policy == "Always" or not present:
        return "ErrImagePull", f'failed to pull image "{plan.image}": no registry is reachable from this node'
    return None


def create_kwargs(client: Any, pod: Pod, claims: Mapping[str, str | Path]) -> dict[str, Any]:
    """containers.create() arguments reproducing the pod's one container; raises ConfigError/Unschedulable."""
    from docker.types import LogConfig

    plan = pod.plan
    kwargs: dict[str, Any] = {
        "image": plan.image,
        "environment": {**MASTER_SERVICE_ENV, **plan.env},
        "user": _user(client, plan),
        "group_add": plan.group_add or None,
        "read_only": plan.read_only,
        "privileged": plan.privileged,
        "cap_drop": plan.cap_drop or None,
        "cap_add": plan.cap_add or None,
        "security_opt": _security_opt(plan) or None,
        "mem_limit": plan.mem_bytes,
        "memswap_limit": plan.mem_bytes,  # nodes run without swap
        "nano_cpus": plan.nano_cpus,
        "tmpfs": plan.tmpfs or None,
        "mounts": [_bind(m, claims) for m in plan.claims],
        "network_mode": "none",  # the chart's deny-all NetworkPolicy
        "hostname": pod.name,
        "working_dir": plan.working_dir,
        "log_config": LogConfig(type="json-file"),
        "name": f"kubelet-{pod.namespace}-{pod.name}",
    }
    if plan.command is not None:
        kwargs["entrypoint"] = plan.command  # k8s command replaces ENTRYPOINT, args replace CMD
    if plan.args is not None:
        kwargs["command"] = plan.args
    return {k: v for k, v in kwargs.items() if v is not None}


def _security_opt(plan: ContainerPlan) -> list[str]:
    options = ["no-new-privileges"] if plan.no_new_privileges else []
    return [*options, "seccomp=unconfined"] if plan.seccomp_unconfined else options


def _user(client: Any, plan: ContainerPlan) -> str | None:
    """The user to run as, after the kubelet's runAsNonRoot check against the effective uid."""
    image_user = str(client.images.get(plan.image).attrs["Config"].get("User") or "0")
    name, _, group = image_user.partition(":")
    uid = str(plan.run_as_user) if plan.run_as_user is not None else name
    if plan.run_as_non_root:
        if not uid.isdigit():
            raise ConfigError(f"container has runAsNonRoot and image has non-numeric user ({uid}), cannot verify user")
        if int(uid) == 0:
            raise ConfigError("container has runAsNonRoot and image will run as root")
    if plan.run_as_user is None and plan.run_as_group is None:
        return None
    gid = str(plan.run_as_group) if plan.run_as_group is not None else group
    return f"{uid}:{gid}" if gid else uid


def _bind(mount: ClaimMount, claims: Mapping[str, str | Path]) -> Any:
    from docker.types import Mount

    if mount.claim not in claims:
        raise Unschedulable(f'0/1 nodes are available: persistentvolumeclaim "{mount.claim}" not found.')
    root = os.path.realpath(claims[mount.claim])
    source = os.path.realpath(os.path.join(root, mount.sub_path)) if mount.sub_path else root
    if os.path.commonpath([root, source]) != root:
        raise ConfigError(
            f"failed to prepare subPath for volumeMount {mount.target}: {mount.sub_path} is outside the volume"
        )
    if not os.path.exists(source):
        if mount.volume_read_only:
            raise ConfigError(
                f"failed to create subPath directory for volumeMount {mount.target}: read-only file system"
            )
        os.makedirs(source, mode=0o755)
    return Mount(mount.target, source, type="bind", read_only=mount.read_only)
