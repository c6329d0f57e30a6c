"""The snippet's own process (forked by python_child): load the tables, confine itself, run the snippet.

Everything here runs in the child, in this order: DuckDB connects and locks down, the tables the
snippet names become DataFrames, then the process confines itself for good (Landlock first, then the
audit hook) and only then the snippet runs. What it leaves in `result`/`chart` is turned into the
protocol's result here too, and sent to the runner through the pipe.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import tempfile
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

from . import confine, lockdown, python_audit, python_guard, python_payload, python_reach, tables
from .protocol import Request, failure

MAX_STDOUT_CHARS = 64 * 1024
GUARD_HINT = (
    "Restricted Python allows plain pandas/numpy analysis over the loaded DataFrames: no imports beyond "
    "math, statistics, datetime, json, re, collections, itertools, functools, pandas, numpy; no dunders, "
    "no file or network access. Set `result` to a DataFrame, Series, scalar or list."
)
FORBIDDEN_HINT = "Work on the DataFrames you were given; files, processes, sockets and pickles are off limits."


class SnippetTimeout(BaseException):
    """Raised in the snippet by SIGALRM at the run's deadline."""


def answer(request: Request, scratch: str, started: float, tree: Any, code: Any, report_fd: int) -> dict[str, Any]:
    """The child's whole life: every failure becomes a typed result (main.explain for setup errors)."""
    from . import main

    try:
        return _run(request, scratch, started, tree, code, report_fd)
    except Exception as exc:
        return main.explain(exc, request)


def _run(request: Request, scratch: str, started: float, tree: Any, code: Any, report_fd: int) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(":memory:", config=lockdown.connect_config(request.limits, scratch))
    tables.register_views_or_explain(con, request.tables)
    lockdown.lock(con, request.tables)
    namespace = _namespace(con, request, tree)
    setup_ms = _ms(started)
    out = _CappedText(MAX_STDOUT_CHARS)
    namespace["__builtins__"] = {
        **python_guard.safe_builtins(_printer(out)),
        python_reach.GETATTR_NAME: python_reach.guarded_getattr(python_guard.ALLOWED_IMPORTS),
    }
    tempfile.tempdir = scratch
    data_files = [os.path.abspath(t.path) for t in request.tables.values()]
    _confine(data_files, scratch)
    python_audit.install([scratch], data_files, report_fd)
    run_started = time.perf_counter()
    error = _exec(code, namespace, out, request.limits.timeout_s - (run_started - started))
    query_ms = _ms(run_started)
    if error is not None:
        return {**error, "stdout": out.getvalue()}
    try:
        payload = python_payload.to_payload(namespace.get("result"), request.limits.max_rows)
        payload["chart"] = python_payload.chart(namespace.get("chart"))
    except ValueError as exc:
        return failure("error", "python_error", str(exc), "Set `result` and `chart` as documented.")
    payload["stdout"] = out.getvalue()
    payload["timings"] = {"setup_ms": setup_ms, "query_ms": query_ms}
    return payload


def _confine(data_files: list[str], scratch: str) -> None:
    """Landlock where the kernel offers it; the OS sandbox around the runner holds either way."""
    try:
        confine.apply([*data_files, *python_audit.interpreter_paths()], [scratch])
    except confine.Unavailable as exc:
        print(f"runner: snippet not confined by Landlock: {exc}", file=sys.stderr)


def _namespace(con: Any, request: Request, tree: Any) -> dict[str, Any]:
    """pd, np, con, and every table the snippet names (as a variable or a string) as a DataFrame."""
    import ast

    import numpy as np
    import pandas as pd

    mentioned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    mentioned |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    wants_all = "tables" in mentioned
    frames = {name: con.table(name).df() for name in request.tables if wants_all or name in mentioned}
    python_reach.disable_string_evaluators(pd)
    namespace: dict[str, Any] = {"pd": pd, "np": np, "con": con, "tables": frames, "result": None, "chart": None}
    for name, frame in frames.items():
        if name.isidentifier() and name not in namespace:
            namespace[name] = frame
    return namespace


def _exec(code: Any, namespace: dict[str, Any], out: Any, remaining_s: float) -> dict[str, Any] | None:
    def _alarm(signum: int, frame: Any) -> None:
        raise SnippetTimeout()

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, max(0.05, remaining_s))
    try:
        with redirect_stdout(out), redirect_stderr(out):
            exec(code, namespace)
    except BaseException as exc:  # classified below, once the snippet no longer runs
        signal.setitimer(signal.ITIMER_REAL, 0)
        return _failure_for(exc)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return None


def _failure_for(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, SnippetTimeout):
        return failure("timeout", "timeout", "The Python snippet ran past its time limit.", "Do less work per run.")
    if isinstance(exc, MemoryError):
        return failure("oom", "out_of_memory", "The Python snippet ran out of memory.", "Aggregate before copying.")
    if isinstance(exc, python_audit.SandboxViolation):
        return failure("rejected", "python_forbidden", str(exc), FORBIDDEN_HINT)
    if isinstance(exc, ImportError):
        return failure("rejected", "python_rejected", str(exc), GUARD_HINT)
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)) or not isinstance(exc, Exception):
        return failure("error", "python_error", f"The snippet stopped with {type(exc).__name__}.", "Set `result`.")
    return failure("error", "python_error", _describe(exc), "Fix the snippet; the message names the line.")


def _describe(exc: BaseException) -> str:
    """`Type: message (line n)`, with the line from the snippet, never the runner's internals."""
    line = None
    for entry in traceback.extract_tb(exc.__traceback__):
        if entry.filename == "<snippet>":
            line = entry.lineno
    where = f" (line {line})" if line else ""
    return f"{type(exc).__name__}: {exc}{where}"


class _CappedText(io.StringIO):
    """print() and sys.stdout for the snippet: keeps the first `cap` characters and counts the rest."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap
        self.dropped = 0

    def write(self, text: str) -> int:
        room = self.cap - self.tell()
        if room > 0:
            super().write(text[:room])
        self.dropped += max(0, len(text) - max(0, room))
        return len(text)

    def getvalue(self) -> str:
        value = super().getvalue()
        return value + (f"\n[... {self.dropped} more characters of output dropped]" if self.dropped else "")


def _printer(out: _CappedText) -> Any:
    def print_(*values: Any, sep: str | None = " ", end: str | None = "\n", **_ignored: Any) -> None:
        out.write((sep if sep is not None else " ").join(str(v) for v in values) + (end if end is not None else "\n"))

    return print_


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)
