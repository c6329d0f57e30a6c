"""The agent's tools, defined once from pydantic models: their JSON schema, validation and execution.

Every tool returns a ToolOutcome: the JSON text the model reads back, the events front ends render, and
whether a failure is worth a retry (the model can fix a bad column) or ends the turn.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from csvanalyst.agent.coerce import ArgumentError, argument_problem, extract_sql, parse_arguments
from csvanalyst.agent.flat_schema import flat_schema
from csvanalyst.agent.result_notes import is_missing_value_note, result_notes
from csvanalyst.agent.toolsets import ToolSet, tool_names
from csvanalyst.catalog.schema import DatasetInfo
from csvanalyst.config import Settings
from csvanalyst.core.query import DataScope, QueryOutcome, execute
from csvanalyst.errors import CsvAnalystError, EnvironmentProblem
from csvanalyst.events import Chart, Event, RunFinished, SqlCompiled
from csvanalyst.executors.base import Executor
from csvanalyst.llm.base import ToolSpec

MODEL_PREVIEW_ROWS = 20
MODEL_PREVIEW_BYTES = 6_000
EVENT_PREVIEW_ROWS = 200


class _Args(BaseModel):
    model_config = ConfigDict(extra="ignore")  # models add stray keys; ignoring them is safe here


class RunPlanArgs(_Args):
    """Run a QueryPlan (preferred: it is validated against the schema and compiled to SQL for you)."""

    plan: dict[str, Any] = Field(description="A QueryPlan object; its fields are described in this schema.")


class RunSqlArgs(_Args):
    """Run one read-only DuckDB SQL query over the dataset's tables (when a plan cannot express it)."""

    sql: str = Field(description="One SELECT/WITH query. Only the dataset's tables; no file or system access.")


class RunPythonArgs(_Args):
    """Run restricted Python (pandas/numpy) over the dataset when SQL cannot express the analysis.

    Each table is a pandas DataFrame named after it (also in `tables`); `con` is a read-only DuckDB
    connection (`con.sql("...").df()`); `pd` and `np` are imported. Set `result` to a DataFrame, Series,
    scalar or list; `print` output is returned; assign a Vega-Lite dict to `chart` for a chart. Allowed
    imports: math, statistics, datetime, json, re, collections, itertools, functools, pandas, numpy.
    No dunders, no file/network access, no str.format (use f-strings)."""

    code: str = Field(description="The Python snippet. It must set `result`.")


class DescribeTableArgs(_Args):
    """Describe one table: every column with its type, null and distinct counts, range and samples."""

    table: str = Field(description="A table name of the dataset.")


class ListDatasetsArgs(_Args):
    """List the datasets that exist (the conversation is about one of them)."""


class MakeChartArgs(_Args):
    """Draw a chart of a run's result (Vega-Lite). Use after a run whose rows suit a chart."""

    run_id: str = Field(description="The run whose rows to draw (from a run_plan or run_sql result).")
    mark: Literal["bar", "line", "point", "arc", "area"] = Field("bar", description="The kind of chart.")
    x: str = Field(description="Result column on the x axis.")
    y: str = Field(description="Result column on the y axis.")
    color: str | None = Field(None, description="Optional result column that colours the marks.")
    title: str | None = Field(None, description="Optional chart title.")


@dataclass
class ToolContext:
    """What a tool may touch during one turn."""

    dataset: DatasetInfo
    scope: DataScope
    settings: Settings
    executor: Executor | None = None
    thread_id: str | None = None
    cancel: threading.Event | None = None  # set by the front end: stops a sandbox run in flight
    runs: dict[str, RunFinished] = field(default_factory=dict)  # the runs of this turn, by id
    doubts: dict[str, list[str]] = field(default_factory=dict)  # notes saying a run's filter matched no value


@dataclass
class ToolOutcome:
    content: str
    events: list[Event] = field(default_factory=list)
    is_error: bool = False
    retryable: bool = True
    run_id: str | None = None


@dataclass(frozen=True)
class Tool:
    name: str
    args: type[_Args]
    handler: Callable[[Any, ToolContext, str], ToolOutcome]

    def spec(self) -> ToolSpec:
        schema = flat_schema(self.args.model_json_schema())
        description = schema.pop("description", "") or ""
        return ToolSpec(name=self.name, description=description.strip(), parameters=schema)


