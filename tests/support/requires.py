"""What a test needs from the machine, and the one rule for when it is missing.

Without CI a missing tool skips the test, printing what is missing and how to install it; under CI
(`CI` set, as `.ci/run` does) it fails instead, because `.ci/run` installs every one of them.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

HOW_TO_INSTALL = {
    "bwrap": "apt-get install bubblewrap",
    "docker": "apt-get install docker.io, start dockerd, then `make runner-image`",
    "chromium": "apt-get install chromium chromium-driver",
    "chromedriver": "apt-get install chromium-driver",
    "tmux": "apt-get install tmux",
    "unshare": "apt-get install util-linux",
    "debootstrap": "apt-get install debootstrap",
}


def unavailable(reason: str) -> NoReturn:
    """Skip, saying why; under CI fail instead, since `.ci/run` installs what is missing."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs this: see .ci/run)")
    print(f"skipping: {reason}")
    pytest.skip(reason)


def missing(tool: str, needed_for: str) -> NoReturn:
    unavailable(f"{needed_for} needs {tool}, which is not installed here ({HOW_TO_INSTALL.get(tool, 'install it')})")


def require_tool(tool: str, needed_for: str) -> str:
    """The tool's path on PATH, or skip/fail naming how to install it."""
    found = shutil.which(tool)
    if found is None:
        missing(tool, needed_for)
    return found


def local_isolation(mode: str) -> None:
    """Skip (or fail under CI) unless the local sandbox's `mode` works on this machine."""
    from csvanalyst.executors.local.executor import available_modes

    reason = available_modes()[mode]
    if reason is not None:
        tool = {"bwrap": "bwrap", "unshare": "unshare"}.get(mode)
        hint = f" ({HOW_TO_INSTALL[tool]})" if tool and shutil.which(tool) is None else ""
        unavailable(f"the local sandbox's {mode} isolation does not work here: {reason}{hint}")


def microvm_rootfs() -> Path:
    """The runner's rootfs, where microVMs boot. Where the platform cannot boot one (no KVM, a CPU without
    VT-x/AMD-V, a KVM that cannot run the guest kernel) the test skips with the runtime's own reason, in CI
    too: no installation fixes that. Elsewhere a missing SDK or rootfs is `unavailable`."""
    from csvanalyst.executors.microsandbox import host

    platform = _platform_problem()
    try:
        host.check_sdk()
        from csvanalyst.executors.microsandbox import executor as microsandbox

        rootfs = microsandbox.default_rootfs()
        host.check_all(rootfs)
    except host.HostProblem as problem:
        if platform is not None:
            _cannot_boot(platform)
        unavailable(f"the microsandbox sandbox is not set up here: {problem.reason} ({problem.hint})")
    reason = _boot_problem(rootfs)  # the runtime's own words, where it has any
    if reason is not None or platform is not None:
        _cannot_boot(reason or str(platform))
    return rootfs


def _platform_problem() -> str | None:
    from csvanalyst.executors.microsandbox import host

    try:
        host.check_kvm()
        host.check_cpu()
    except host.HostProblem as problem:
        return f"{problem.reason} ({problem.hint})"
    return None


@functools.cache
def _boot_problem(rootfs: Path) -> str | None:
    """Booting a VM takes seconds, and failing to under kvm-pvm longer: once per test run is enough."""
    from csvanalyst.executors.microsandbox import executor as microsandbox

    return microsandbox.probe_boot(rootfs)


def _cannot_boot(reason: str) -> NoReturn:
    print(f"skipping: microVMs cannot boot on this machine: {reason}")
    pytest.skip(f"microVMs cannot boot on this machine: {reason}")
