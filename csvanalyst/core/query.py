"""The one path every query takes: resolve dataset → (compile plan) → policy → sandbox → run capsule.

CLI commands, the agent's tools and the server all call `execute`; none of them talks to the compiler,
the policy, the executors or the store on its own.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from csvanalyst.catalog.reader import NO_OPTIONS, ReaderOptions, from_mapping
from csvanalyst.catalog.schema import DatasetInfo
from csvanalyst.config import Settings, get_settings
from csvanalyst.errors import (
    CsvAnalystError,
    EnvironmentProblem,
    PolicyError,
    QueryFailedError,
    UsageError,
)
from csvanalyst.executors.base import Executor, Limits, RunRequest, RunResult

if TYPE_CHECKING:
    from csvanalyst.plan.policy import CheckedSql

QueryKind = Literal["sql", "plan", "python"]


@dataclass(frozen=True)
class DataScope:
    """What a query may see: a registered dataset by name, or ad-hoc files read with `reader` options."""

    dataset: str | None = None
    files: tuple[Path, ...] = ()
    reader: ReaderOptions = NO_OPTIONS

    def to_dict(self) -> dict[str, object]:
        if self.files:
            given = self.reader.given()
            return {"files": [str(p.resolve()) for p in self.files], **({"reader": given} if given else {})}
        return {"dataset": self.dataset}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> DataScope:
        files = data.get("files") or []
        dataset = data.get("dataset")
        reader = data.get("reader")
        assert isinstance(files, list)
        return cls(
            dataset=str(dataset) if dataset else None,
            files=tuple(Path(str(f)) for f in files),
            reader=from_mapping(reader if isinstance(reader, dict) else None, "the recorded scope"),
        )

    def resolve(self, *, profiled: bool = True) -> DatasetInfo:
        """The dataset in scope; `profiled=False` when no column stats are needed (a file is then not
        scanned a second time to profile it)."""
        from csvanalyst.catalog import registry

        if self.dataset and self.files:
            raise UsageError("Give either a dataset (-d) or files (--file), not both.")
        if self.dataset and self.reader.given():
            raise UsageError(
                "Reader options (--delimiter, --header, ...) apply to --file; a registered dataset keeps the ones "
                "it was added with.",
                hint=f"Drop them, or register it again: `datasets remove {self.dataset}` then `datasets add` "
                "with the options.",
            )
        if self.files:
            return registry.file_dataset(list(self.files), self.reader, profiled=profiled)
        if self.dataset:
            return registry.get_dataset(self.dataset)
        raise UsageError(
            "No data to query.", hint="Pass -d DATASET (see `csvanalyst datasets list`) or --file PATH.csv."
        )


@dataclass
class QueryOutcome:
    """A finished run: its capsule id, the SQL that ran, and the sandbox's result."""

    run_id: str
    dataset: DatasetInfo
    sql: str
    result: RunResult
    notes: list[str] = field(default_factory=list)  # e.g. rows of a table's file that were set aside
    set_aside: dict[str, int] = field(default_factory=dict)  # table -> rows of its file not in the table


def limits_from(settings: Settings) -> Limits:
    return Limits(
        max_rows=settings.max_rows,
        max_output_bytes=settings.max_output_bytes,
        timeout_s=settings.timeout_s,
        memory_mb=settings.memory_mb,
        threads=settings.threads,
    )


def to_sql(kind: QueryKind, text: str, dataset: DatasetInfo, settings: Settings) -> str:
    """The SQL a query stands for: as given, or compiled from a QueryPlan (JSON text)."""
    if kind == "sql":
        return text
    from csvanalyst.plan.compiled import compile_plan_cached

    return compile_plan_cached(text, dataset, settings.cache_dir / "plans")


def check(sql: str, dataset: DatasetInfo, settings: Settings) -> CheckedSql:
    """The policy check, answered from a remembered approval of the same SQL on the same data and policy."""
    from csvanalyst.plan.verdicts import check_sql_cached

    return check_sql_cached(
        sql,
        tables=dataset.table_names,
        dataset=dataset.name,
        fingerprint=dataset.fingerprint,
        row_cap=settings.max_rows,
        schema=dataset.column_types,
        cache_dir=settings.cache_dir / "verdicts",
    )


def execute(
    kind: QueryKind,
    text: str,
    scope: DataScope,
    *,
    settings: Settings | None = None,
    executor: Executor | None = None,
    thread_id: str | None = None,
    cancel: threading.Event | None = None,
) -> QueryOutcome:
    """Run one query end to end and record it. Raises the error tree for anything but status ok.

    Setting `cancel` stops the sandbox process of a run in flight; the run is recorded as cancelled."""
    from csvanalyst.catalog.rejects import reading_notes
    from csvanalyst.core.text import require_text
    from csvanalyst.store import db as store_db
    from csvanalyst.store import runs

    require_text(text, "Python code" if kind == "python" else "plan" if kind == "plan" else "SQL query")
    settings = settings or get_settings()
    dataset = scope.resolve(profiled=False)
    notes, tally = reading_notes(dataset, strict=settings.strict)
    store: sqlite3.Connection | None = None
    try:
        store = store_db.connect(settings.store_path)
        run_id = runs.start(
            store,
            dataset=dataset.name,
            fingerprint=dataset.fingerprint,
            kind=kind,
            input=text,
            scope={**scope.to_dict(), **({"set_aside": tally} if tally else {})},
            thread_id=thread_id,
        )
    except (CsvAnalystError, sqlite3.Error) as exc:
        if not store_db.is_unwritable(exc):
            raise
        # The answer matters more than its record: run anyway, and say it was not recorded.
        store, run_id = None, runs.new_run_id()
    try:
        if executor is not None:
            outcome = _execute_recorded(kind, text, dataset, run_id, store, settings, executor, cancel)
        else:
            from csvanalyst.executors.base import load

            with load(settings.sandbox) as owned:
                _prepare(owned, dataset, settings)
                outcome = _execute_recorded(kind, text, dataset, run_id, store, settings, owned, cancel)
        outcome.notes.extend(notes)
        outcome.set_aside = tally
        return outcome
    except KeyboardInterrupt:
        if store is not None:
            runs.cancel_if_running(store, run_id, message="Interrupted (Ctrl-C) while the query ran.")
        raise
    finally:
        if store is not None:
            store.close()


