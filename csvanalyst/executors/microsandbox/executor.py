"""The microVM sandbox: each run in its own freshly booted microVM (microsandbox: libkrun on KVM).

A guest kernel of its own is a stronger wall than a container's shared kernel. What a run sees is set in
options.py: the runner's root filesystem, a tmpfs at /tmp, only its own table files
(read-only), no reachable network, uid 10001, memory/CPU sized from the run's limits. The request travels
in the environment of a direct exec (no shell). The VM is killed and removed after every run, whatever
happened; VMs carry a label so any left behind by a crashed host are found by `cleanup()`.

keep_warm is accepted and ignored: a warm VM would carry one run's guest state (page cache, /tmp, a
process that outlived its query) into the next, so every run boots a fresh VM.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import ClosingExecutor, Limits, RunRequest, RunResult
from csvanalyst.executors.contract import (
    KILL_GRACE_S,
    STDERR_CAP,
    STDOUT_MARGIN,
    Outcome,
    mapped_request,
    table_mounts,
    to_result,
)
from csvanalyst.executors.microsandbox import host
from csvanalyst.executors.microsandbox.options import (
    LABEL,
    create_options,
    exec_options,
    remove_staging,
    stage_tables,
    staging_dir,
)

T = TypeVar("T")
BOOT_TIMEOUT_S = 120.0
CLEANUP_TIMEOUT_S = 20.0
TICK_S = 0.1
LOG_ATTEMPTS = 6


def default_rootfs() -> Path:
    from csvanalyst.config import get_settings
    from csvanalyst.executors.microsandbox.rootfs import default_rootfs as built

    return get_settings().microsandbox_rootfs or built()


class MicrosandboxExecutor(ClosingExecutor):
    """Runs each request in a fresh microVM booted from the runner's root filesystem."""

    name = "microsandbox"
    isolation = "microvm"

    def __init__(
        self, rootfs: Path | str | None = None, *, keep_warm: bool = False, boot_timeout_s: float = BOOT_TIMEOUT_S
    ) -> None:
        from csvanalyst.errors import EnvironmentProblem

        self.rootfs = Path(rootfs) if rootfs is not None else default_rootfs()
        try:
            host.check_all(self.rootfs)
            host.check_cpu()
        except host.HostProblem as problem:
            message = f"The microsandbox sandbox cannot run: {problem.reason}."
            raise EnvironmentProblem(message, hint=problem.hint) from problem
        self.keep_warm = keep_warm  # see the module docstring: every run boots a fresh VM regardless
        self.boot_timeout_s = boot_timeout_s
        self.last_boot_ms = 0.0

    def prepare(self, tables: Sequence[TableSource], limits: Limits) -> None:
        """Nothing to start ahead: every run boots a fresh VM (see the module docstring)."""

    def ready(self) -> str:
        """ "ok" while the host can still boot microVMs from this rootfs, else why not (boots nothing)."""
        usable, detail = diagnose(self.rootfs)
        return "ok" if usable else detail

    def run(self, request: RunRequest, cancel: threading.Event | None = None) -> RunResult:
        """Run one request; setting `cancel` kills the process in the VM and ends the run as cancelled."""
        started = time.perf_counter()
        payload = mapped_request(request).model_dump_json().encode("utf-8")
        outcome = self.spawn(None, payload, request, cancel)
        result = to_result(outcome, request)
        result.executor = self.name
        total_ms = round((time.perf_counter() - started) * 1000, 3)
        result.timings = {**result.timings, "boot_ms": self.last_boot_ms, "total_ms": total_ms}
        return result

    def spawn(
        self, argv: Sequence[str] | None, payload: bytes, request: RunRequest, cancel: threading.Event | None = None
    ) -> Outcome:
        """Run argv (None: the runner) in a fresh VM with the request's tables and limits; always removed."""
        staging = staging_dir()
        try:
            staged = stage_tables(table_mounts(list(request.tables.values())), staging)
            return run_coroutine(lambda: self._spawn(argv, payload, request.limits, staged, cancel))
        finally:
            remove_staging(staging)

    async def _spawn(
        self,
        argv: Sequence[str] | None,
        payload: bytes,
        limits: Limits,
        staged: dict[str, str],
        cancel: threading.Event | None,
    ) -> Outcome:
        name = f"csvanalyst-{uuid.uuid4().hex[:16]}"
        try:
            began = time.perf_counter()
            sandbox = await boot(name, create_options(name, self.rootfs, staged, limits), self.boot_timeout_s)
            self.last_boot_ms = round((time.perf_counter() - began) * 1000, 3)
            try:
                return await collect(sandbox, argv, payload, limits, cancel)
            finally:
                await _quietly(sandbox.kill())
        finally:
            await remove(name)


