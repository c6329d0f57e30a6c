"""What every backend shares: how a run's end becomes a RunResult, its margins, and where its tables sit.

Each backend (local/, docker/, kubernetes/, microsandbox/) turns how its process ended into an
Outcome and hands it to `to_result`, so a timeout, an OOM kill or a crash reads the same whichever
sandbox ran it. The backends import this module, never each other's internals.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import RunError, RunRequest, RunResult

KILL_GRACE_S = 3.0  # the runner interrupts itself at timeout_s; the host kills a bit later
STDOUT_MARGIN = 64 * 1024  # the result envelope on top of max_output_bytes
STDERR_CAP = 64 * 1024  # diagnostics kept from a run; the rest is dropped
MEMORY_HEADROOM_MB = 512  # interpreter, wrapper (or guest kernel) and DuckDB's code on top of the run's budget
RUNNER_ARGV = ["python3", "-s", "-B", "-P", "-m", "runner"]  # the runner inside an image; -P: cwd not on sys.path


@dataclass
class Outcome:
    """How one sandboxed run ended, in the same terms for every backend."""

    returncode: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool = False
    overflow: bool = False
    cancelled: bool = False
    elapsed_ms: float = 0.0
    pid: int = 0


def runner_package_dir() -> Path:
    """The `runner` package shipped to every sandbox (bound in, copied into an image or a rootfs)."""
    return Path(__file__).resolve().parents[1] / "runner"


def table_mounts(tables: list[TableSource]) -> dict[str, str]:
    """Host path -> path inside the sandbox: /data/<n>/<file name>, one directory per file."""
    mounts: dict[str, str] = {}
    for source in tables:
        path = os.path.abspath(source.path)
        if path not in mounts:
            mounts[path] = str(PurePosixPath("/data") / str(len(mounts)) / os.path.basename(path))
    return mounts


def mapped_request(request: RunRequest) -> RunRequest:
    """The request as the sandbox sees it: table paths rewritten to their mount points."""
    mounts = table_mounts(list(request.tables.values()))
    tables = {
        name: src.model_copy(update={"path": mounts[os.path.abspath(src.path)]}) for name, src in request.tables.items()
    }
    return request.model_copy(update={"tables": tables})


def to_result(outcome: Outcome, request: RunRequest) -> RunResult:
    """Exactly one final status for every way a run can end."""
    limits = request.limits
    if outcome.cancelled:
        return _fail("error", "cancelled", "The run was cancelled; its process was stopped.", "Ask again when ready.")
    if outcome.timed_out:
        return _fail(
            "timeout",
            "timeout",
            f"The run exceeded its {limits.timeout_s:g} s time limit.",
            "Filter or aggregate more, or raise the time limit.",
        )
    if outcome.overflow:
        return _fail(
            "sandbox_error",
            "output_too_large",
            f"The sandbox wrote more than {limits.max_output_bytes} bytes.",
            "Select fewer rows or columns, or raise max_output_bytes.",
        )
    parsed = _parse(outcome.stdout)
    if parsed is not None:
        return parsed
    return _crash(outcome, limits.memory_mb)


def _parse(stdout: bytes) -> RunResult | None:
    if not stdout.strip():
        return None
    try:
        return RunResult.model_validate(json.loads(stdout))
    except ValueError:
        return None


def _crash(outcome: Outcome, memory_mb: int) -> RunResult:
    """No valid result: tell a memory kill or CPU limit from a crash or a wrapper that failed to start."""
    stderr = outcome.stderr.decode("utf-8", "replace").strip()
    tail = stderr.splitlines()[-1] if stderr else "no diagnostics"
    code = outcome.returncode
    if code == -signal.SIGXCPU:
        return _fail(
            "timeout",
            "cpu_limit",
            "The run used up its CPU time limit.",
            "Filter or aggregate more, or raise the time limit.",
        )
    if code == -signal.SIGKILL or "MemoryError" in stderr or "bad_alloc" in stderr:
        return _fail(
            "oom",
            "out_of_memory",
            f"The run was killed, most likely at its {memory_mb} MB memory limit ({tail}).",
            "Aggregate or filter more, or raise the memory limit.",
        )
    return _fail(
        "sandbox_error",
        "sandbox_failed",
        f"The sandbox ended without a valid result (exit {code}): {tail}",
        "Check `csvanalyst doctor`; the sandbox or its runner is broken.",
    )


def _fail(status: str, code: str, message: str, hint: str) -> RunResult:
    return RunResult(status=status, error=RunError(code=code, message=message, hint=hint))  # type: ignore[arg-type]
