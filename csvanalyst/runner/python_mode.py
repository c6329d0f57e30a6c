"""Restricted Python analysis: run one snippet over the dataset's tables, inside the sandbox only.

The snippet sees each table as a pandas DataFrame (by table name, and in `tables`), the run's locked
DuckDB connection as `con` (the same views and lockdown as SQL), `pd`, `np`, and the allowlisted
modules it imports. It sets `result` (DataFrame, Series, scalar, list or dict) and may `print`; a
dict assigned to `chart` is returned as a Vega-Lite spec.

Restricting Python inside a process is not a boundary on its own; the boundary is the sandbox around
this process (bwrap's namespaces with a filesystem of only what the run needs, a container, a microVM
or a pod), and this module refuses to run anywhere else: the executor names its isolation in
CSVANALYST_SANDBOX, and unshare (which leaves the host's files visible) does not qualify. The AST check
(python_guard) and the audit hook (python_audit) are defence in depth and friendly errors.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import os
import signal
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

from . import lockdown, python_audit, python_guard, python_reach, tables
from .protocol import Request, failure, result
from .values import json_safe

ISOLATED_SANDBOXES = ("bwrap", "docker", "kubernetes", "microsandbox")
MAX_STDOUT_CHARS = 64 * 1024
MAX_CHART_BYTES = 1024 * 1024


class SnippetTimeout(BaseException):
    """Raised in the snippet by SIGALRM at the run's deadline."""


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
        return failure("rejected", "python_rejected", str(exc), GUARD_HINT)
    import duckdb

    os.makedirs(scratch, exist_ok=True)
    con = duckdb.connect(":memory:", config=lockdown.connect_config(request.limits, scratch))
    try:
        tables.register_views_or_explain(con, request.tables)
        lockdown.lock(con, request.tables)
        namespace = _namespace(con, request, tree)
        setup_ms = _ms(started)
        data_files = [os.path.abspath(t.path) for t in request.tables.values()]
        policy = python_audit.install([scratch], data_files)
        import tempfile

        tempfile.tempdir = scratch
        run_started = time.perf_counter()
        out = _CappedText(MAX_STDOUT_CHARS)
        namespace["__builtins__"] = {
            **python_guard.safe_builtins(_printer(out)),
            python_reach.GETATTR_NAME: python_reach.guarded_getattr(python_guard.ALLOWED_IMPORTS),
        }
        code = compile(python_reach.guard_attribute_reads(tree), "<snippet>", "exec")
        error = _exec(code, namespace, out, policy, request.limits.timeout_s - (run_started - started))
        query_ms = _ms(run_started)
        if policy.violations:
            return failure("rejected", "python_forbidden", policy.violations[0], FORBIDDEN_HINT, stdout=out.getvalue())
        if error is not None:
            return {**error, "stdout": out.getvalue()}
        try:
            payload = to_payload(namespace.get("result"), request.limits.max_rows)
            payload["chart"] = _chart(namespace.get("chart"))
        except ValueError as exc:
            return failure("error", "python_error", str(exc), "Set `result` and `chart` as documented.")
        payload["stdout"] = out.getvalue()
        payload["timings"] = {"setup_ms": setup_ms, "query_ms": query_ms}
        return payload
    finally:
        con.close()


GUARD_HINT = (
    "Restricted Python allows plain pandas/numpy analysis over the loaded DataFrames: no imports beyond "
    "math, statistics, datetime, json, re, collections, itertools, functools, pandas, numpy; no dunders, "
    "no file or network access. Set `result` to a DataFrame, Series, scalar or list."
)
FORBIDDEN_HINT = "Work on the DataFrames you were given; files, processes, sockets and pickles are off limits."


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


def _exec(code: Any, namespace: dict[str, Any], out: Any, policy: Any, remaining_s: float) -> dict[str, Any] | None:
    def _alarm(signum: int, frame: Any) -> None:
        raise SnippetTimeout()

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, max(0.05, remaining_s))
    policy.snippet_running = True
    try:
        with redirect_stdout(out), redirect_stderr(out):
            exec(code, namespace)
    except BaseException as exc:  # classified below, once the snippet no longer runs
        policy.snippet_running = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        return _failure_for(exc)
    finally:
        policy.snippet_running = False
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