async def boot(name: str, options: dict[str, Any], timeout_s: float) -> Any:
    """A running VM, or EnvironmentProblem quoting the runtime's own reason for the failed boot."""
    from microsandbox import Sandbox

    from csvanalyst.errors import EnvironmentProblem

    try:
        return await asyncio.wait_for(Sandbox.create(name, **options), timeout_s)
    except Exception as exc:  # the SDK's own errors, a timeout, or an invalid option
        reason = await boot_failure(name, exc)
    static = host.cpu_virtualisation()
    hint = f"This host cannot boot microVMs: {static}. {host.NESTED_HINT}" if static else host.NESTED_HINT
    raise EnvironmentProblem(f"The microVM did not boot: {reason}", hint=hint)


async def boot_failure(name: str, exc: BaseException) -> str:
    """The SDK's message plus the last error lines of the VM's system log (e.g. a KVM exit reason)."""
    message = "timed out" if isinstance(exc, TimeoutError) else host.first_line(exc)
    meaningful: list[str] = []
    for _ in range(LOG_ATTEMPTS):  # the VM process may still be flushing its log when the SDK gives up
        lines = await system_log(name)
        meaningful = [line for line in lines if line.startswith(("ERROR", "WARN")) and "sqlx" not in line]
        if meaningful:
            break
        await asyncio.sleep(0.5)
    return f"{message}; runtime log: {' | '.join(meaningful[-3:])}" if meaningful else message


async def system_log(name: str) -> list[str]:
    from microsandbox import LogReadSource, Sandbox

    try:
        handle = await Sandbox.get(name)
        entries = await handle.logs(tail=400, sources=[LogReadSource.SYSTEM])
    except Exception:  # no record, or no log: the SDK's message stands alone
        return []
    return [line.strip() for entry in entries for line in entry.text().splitlines() if line.strip()]


async def collect(
    sandbox: Any, argv: Sequence[str] | None, payload: bytes, limits: Limits, cancel: threading.Event | None
) -> Outcome:
    """Exec argv and read its output until exit, the deadline, overflow or cancel."""
    cmd, args, keywords = exec_options(argv, payload, limits)
    began = time.perf_counter()
    handle = await sandbox.exec_stream(cmd, args, **keywords)
    reader = _Reader(handle, limits.max_output_bytes + STDOUT_MARGIN)
    task = asyncio.ensure_future(reader.read())
    outcome = Outcome(returncode=None, stdout=b"", stderr=b"")
    deadline = time.perf_counter() + limits.timeout_s + KILL_GRACE_S
    while not task.done():
        remaining = deadline - time.perf_counter()
        if remaining <= 0 or (cancel is not None and cancel.is_set()):
            outcome.timed_out, outcome.cancelled = remaining <= 0, remaining > 0
            break
        await asyncio.wait([task], timeout=min(remaining, TICK_S))
    if not task.done() or reader.overflow:
        task.cancel()
        await _quietly(handle.kill())
    elif (broken := task.exception()) is not None:  # the exec stream broke: the VM died under the process
        reader.stderr += f"\nexec stream failed: {host.first_line(broken)}".encode()
    outcome.overflow = reader.overflow
    if not (outcome.timed_out or outcome.cancelled or outcome.overflow):
        outcome.returncode = guest_returncode(reader.code)
    outcome.stdout, outcome.stderr = bytes(reader.stdout), bytes(reader.stderr)
    outcome.elapsed_ms = round((time.perf_counter() - began) * 1000, 3)
    return outcome


