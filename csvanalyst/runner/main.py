"""The runner's entry point: one JSON request on stdin, one JSON result on stdout, nothing else."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import threading
import time
import traceback
from typing import Any, TextIO

from . import lifeline, lockdown, sql, tables
from .protocol import BadRequest, Request, failure, parse_request


def run(data: Any, scratch: str | None = None) -> dict[str, Any]:
    """Answer one request; every failure becomes a typed result, never an exception."""
    started = time.perf_counter()
    try:
        request = parse_request(data)
    except BadRequest as exc:
        return _bad_request(exc)
    payload = _guarded(request, scratch, started)
    payload["timings"] = {**payload.get("timings", {}), "total_ms": _ms(started)}
    return sql.fit_output(payload, request.limits.max_output_bytes)


def _bad_request(exc: BadRequest) -> dict[str, Any]:
    return failure(
        "sandbox_error",
        "bad_request",
        f"Invalid runner request: {exc}.",
        "The host sent a request that does not follow the runner protocol.",
    )


def _guarded(request: Request, scratch: str | None, started: float) -> dict[str, Any]:
    try:
        body = _run_python if request.kind == "python" else _run_sql
        if scratch is not None:
            return body(request, scratch, started)
        with tempfile.TemporaryDirectory(prefix="duckdb-") as private:
            return body(request, private, started)
    except Exception as exc:
        return explain(exc, request)


def explain(exc: BaseException, request: Request) -> dict[str, Any]:
    """The typed result for an exception of a run (SQL, or the snippet's process setting up its tables)."""
    import duckdb

    if isinstance(exc, tables.TableUnreadable):
        return failure(
            "error",
            "table_unreadable",
            str(exc),
            "The dataset's file is missing or unreadable; check the file or add the dataset again.",
        )
    if isinstance(exc, sql.Rejected):
        return failure("rejected", "not_a_select", str(exc), "Send exactly one SELECT statement.")
    if isinstance(exc, BadRequest):
        return _bad_request(exc)
    if isinstance(exc, (duckdb.OutOfMemoryException, MemoryError)):
        return failure(
            "oom",
            "out_of_memory",
            _message(exc) or "Out of memory.",
            "Aggregate or filter more, select fewer columns, or raise the memory limit.",
        )
    if isinstance(exc, duckdb.InterruptException):
        return failure(
            "timeout",
            "timeout",
            f"The query ran longer than {request.limits.timeout_s:g} s.",
            "Filter or aggregate more, or raise the time limit.",
        )
    if isinstance(exc, duckdb.Error):
        return failure("error", _error_code(exc), _message(exc), _hint(exc))
    # the last line of defence: never a traceback on stdout
    traceback.print_exception(exc, file=sys.stderr)
    return failure(
        "sandbox_error",
        "runner_crashed",
        f"The runner failed: {type(exc).__name__}: {exc}",
        "This is a bug in the sandbox runner; the query itself may be fine.",
    )


def _run_python(request: Request, scratch: str, started: float) -> dict[str, Any]:
    """Restricted Python (python_mode.py): only inside an isolated sandbox, in a process of its own."""
    from . import python_mode

    return python_mode.run_python(request, scratch, started)


def _run_sql(request: Request, scratch: str, started: float) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(":memory:", config=lockdown.connect_config(request.limits, scratch))
    try:
        tables.register_views_or_explain(con, request.tables)
        lockdown.lock(con, request.tables)
        query = sql.check_single_select(con, request.code)
        setup_ms = _ms(started)
        query_started = time.perf_counter()
        # Interrupting from inside ends a long query with a clean result; the host's kill is the backstop.
        remaining = request.limits.timeout_s - (query_started - started)
        timer = threading.Timer(max(0.0, remaining), con.interrupt)
        timer.daemon = True
        timer.start()
        try:
            payload = sql.execute(con, query, request.limits)
        finally:
            timer.cancel()
        payload["timings"] = {"setup_ms": setup_ms, "query_ms": _ms(query_started)}
        return payload
    finally:
        con.close()


def _error_code(exc: Exception) -> str:
    import duckdb

    return "permission_denied" if isinstance(exc, duckdb.PermissionException) else "sql_error"


def _hint(exc: Exception) -> str:
    import duckdb

    if isinstance(exc, duckdb.PermissionException):
        return "Only the dataset's tables can be read; files, settings and extensions are locked."
    return sql.SQL_HINT


def _message(exc: BaseException) -> str:
    return str(exc).strip()


REQUEST_ENV = "CSVANALYST_REQUEST"


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)


def main(stdin: TextIO | None = None, stdout: TextIO | None = None, *, limit_process: bool = True) -> int:
    """Read, run, write. Exit 0 whenever a result was written, so the status lives in the JSON."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if limit_process:  # a runner process of its own, not a caller's thread
        with contextlib.suppress(AttributeError, OSError, ValueError):  # a stream with no descriptor
            lifeline.watch(stdout.fileno())
    _preload()
    try:
        data = json.loads(_request_text(stdin))
    except (ValueError, UnicodeDecodeError) as exc:
        stdout.write(
            sql.encode(
                failure(
                    "sandbox_error",
                    "bad_request",
                    f"Request is not valid JSON: {exc}.",
                    "The host must send one JSON object on stdin.",
                )
            )
        )
        stdout.flush()
        return 0
    if limit_process and isinstance(data, dict):
        _limit_self(data)
    stdout.write(sql.encode(run(data, scratch=os.environ.get("CSVANALYST_SCRATCH"))))
    stdout.flush()
    return 0


def _request_text(stdin: TextIO) -> str:
    """The request: stdin, or CSVANALYST_REQUEST where the sandbox has no stdin (a Kubernetes Job, a microVM
    exec); either way it is data handed to json.loads, never a command line a shell could interpret."""
    env_request = os.environ.get(REQUEST_ENV)
    return env_request if env_request is not None else stdin.read()


def _preload() -> None:
    """Import DuckDB before the request arrives: a host that starts the runner early overlaps this
    (the slowest part of start-up) with its own checks. The host already set the OS limits."""
    with contextlib.suppress(ImportError):  # run() reports a missing DuckDB with the request's context
        import duckdb  # noqa: F401


def _limit_self(data: dict[str, Any]) -> None:
    """Apply OS limits before DuckDB is imported; a bad limits object is reported by run()."""
    try:
        lockdown.apply_rlimits(parse_request(data).limits)
    except BadRequest:
        pass
    except (OSError, ValueError) as exc:
        print(f"runner: could not apply resource limits: {exc}", file=sys.stderr)
