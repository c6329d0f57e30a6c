"""Restricted Python analysis: run one snippet over the dataset's tables, inside the sandbox only.

The snippet sees each table as a pandas DataFrame (by table name, and in `tables`), the run's locked
DuckDB connection as `con` (the same views and lockdown as SQL), `pd`, `np`, and the allowlisted
modules it imports. It sets `result` (DataFrame, Series, scalar, list or dict) and may `print`; a
dict assigned to `chart` is returned as a Vega-Lite spec.

Restricting Python inside a process is not a boundary on its own; the boundary is the sandbox around
this process (bwrap's namespaces with a filesystem of only what the run needs, a container, a microVM
or a pod), and this module refuses to run anywhere else: the executor names its isolation in
CSVANALYST_SANDBOX, and unshare (which leaves the host's files visible) does not qualify.

Inside the sandbox the checker and the checked code are separate processes. This process (the runner)
checks the AST (python_guard) and compiles the snippet, then forks a child for it (python_child) that
confines itself (Landlock, then the audit hook) before the snippet's first line; the child's answer is
hostile data to this process. Assume the child escapes every Python-level check: the kernel's
confinement and the sandbox decide what it can reach, and it can only lie about its own result.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from typing import Any

from . import python_child, python_guard, python_reach, python_snippet
from .protocol import Request, failure

ISOLATED_SANDBOXES = ("bwrap", "docker", "kubernetes", "microsandbox")
STATUSES = frozenset({"ok", "error", "rejected", "timeout", "oom", "sandbox_error"})
RESULT_SLACK_BYTES = 4 * 1024 * 1024  # stdout and chart travel with the rows; the host caps the total


def sandbox_name() -> str:
    return os.environ.get("CSVANALYST_SANDBOX", "")


def run_python(request: Request, scratch: str, started: float) -> dict[str, Any]:
    sandbox = sandbox_name()
    if sandbox not in ISOLATED_SANDBOXES:
        return failure(
            "error",
            "python_unsandboxed",
            "Restricted Python only runs inside a sandbox that isolates the filesystem and network (bwrap, docker, "
            f"microsandbox or kubernetes); this runner is not in one ({sandbox or 'no sandbox declared'}).",
            "Install bubblewrap for the local sandbox, or use --sandbox docker.",
        )
    try:
        tree = python_guard.check(request.code)
    except python_guard.GuardError as exc:
        return failure("rejected", "python_rejected", str(exc), python_snippet.GUARD_HINT)
    code = compile(python_reach.guard_attribute_reads(tree), "<snippet>", "exec")
    os.makedirs(scratch, exist_ok=True)
    own = tempfile.mkdtemp(prefix="snippet-", dir=scratch)  # the child's only writable place: nothing else in it
    remaining = request.limits.timeout_s - (time.perf_counter() - started)
    outcome = python_child.run(
        lambda report_fd: python_snippet.answer(request, own, started, tree, code, report_fd),
        max(0.05, remaining) + python_child.KILL_GRACE_S,
        request.limits.max_output_bytes + RESULT_SLACK_BYTES,
    )
    return judge(outcome, request)


def judge(outcome: python_child.ChildOutcome, request: Request) -> dict[str, Any]:
    """The child's answer, trusted for nothing: a refusal the hook reported wins over whatever it claims."""
    payload = outcome.payload if isinstance(outcome.payload, dict) else None
    stdout = payload.get("stdout") if payload and isinstance(payload.get("stdout"), str) else ""
    if outcome.timed_out:
        return failure("timeout", "timeout", "The Python snippet ran past its time limit.", "Do less work per run.")
    if outcome.overflow:
        return failure(
            "sandbox_error",
            "output_too_large",
            f"The Python snippet's answer is larger than {request.limits.max_output_bytes} bytes.",
            "Return fewer rows or columns, print less, or raise max_output_bytes.",
        )
    if outcome.refusals:
        refusal = outcome.refusals[0]
        return failure("rejected", "python_forbidden", refusal, python_snippet.FORBIDDEN_HINT, stdout=stdout)
    if payload is not None and payload.get("status") in STATUSES:
        return payload
    return _died(outcome.returncode, request)


def _died(returncode: int | None, request: Request) -> dict[str, Any]:
    if returncode == -signal.SIGXCPU:
        return failure("timeout", "cpu_limit", "The Python snippet used up its CPU time limit.", "Do less per run.")
    if returncode == -signal.SIGKILL:
        return failure(
            "oom",
            "out_of_memory",
            f"The Python snippet's process was killed, most likely at its {request.limits.memory_mb} MB memory limit.",
            "Aggregate before copying, or raise the memory limit.",
        )
    return failure(
        "error",
        "python_crashed",
        f"The Python snippet's process ended without an answer (exit {returncode}).",
        "Simplify the snippet; native code it reached crashed.",
    )