class _Reader:
    """Drains the exec's events into capped buffers; stops at the exit event or on overflow."""

    def __init__(self, handle: Any, max_stdout: int) -> None:
        self.handle = handle
        self.max_stdout = max_stdout
        self.stdout, self.stderr = bytearray(), bytearray()
        self.code: int | None = None
        self.overflow = False

    async def read(self) -> None:
        while (event := await self.handle.recv()) is not None:
            kind, data = str(event.event_type), event.data or b""
            if kind == "stdout":
                self.stdout += data
                if len(self.stdout) > self.max_stdout:
                    self.overflow = True
                    return
            elif kind in ("stderr", "failed") and len(self.stderr) < STDERR_CAP:
                self.stderr += data
            if kind in ("exited", "failed"):
                self.code = event.code if event.code is not None else 127
                return


def guest_returncode(code: int | None) -> int | None:
    """In local terms: a guest process killed by a signal (OOM killer: SIGKILL) as a negative number."""
    if code is not None and code > 128:
        return -(code - 128)
    return code


async def remove(name: str) -> None:
    """Kill and delete the VM and its record, whatever state it is in; a missing one is fine."""
    from microsandbox import Sandbox

    with contextlib.suppress(Exception):
        handle = await asyncio.wait_for(Sandbox.get(name), CLEANUP_TIMEOUT_S)
        await _quietly(handle.kill())
    await _quietly(Sandbox.remove(name))


async def _quietly(step: Awaitable[Any]) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(step, CLEANUP_TIMEOUT_S)


def run_coroutine(factory: Callable[[], Awaitable[T]]) -> T:
    """Run on a private event loop: this thread's if it has none running, else a helper thread's."""

    async def main() -> T:
        return await factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="csvanalyst-microvm") as pool:
        return pool.submit(asyncio.run, main()).result()


def ours(host_pid: int | None = None) -> list[str]:
    """Names of the VMs this program started (optionally: this process) that still exist."""
    from microsandbox import Sandbox

    labels = {LABEL: "run"} if host_pid is None else {LABEL: "run", "csvanalyst.host_pid": str(host_pid)}

    async def names() -> list[str]:
        page = await Sandbox.list_with(labels=labels)
        return [handle.name for handle in page.sandboxes]

    return run_coroutine(names)


def cleanup() -> int:
    """Remove every VM this program started that is still around; returns how many."""
    leftovers = ours()

    async def remove_all() -> None:
        for name in leftovers:
            await remove(name)

    run_coroutine(remove_all)
    return len(leftovers)


def probe_boot(rootfs: Path | None = None) -> str | None:
    """None when a minimal VM boots from the rootfs and runs /bin/true; else the runtime's reason."""
    from csvanalyst.errors import EnvironmentProblem

    limits = Limits(timeout_s=30.0, memory_mb=256, threads=1)
    options = create_options("", Path(rootfs or default_rootfs()), {}, limits)

    async def attempt() -> str | None:
        name = f"csvanalyst-probe-{uuid.uuid4().hex[:12]}"
        try:
            sandbox = await boot(name, options, BOOT_TIMEOUT_S)
            outcome = await collect(sandbox, ["/bin/true"], b"", limits, None)
            await _quietly(sandbox.kill())
            return None if outcome.returncode == 0 else f"/bin/true in the VM ended with {outcome.returncode}"
        except EnvironmentProblem as exc:
            return f"{exc.message} ({exc.hint})"
        finally:
            await remove(name)

    return run_coroutine(attempt)


def diagnose(rootfs: Path | None = None, device: str = host.KVM_DEVICE) -> tuple[bool, str]:
    """For `csvanalyst doctor`: (usable, the precise reason); boots nothing and never raises."""
    try:
        path = Path(rootfs) if rootfs is not None else default_rootfs()
        msb = host.check_all(path, device)
        host.check_cpu()
        return True, f"runtime {msb}; rootfs {path}"
    except host.HostProblem as problem:
        return False, f"{problem.reason}. {problem.hint}"
    except Exception as exc:  # doctor must report, not crash
        return False, f"check failed: {host.first_line(exc)}"
