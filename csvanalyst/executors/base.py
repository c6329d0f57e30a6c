"""The Executor seam: every backend carries one JSON request in and one JSON result out.

The JSON shapes are the runner protocol (see csvanalyst/runner/protocol.md); these pydantic models are
the host-side view of it.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from typing import Any, Literal, Protocol, Self, runtime_checkable

from pydantic import BaseModel, Field, field_validator

from csvanalyst.catalog.schema import TableSource

RunStatus = Literal["ok", "error", "rejected", "timeout", "oom", "sandbox_error"]


class Limits(BaseModel):
    max_rows: int = 10_000
    max_output_bytes: int = 64 * 1024 * 1024
    timeout_s: float = 60.0
    memory_mb: int = 4096
    threads: int = 2


class RunRequest(BaseModel):
    kind: Literal["sql", "python"] = "sql"
    code: str
    tables: dict[str, TableSource]
    limits: Limits = Field(default_factory=Limits)


class ResultColumn(BaseModel):
    name: str
    type: str


class RunError(BaseModel):
    code: str
    message: str
    hint: str = ""


class RunResult(BaseModel):
    status: RunStatus
    columns: list[ResultColumn] = Field(default_factory=list)
    rows: list[list[Any]] = Field(default_factory=list)
    row_count: int = 0
    truncated: bool = False
    stdout: str = ""
    chart: dict[str, Any] | None = None
    timings: dict[str, float] = Field(default_factory=dict)  # milliseconds: setup_ms, query_ms, total_ms
    error: RunError | None = None
    executor: str = ""

    @field_validator("chart")
    @classmethod
    def _inline_chart(cls, chart: dict[str, Any] | None) -> dict[str, Any] | None:
        """A chart drawn inside the sandbox may not make any renderer fetch (viz/safety.py)."""
        from csvanalyst.viz.safety import inline_only

        return None if chart is None else inline_only(chart)


@runtime_checkable
class Executor(Protocol):
    """What the core asks of a sandbox; every backend implements all of it."""

    name: str
    isolation: str  # the wall around a run: a local mode (bwrap, unshare, none) or container, pod, microvm

    def prepare(self, tables: Sequence[TableSource], limits: Limits) -> None:
        """Get ready for a run over exactly these tables while the host checks the query (may do nothing)."""
        ...

    def ready(self) -> str:
        """ "ok" while this backend can take a run, else why not (the server's /readyz)."""
        ...

    def run(self, request: RunRequest, cancel: threading.Event | None = None) -> RunResult:
        """One request; setting `cancel` stops its sandboxed process and ends the run as cancelled."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class ClosingExecutor:
    """The context-manager half of the Executor protocol, shared by every backend: `with` closes."""

    def close(self) -> None:
        """Release what the backend keeps between runs (warm workers); nothing by default."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_BACKENDS: dict[str, str] = {
    "local": "csvanalyst.executors.local.executor:LocalExecutor",
    "docker": "csvanalyst.executors.docker.executor:DockerExecutor",
    "kubernetes": "csvanalyst.executors.kubernetes.executor:KubernetesExecutor",
    "microsandbox": "csvanalyst.executors.microsandbox.executor:MicrosandboxExecutor",
}


# A host process that serves a backend another way (the background worker's request processes reach its
# warm pools) puts a factory here; `load` then builds that instead of the registered class.
SERVED: dict[str, Any] = {}


def names() -> list[str]:
    """Registered backend names; imports nothing."""
    return list(_BACKENDS)


def load(name: str, **options: Any) -> Executor:
    """Instantiate a backend by name, with a clear error when it is unknown or unusable."""
    from csvanalyst.errors import UsageError

    target = _BACKENDS.get(name)
    if target is None:
        raise UsageError(f"Unknown sandbox {name!r}.", hint=f"Choose one of: {', '.join(names())}.")
    if name in SERVED:
        return SERVED[name](**options)  # type: ignore[no-any-return]
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    executor: Executor = cls(**options)
    return executor