def _prepare(executor: Executor, dataset: DatasetInfo, settings: Settings) -> None:
    """Let a sandbox start its process while the host compiles and checks the query (start-up is
    the largest fixed cost of a run). It may read only this dataset's tables."""
    executor.prepare([t.source for t in dataset.tables], limits_from(settings))


def _execute_recorded(
    kind: QueryKind,
    text: str,
    dataset: DatasetInfo,
    run_id: str,
    store: sqlite3.Connection | None,
    settings: Settings,
    executor: Executor,
    cancel: threading.Event | None = None,
) -> QueryOutcome:
    from csvanalyst.store import runs

    def finish(**fields: object) -> None:
        if store is not None:
            runs.finish(store, run_id, **fields)  # type: ignore[arg-type]

    sql: str | None = None
    try:
        if kind == "python":
            request = python_request(text, dataset, settings, executor)
        else:
            sql = to_sql(kind, text, dataset, settings)
            checked = check(sql, dataset, settings)
            by_name = {t.name: t for t in dataset.tables}  # the policy resolved every table to one of these
            request = RunRequest(
                kind="sql",
                code=checked.sql,
                tables={name: by_name[name].source for name in checked.tables},
                limits=limits_from(settings),
            )
    except CsvAnalystError as exc:
        finish(status="rejected", compiled_sql=sql, error=exc.to_dict())
        raise
    result = executor.run(request, cancel=cancel)
    finish(
        status=result.status,
        compiled_sql=request.code,
        executor=result.executor,
        row_count=result.row_count,
        truncated=result.truncated,
        timings=result.timings,
        columns=[c.model_dump() for c in result.columns],
        rows=result.rows,
        error=result.error.model_dump() if result.error else None,
        request=json.loads(request.model_dump_json()),
    )
    outcome = QueryOutcome(run_id=run_id, dataset=dataset, sql=request.code, result=result)
    if store is None:
        outcome.notes.append(NOT_RECORDED.format(path=settings.store_path))
    raise_for_status(outcome)
    return outcome


NOT_RECORDED = "This run was not recorded: the store at {path} cannot be written (disk full or read-only)."

PYTHON_ENABLE_HINT = (
    "Enable it with CSVANALYST_ENABLE_PYTHON=1 (or ENABLE_PYTHON_EXECUTION=1, or `enable_python = true` in "
    "config.toml); it runs only in a sandbox that isolates the filesystem and network: the local sandbox with "
    "bubblewrap, docker, microsandbox or kubernetes."
)


def python_refusal(settings: Settings, executor: Executor | None) -> CsvAnalystError | None:
    """Why a Python snippet may not run here, or None. Python runs only where the OS walls off the host's
    files and network; the restricted-Python checks are a second layer, never the boundary."""
    if not settings.enable_python:
        return UsageError("Python analysis is turned off.", hint=PYTHON_ENABLE_HINT, code="python_disabled")
    from csvanalyst.executors.local.isolation import PROMISES

    mode = executor.isolation if executor is not None else None
    if mode in PROMISES and not PROMISES[mode].runs_python:
        return EnvironmentProblem(
            f"Python analysis needs a sandbox that isolates the filesystem and network, and the local sandbox here "
            f"runs as {mode!r}: {PROMISES[mode].summary()}.",
            hint="Install bubblewrap (`apt-get install bubblewrap`) for the local sandbox, or use --sandbox docker "
            "(see `csvanalyst runner build`), microsandbox or kubernetes.",
        )
    return None


def python_request(code: str, dataset: DatasetInfo, settings: Settings, executor: Executor) -> RunRequest:
    """Restricted Python: no SQL policy, but refused early when off, not isolated or failing the AST check
    (the runner checks all of it again inside the sandbox)."""
    from csvanalyst.runner import python_guard

    refusal = python_refusal(settings, executor)
    if refusal is not None:
        raise refusal
    try:
        python_guard.check(code)
    except python_guard.GuardError as exc:
        raise PolicyError(str(exc), rule="python_guard", hint=python_guard.HOST_HINT) from exc
    return RunRequest(
        kind="python",
        code=code,
        tables={t.name: t.source for t in dataset.tables},
        limits=limits_from(settings),
    )


def raise_for_status(outcome: QueryOutcome) -> None:
    """Turn a non-ok run into the matching error, carrying the run id so it can be inspected."""
    result = outcome.result
    if result.status == "ok":
        return
    error = result.error
    message = error.message if error else f"The run ended with status {result.status}."
    hint = (error.hint if error and error.hint else "") or f"Inspect it with `csvanalyst runs show {outcome.run_id}`."
    if result.status == "sandbox_error":
        exc: CsvAnalystError = EnvironmentProblem(message, hint=hint)
    elif result.status == "rejected":
        exc = PolicyError(message, rule="sandbox_rejected", hint=hint)
    else:
        code = (
            result.status if result.status != "error" else (error.code if error and error.code == "cancelled" else None)
        )
        exc = QueryFailedError(message, hint=hint, code=code)
    exc.run_id = outcome.run_id  # type: ignore[attr-defined]
    raise exc
