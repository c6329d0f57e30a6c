"""The default chart of a result, chosen from its shape, or the reason there is none.

time + measure → line; category + measure → bar sorted by value; two dimensions + measure → grouped
bars or coloured lines with a legend; two measures → scatter. Anything else gets no chart and a
reason a person can act on, rather than a chart that drops columns or stacks unrelated bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from csvanalyst.events import RunFinished
from csvanalyst.viz.roles import ColumnRole, column_roles
from csvanalyst.viz.spec import build_spec, repeated_keys

MAX_BARS = 40
MAX_COLOURS = 10
MAX_COLUMNS = 3


@dataclass(frozen=True)
class ChartChoice:
    """Either a Vega-Lite spec or why no chart fits (one of the two is set)."""

    spec: dict[str, Any] | None
    reason: str = ""


def choose_chart(run: RunFinished) -> ChartChoice:
    """The chart that shows this result honestly, or a reason."""
    problem = _size_problem(run)
    if problem:
        return ChartChoice(None, problem)
    roles = column_roles(run)
    dimensions = [r for r in roles if r.dimension]
    measures = [r for r in roles if not r.dimension and r.kind == "quantitative"]
    if not measures:
        return ChartChoice(None, "The result has no number to plot.")
    if len(measures) == 2 and len(dimensions) <= 1:
        return _scatter(run, measures, dimensions)
    if len(measures) > 1:
        return ChartChoice(None, f"The result has {len(measures)} measures; a chart shows one against its groups.")
    if len(dimensions) == 1:
        return _one_dimension(run, dimensions[0], measures[0])
    if len(dimensions) == 2:
        return _two_dimensions(run, dimensions, measures[0])
    return ChartChoice(None, "The result has a number but nothing to plot it against (no label, date or group).")


def default_chart(run: RunFinished) -> dict[str, Any] | None:
    return choose_chart(run).spec


def _size_problem(run: RunFinished) -> str:
    if run.row_count < 2:
        return f"The result has {run.row_count} row{'s' if run.row_count != 1 else ''}: nothing to compare."
    if len(run.rows) < run.row_count:
        return (
            f"The result has {run.row_count} rows and a chart would show only the first {len(run.rows)}; "
            "aggregate or filter it to chart it."
        )
    if len(run.columns) > MAX_COLUMNS:
        return (
            f"The result has {len(run.columns)} columns; a chart needs a label or date, "
            "at most one group, and one number."
        )
    return ""


def _one_dimension(run: RunFinished, dim: ColumnRole, measure: ColumnRole) -> ChartChoice:
    if repeated_keys(run, [dim.name]):
        return ChartChoice(None, f"Values of {dim.name} repeat; aggregate by {dim.name} to chart it.")
    if dim.kind == "temporal":
        return ChartChoice(build_spec(run, "line", x=dim, y=measure))
    if dim.distinct > MAX_BARS:
        if dim.kind == "quantitative":
            return ChartChoice(build_spec(run, "line", x=dim, y=measure))
        return ChartChoice(
            None, f"{dim.distinct} values of {dim.name} are too many bars; ask for the top {MAX_BARS // 2}."
        )
    return ChartChoice(build_spec(run, "bar", x=dim, y=measure))


def _two_dimensions(run: RunFinished, dims: list[ColumnRole], measure: ColumnRole) -> ChartChoice:
    if repeated_keys(run, [d.name for d in dims]):
        return ChartChoice(None, f"Pairs of {dims[0].name} and {dims[1].name} repeat; aggregate by them to chart it.")
    temporal = [d for d in dims if d.kind == "temporal"]
    x = temporal[0] if temporal else max(dims, key=lambda d: d.distinct)
    colour = dims[1] if x is dims[0] else dims[0]
    if colour.distinct > MAX_COLOURS:
        return ChartChoice(
            None,
            f"{colour.distinct} values of {colour.name} are too many to tell apart by colour "
            f"(at most {MAX_COLOURS}); filter to a few of them.",
        )
    if x.kind != "temporal" and x.distinct * colour.distinct > MAX_BARS * 2:
        return ChartChoice(None, f"{x.distinct} × {colour.distinct} groups are too many bars; filter to fewer.")
    mark = "line" if x.kind == "temporal" else "bar"
    return ChartChoice(build_spec(run, mark, x=x, y=measure, colour=colour))


def _scatter(run: RunFinished, measures: list[ColumnRole], dims: list[ColumnRole]) -> ChartChoice:
    return ChartChoice(build_spec(run, "point", x=measures[0], y=measures[1], label=dims[0] if dims else None))
