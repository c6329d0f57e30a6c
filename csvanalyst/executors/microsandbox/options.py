"""What a run asks of the microsandbox SDK, as plain data: testable without booting anything.

The guest sees: the runner's root filesystem (owned by root, so the unprivileged runner cannot change
it), a private tmpfs at /tmp, one read-only directory per table file holding only that file, and no
reachable network. Sandbox.create() in SDK 0.7.11 has no way to remove the guest NIC (`disable_network`
exists only on restore), so the network is a deny-all policy in both directions, the SDK's equivalent of
`msb run --no-net`; the host-side network engine drops every packet the guest sends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from csvanalyst.executors.base import Limits
from csvanalyst.executors.contract import KILL_GRACE_S, MEMORY_HEADROOM_MB, RUNNER_ARGV
from csvanalyst.executors.microsandbox.rootfs import IMAGE_ENV, UID

LABEL = "csvanalyst.runner"
BOOT_ALLOWANCE_S = 60.0  # max_duration also covers the boot, which the run's own time limit does not
TMPFS_MB = 256
SANDBOX_ENV = {"CSVANALYST_SANDBOX": "microsandbox", "CSVANALYST_SCRATCH": "/tmp/spill"}
REQUEST_ENV = "CSVANALYST_REQUEST"
USER = str(UID)


def create_options(name: str, rootfs: Path, staged: dict[str, str], limits: Limits) -> dict[str, Any]:
    """Keyword arguments of Sandbox.create(name, ...) for one run; `staged` maps host dir -> guest dir."""
    from microsandbox import MountConfig, MountKind, Network, SecurityProfile

    memory = limits.memory_mb + MEMORY_HEADROOM_MB
    cpus = max(1, limits.threads)
    volumes = {guest: MountConfig(kind=MountKind.BIND, bind=host, readonly=True) for host, guest in staged.items()}
    volumes["/tmp"] = MountConfig(kind=MountKind.TMPFS, size_mib=TMPFS_MB, nosuid=True, nodev=True)
    return {
        "image": str(rootfs),
        "memory": memory,
        "max_memory": memory,
        "cpus": cpus,
        "max_cpus": cpus,
        "user": USER,
        "workdir": "/tmp",
        "hostname": "sandbox",
        "security": SecurityProfile.RESTRICTED,
        "network": Network.none(),
        "volumes": volumes,
        "max_duration": limits.timeout_s + BOOT_ALLOWANCE_S,
        "labels": {LABEL: "run", "csvanalyst.host_pid": str(os.getpid())},
        "replace": False,
        "ephemeral": False,  # kept until we remove it, so a failed boot's system log can still be read
    }


def exec_options(argv: Sequence[str] | None, payload: bytes, limits: Limits) -> tuple[str, list[str], dict[str, Any]]:
    """(cmd, args, keywords) of Sandbox.exec_stream: no shell, the request only in the environment."""
    from microsandbox import Rlimit, RlimitResource, Stdin

    program = list(argv) if argv else list(RUNNER_ARGV)
    env = {**IMAGE_ENV, **SANDBOX_ENV}
    if payload:
        env[REQUEST_ENV] = payload.decode("utf-8")
    rlimits = [Rlimit.nofile(256), Rlimit.nproc(64), Rlimit(RlimitResource.CORE, 0, 0)]
    keywords = {
        "env": env,
        "user": USER,
        "cwd": "/tmp",
        "timeout": limits.timeout_s + KILL_GRACE_S,
        "stdin": Stdin.null(),
        "rlimits": rlimits,
    }
    return program[0], program[1:], keywords


def stage_tables(mounts: dict[str, str], into: Path) -> dict[str, str]:
    """One private directory per table file holding only that file, so its neighbours on the host stay
    invisible; returns host directory -> guest directory. Hard links cost nothing; copies cross devices."""
    staged: dict[str, str] = {}
    for source, target in mounts.items():
        if not os.path.isfile(source):
            continue
        guest = PurePosixPath(target)
        host_dir = into / guest.parent.name
        host_dir.mkdir(parents=True)
        _link_or_copy(source, host_dir / guest.name)
        staged[str(host_dir)] = str(guest.parent)
    return staged


def _link_or_copy(source: str, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)


def staging_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix=f"csvanalyst-microvm-{os.getpid()}-"))


def remove_staging(path: Path) -> None:
    with contextlib.suppress(OSError):
        shutil.rmtree(path)