def error_outcome(exc: CsvAnalystError, *, retryable: bool = True) -> ToolOutcome:
    payload = {"error": exc.to_dict(), "retryable": retryable}
    return ToolOutcome(content=json.dumps(payload), is_error=True, retryable=retryable)


def _run_query(kind: Literal["sql", "plan", "python"], text: str, ctx: ToolContext, call_id: str) -> ToolOutcome:
    try:
        outcome = execute(
            kind,
            text,
            ctx.scope,
            settings=ctx.settings,
            executor=ctx.executor,
            thread_id=ctx.thread_id,
            cancel=ctx.cancel,
        )
    except EnvironmentProblem as exc:
        return error_outcome(exc, retryable=False)
    except CsvAnalystError as exc:
        return error_outcome(exc)
    return _run_result(outcome, kind, text, call_id, ctx)


def _run_result(outcome: QueryOutcome, kind: str, text: str, call_id: str, ctx: ToolContext) -> ToolOutcome:
    result = outcome.result
    columns = [c.model_dump() for c in result.columns]
    finished = RunFinished(
        call_id=call_id,
        run_id=outcome.run_id,
        status=result.status,
        sql=outcome.sql,
        columns=columns,
        rows=result.rows[:EVENT_PREVIEW_ROWS],
        row_count=result.row_count,
        truncated=result.truncated,
        timings=result.timings,
    )
    ctx.runs[outcome.run_id] = finished
    plan = json.loads(text) if kind == "plan" else None
    events: list[Event] = [SqlCompiled(call_id=call_id, sql=outcome.sql, plan=plan), finished]
    notes = result_notes(kind, text, ctx.dataset, finished.rows[:MODEL_PREVIEW_ROWS], result.row_count)
    ctx.doubts[outcome.run_id] = [note for note in notes if is_missing_value_note(note)]
    if kind != "python":
        return ToolOutcome(content=model_view(finished, notes), events=events, run_id=outcome.run_id)
    if result.chart:
        events.append(Chart(run_id=outcome.run_id, spec=result.chart))
    view = json.loads(model_view(finished))
    view["stdout"] = result.stdout[:MODEL_PREVIEW_BYTES]
    return ToolOutcome(content=json.dumps(view, ensure_ascii=False), events=events, run_id=outcome.run_id)


def model_view(run: RunFinished, notes: list[str] | None = None) -> str:
    """What the model reads of a run: capped in rows and bytes, cell values as JSON data, and notes."""
    rows = run.rows[:MODEL_PREVIEW_ROWS]
    payload: dict[str, object] = {
        "run_id": run.run_id,
        "sql": run.sql,
        "columns": run.columns,
        "rows": rows,
        "row_count": run.row_count,
        "truncated": run.truncated,
    }
    if notes:
        payload["notes"] = notes
    text = json.dumps(payload, ensure_ascii=False, default=str)
    while len(text) > MODEL_PREVIEW_BYTES and rows:
        rows = rows[: len(rows) // 2]
        payload["rows"] = rows
        payload["rows_shown"] = len(rows)
        text = json.dumps(payload, ensure_ascii=False, default=str)
    return text


def run_plan(args: RunPlanArgs, ctx: ToolContext, call_id: str) -> ToolOutcome:
    return _run_query("plan", json.dumps(args.plan), ctx, call_id)


def run_sql(args: RunSqlArgs, ctx: ToolContext, call_id: str) -> ToolOutcome:
    return _run_query("sql", extract_sql(args.sql), ctx, call_id)


def run_python(args: RunPythonArgs, ctx: ToolContext, call_id: str) -> ToolOutcome:
    from csvanalyst.core.query import python_refusal

    refusal = python_refusal(ctx.settings, ctx.executor)
    if refusal is not None:
        return error_outcome(refusal, retryable=False)
    return _run_query("python", args.code, ctx, call_id)


def describe_table(args: DescribeTableArgs, ctx: ToolContext, call_id: str) -> ToolOutcome:
    from csvanalyst.agent.context import _column_entry
    from csvanalyst.plan.names import suggest

    table = ctx.dataset.table(args.table) or next(
        (t for t in ctx.dataset.tables if t.name.lower() == args.table.lower()), None
    )
    if table is None:
        hint = suggest(args.table, ctx.dataset.table_names)
        message = f"No table {args.table!r} in dataset {ctx.dataset.name!r}. {hint}".strip()
        return error_outcome(CsvAnalystError(message, code="unknown_table"))
    payload = {
        "table": table.name,
        "rows": table.row_count,
        "columns": [_column_entry(c, samples=True) for c in table.columns],
    }
    return ToolOutcome(content=json.dumps(payload, ensure_ascii=False, default=str))


def list_datasets(args: ListDatasetsArgs, ctx: ToolContext, call_id: str) -> ToolOutcome:
    from csvanalyst.catalog import registry

    names = [s.name for s in registry.list_datasets()]
    return ToolOutcome(content=json.dumps({"datasets": names, "current": ctx.dataset.name}))


def make_chart(args: MakeChartArgs, ctx: ToolContext, call_id: str) -> ToolOutcome:
    from csvanalyst.viz.spec import ChartError, chart_spec

    run = ctx.runs.get(args.run_id)
    if run is None:
        known = ", ".join(ctx.runs) or "none yet"
        return error_outcome(
            CsvAnalystError(f"No run {args.run_id!r} in this turn (runs: {known}).", code="unknown_run")
        )
    try:
        spec = chart_spec(run, mark=args.mark, x=args.x, y=args.y, color=args.color, title=args.title)
    except ChartError as exc:
        return error_outcome(CsvAnalystError(str(exc), code="bad_chart"))
    return ToolOutcome(
        content=json.dumps({"chart": "ok", "run_id": run.run_id}), events=[Chart(run_id=run.run_id, spec=spec)]
    )


TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool("run_plan", RunPlanArgs, run_plan),
        Tool("run_sql", RunSqlArgs, run_sql),
        Tool("run_python", RunPythonArgs, run_python),
        Tool("describe_table", DescribeTableArgs, describe_table),
        Tool("list_datasets", ListDatasetsArgs, list_datasets),
        Tool("make_chart", MakeChartArgs, make_chart),
    )
}