# ---------------------------------------------------------------------------------------------------
# result -> columns and rows, with the same JSON value rules as SQL results (values.py)


def to_payload(value: Any, max_rows: int) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    if value is None:
        return result("ok")
    if isinstance(value, pd.Series):
        name = str(value.name) if value.name is not None else "value"
        value = value.to_frame(name=name)
    if isinstance(value, pd.DataFrame):
        return _frame(value, max_rows)
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, dict):
        rows = [[_cell(k), _cell(v)] for k, v in value.items()]
        return _rows(["key", "value"], rows, max_rows)
    if isinstance(value, (list, tuple)):
        return _sequence(list(value), max_rows)
    return _rows(["result"], [[_cell(value)]], max_rows)


def _frame(frame: Any, max_rows: int) -> dict[str, Any]:
    import pandas as pd

    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()
    names = [_column_name(c) for c in frame.columns]
    names = _unique(names)
    types = [
        _dtype_name(frame[c].dtype) if not isinstance(frame[c], pd.DataFrame) else "VARCHAR" for c in frame.columns
    ]
    head = frame.head(max_rows + 1)
    rows = [[_cell(v) for v in row] for row in head.itertuples(index=False, name=None)]
    truncated = len(rows) > max_rows
    rows = rows[:max_rows]
    columns = [{"name": n, "type": t} for n, t in zip(names, types, strict=False)]
    return result("ok", columns=columns, rows=rows, row_count=len(rows), truncated=truncated)


def _sequence(items: list[Any], max_rows: int) -> dict[str, Any]:
    if items and all(isinstance(i, dict) for i in items):
        names: list[str] = []
        for item in items:
            names += [str(k) for k in item if str(k) not in names]
        rows = [[_cell(item.get(n, item.get(n))) for n in names] for item in items]
        return _rows(names, rows, max_rows)
    if items and all(isinstance(i, (list, tuple)) for i in items):
        width = max(len(i) for i in items)
        rows = [[_cell(v) for v in i] + [None] * (width - len(i)) for i in items]
        return _rows([f"col{n + 1}" for n in range(width)], rows, max_rows)
    return _rows(["value"], [[_cell(i)] for i in items], max_rows)


def _rows(names: list[str], rows: list[list[Any]], max_rows: int) -> dict[str, Any]:
    truncated = len(rows) > max_rows
    rows = rows[:max_rows]
    types = [_python_type([r[i] for r in rows if i < len(r)]) for i in range(len(names))]
    columns = [{"name": n, "type": t} for n, t in zip(names, types, strict=False)]
    return result("ok", columns=columns, rows=rows, row_count=len(rows), truncated=truncated)


def _cell(value: Any) -> Any:
    """numpy/pandas scalars to Python ones, missing values to None, then the SQL value rules."""
    import numpy as np
    import pandas as pd

    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else json_safe(value.to_pydatetime())
    if isinstance(value, pd.Timedelta):
        return None if pd.isna(value) else json_safe(value.to_pytimedelta())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta, decimal.Decimal, bool, int, str)):
        return json_safe(value)
    if isinstance(value, float):
        return json_safe(value)
    if isinstance(value, np.ndarray):
        return [_cell(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_cell(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _cell(v) for k, v in value.items()}
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return json_safe(value)


def _column_name(column: Any) -> str:
    if isinstance(column, tuple):
        return "_".join(str(c) for c in column if str(c) != "")
    return str(column)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _dtype_name(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    text = str(dtype).lower()
    if kind == "b" or text == "boolean":
        return "BOOLEAN"
    if kind in "iu" or text.startswith(("int", "uint")):
        return "BIGINT"
    if kind == "f" or text.startswith("float"):
        return "DOUBLE"
    if kind == "M" or text.startswith("datetime"):
        return "TIMESTAMP"
    if kind == "m":
        return "INTERVAL"
    return "VARCHAR"


def _python_type(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "BOOLEAN"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "BIGINT"
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "DOUBLE"
    return "VARCHAR"


def _chart(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError(f"`chart` must be a Vega-Lite spec (a dict), got {type(value).__name__}.")
    safe = _cell(value)
    if len(json.dumps(safe, allow_nan=False)) > MAX_CHART_BYTES:
        raise ValueError(f"`chart` is larger than {MAX_CHART_BYTES} bytes.")
    return safe


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)
