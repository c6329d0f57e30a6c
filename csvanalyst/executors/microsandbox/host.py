"""Can this machine run microVMs? Each check names the first thing missing and what to do about it.

The checks are ordered like the dependencies: the SDK, then /dev/kvm, then the KVM API itself, the CPU's
virtualisation extensions, the runtime binaries and finally the runner's root filesystem. None of them
boots a VM; `probe_boot` (in executor.py) does, for the few callers that can afford seconds.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

KVM_DEVICE = "/dev/kvm"
KVM_GET_API_VERSION = 0xAE00  # _IO(KVMIO, 0x00)
KVM_CREATE_VM = 0xAE01  # _IO(KVMIO, 0x01)
KVM_API_VERSION = 12  # the only stable version Linux has ever had
CPUINFO = "/proc/cpuinfo"
PVM_MODULE = "/sys/module/kvm_pvm"
SDK_HINT = "Run `pip install 'csvanalyst[microsandbox]'`."
NESTED_HINT = (
    "Run on bare metal or in a VM with nested virtualisation enabled (VT-x/AMD-V exposed to the guest), "
    "or choose --sandbox docker or local."
)


class HostProblem(Exception):
    """One unmet requirement: `reason` is what is wrong, `hint` what to do."""

    def __init__(self, reason: str, hint: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


def check_sdk() -> None:
    try:
        import microsandbox  # noqa: F401
    except ImportError as exc:
        raise HostProblem(f"the microsandbox SDK is not installed ({exc})", SDK_HINT) from exc


def check_kvm(device: str = KVM_DEVICE) -> None:
    """/dev/kvm exists, opens read-write, speaks API 12 and creates a VM."""
    if not os.path.exists(device):
        raise HostProblem(f"{device} does not exist (KVM is not available on this machine)", NESTED_HINT)
    try:
        fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        raise HostProblem(
            f"{device} exists but cannot be opened read-write: {exc.strerror}",
            f"Add this user to the group owning {device} (usually `kvm`) or run as root; " + NESTED_HINT,
        ) from exc
    try:
        _check_api(fd, device)
    finally:
        os.close(fd)


def _check_api(fd: int, device: str) -> None:
    try:
        version = fcntl.ioctl(fd, KVM_GET_API_VERSION, 0)
    except OSError as exc:
        raise HostProblem(f"{device} does not answer KVM_GET_API_VERSION: {exc.strerror}", NESTED_HINT) from exc
    if version != KVM_API_VERSION:
        raise HostProblem(f"{device} speaks KVM API {version}, not {KVM_API_VERSION}", NESTED_HINT)
    try:
        vm = fcntl.ioctl(fd, KVM_CREATE_VM, 0)
    except OSError as exc:
        raise HostProblem(f"KVM_CREATE_VM on {device} failed: {exc.strerror}", NESTED_HINT) from exc
    os.close(vm)


def cpu_virtualisation(cpuinfo: str = CPUINFO, pvm_module: str = PVM_MODULE) -> str | None:
    """None when the CPU exposes VT-x/AMD-V; otherwise why a working /dev/kvm still cannot boot our guest."""
    try:
        flags = next((line for line in Path(cpuinfo).read_text().splitlines() if line.startswith("flags")), "")
    except OSError:
        return None  # cannot tell; the boot itself will say
    if {"vmx", "svm"} & set(flags.split()):
        return None
    if os.path.isdir(pvm_module):
        return (
            "the CPU exposes no VT-x/AMD-V and /dev/kvm is served by kvm-pvm (software, pagetable-based "
            "virtualisation), which only boots PVM-enabled guest kernels; libkrunfw's kernel is not one"
        )
    return "the CPU exposes no VT-x/AMD-V (no vmx/svm flag in /proc/cpuinfo)"


def check_cpu() -> None:
    """Fail fast where the guest kernel cannot start: a doomed boot takes minutes to give up under kvm-pvm."""
    reason = cpu_virtualisation()
    if reason is not None:
        raise HostProblem(reason, NESTED_HINT)


def check_runtime() -> str:
    """The msb binary the SDK will launch, or why there is none."""
    import microsandbox

    try:
        return microsandbox.resolve_runtime().msb_path
    except Exception as exc:  # the native resolver raises its own error types
        raise HostProblem(
            f"the microsandbox runtime (msb + libkrunfw) is missing: {first_line(exc)}",
            "Reinstall the SDK (`pip install --force-reinstall 'csvanalyst[microsandbox]'`; its wheel bundles "
            "msb) or set MSB_PATH to an msb binary.",
        ) from exc


def check_rootfs(rootfs: Path) -> None:
    if not (rootfs / "opt" / "csvanalyst" / "runner").is_dir():
        raise HostProblem(
            f"the runner's root filesystem {rootfs} is not built",
            "Build it with csvanalyst.executors.microsandbox.rootfs.build_rootfs() (no registry needed), "
            "or set CSVANALYST_MICROSANDBOX_ROOTFS to one.",
        )


def check_all(rootfs: Path, device: str = KVM_DEVICE) -> str:
    """Every requirement that needs no boot; returns the runtime path or raises the first HostProblem."""
    check_sdk()
    check_kvm(device)
    msb = check_runtime()
    check_rootfs(rootfs)
    return msb


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:400]