def tool_specs(*, python: bool = False, tool_set: ToolSet = "full") -> list[ToolSpec]:
    """The tools the model is offered: those of `tool_set`, run_python only when Python analysis is on."""
    specs = [TOOLS[name].spec() for name in tool_names(tool_set, python=python)]
    for spec in specs:
        if spec.name == "run_plan":
            from csvanalyst.plan.model import plan_json_schema

            plan = flat_schema(plan_json_schema())
            plan["description"] = "A QueryPlan object (fields below); compiled to DuckDB SQL after validation."
            spec.parameters["properties"]["plan"] = plan
    return specs


def call_tool(
    name: str, raw_arguments: str, ctx: ToolContext, call_id: str, offered: Sequence[str] | None = None
) -> tuple[dict[str, Any], ToolOutcome]:
    """Validate and run one call of an offered tool; every problem becomes a precise error the model can act on."""
    offered = list(TOOLS) if offered is None else list(offered)
    tool = TOOLS.get(name) if name in offered else None
    if tool is None:
        message = f"There is no tool {name!r}. Available tools: {', '.join(offered)}.{_nearest_tool(name, offered)}"
        return {}, error_outcome(CsvAnalystError(message, code="unknown_tool"))
    try:
        arguments = _arguments_for(name, raw_arguments)
        args = tool.args.model_validate(arguments)
    except (ArgumentError, ValidationError) as exc:
        message, hint = argument_problem(name, tool.args, exc)
        return {}, error_outcome(CsvAnalystError(message, hint=hint, code="invalid_arguments"))
    return arguments, tool.handler(args, ctx, call_id)


def _arguments_for(name: str, raw: str) -> dict[str, Any]:
    """Parsed arguments; for run_sql, bare SQL text (no JSON at all) is taken as the query."""
    try:
        return parse_arguments(raw)
    except ArgumentError:
        if name == "run_sql" and raw.strip() and not raw.lstrip().startswith(("{", "[", '"')):
            return {"sql": raw}
        raise


def _nearest_tool(name: str, offered: list[str]) -> str:
    """` Did you mean 'run_sql'?` for a tool sharing a word with the name (`execute_sql`), else a close spelling."""
    from csvanalyst.plan.names import suggest

    words = set(name.lower().replace("-", "_").split("_")) - {"", "run", "get"}
    sharing = [tool for tool in offered if words & set(tool.split("_"))]
    return f" Did you mean {' or '.join(repr(t) for t in sharing)}?" if sharing else suggest(name, offered)
