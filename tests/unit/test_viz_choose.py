"""The default chart follows the result's shape, names its axes, and never draws a chart that lies.

Each rule is checked on the spec and on the SVG that vl-convert renders from it (the real renderer).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from csvanalyst.events import RunFinished
from csvanalyst.viz.choose import choose_chart
from csvanalyst.viz.render import render_bytes
from csvanalyst.viz.spec import ChartError, chart_spec


def _run(sql: str, columns: list[tuple[str, str]], rows: list[list[Any]], row_count: int | None = None) -> RunFinished:
    return RunFinished(
        run_id="r1",
        status="ok",
        sql=sql,
        columns=[{"name": n, "type": t} for n, t in columns],
        rows=rows,
        row_count=len(rows) if row_count is None else row_count,
        truncated=False,
    )


def _svg(spec: dict[str, Any]) -> str:
    return render_bytes(spec, "svg").decode()


def test_time_and_measure_is_a_line_named_after_the_aggregate() -> None:
    rows = [[dt.date(2024, m, 1).isoformat(), 10.0 * m] for m in range(1, 7)]
    run = _run(
        'SELECT CAST(DATE_TRUNC(\'month\', "ordered_at") AS DATE) AS "month", SUM("amount") AS "revenue" '
        "FROM orders GROUP BY 1",
        [("month", "DATE"), ("revenue", "DOUBLE")],
        rows,
    )
    spec = choose_chart(run).spec
    assert spec is not None
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"] == {"field": "month", "type": "temporal", "title": "month"}
    assert spec["encoding"]["y"]["title"] == "total of amount"
    assert spec["title"] == "total of amount by month"
    assert "total of amount" in _svg(spec)


def test_category_and_measure_is_a_bar_sorted_by_value() -> None:
    run = _run(
        'SELECT "channel", COUNT(*) AS "n" FROM tickets GROUP BY "channel"',
        [("channel", "VARCHAR"), ("n", "BIGINT")],
        [["email", 5], ["phone", 9], ["chat", 7]],
    )
    spec = choose_chart(run).spec
    assert spec is not None
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["x"]["sort"] == "-y"
    assert spec["encoding"]["y"]["title"] == "number of rows"
    svg = _svg(spec)
    assert svg.index(">phone<") < svg.index(">chat<") < svg.index(">email<")


def test_two_categories_and_measure_are_grouped_bars_with_a_legend_not_a_stack() -> None:
    """average of a measure by two keys: one bar per pair, coloured, never summed into a tower."""
    rows = [
        [origin, year, 100.0 + i] for i, (origin, year) in enumerate((o, y) for o in "ABC" for y in (70, 71, 72, 73))
    ]
    run = _run(
        'SELECT "Origin", "Year", AVG("Horsepower") AS "avg_hp" FROM cars GROUP BY "Origin", "Year"',
        [("Origin", "VARCHAR"), ("Year", "BIGINT"), ("avg_hp", "DOUBLE")],
        rows,
    )
    spec = choose_chart(run).spec
    assert spec is not None
    enc = spec["encoding"]
    assert spec["mark"]["type"] == "bar"
    assert enc["x"]["field"] == "Year" and enc["x"]["type"] == "ordinal"
    assert enc["color"]["field"] == "Origin" and enc["xOffset"]["field"] == "Origin"
    assert enc["y"]["title"] == "average of Horsepower"
    svg = _svg(spec)
    assert "role-legend" in svg and ">Origin<" in svg
    # the y axis ends near the largest average, not at the sum of a stack (~4 × 110)
    assert ">120<" in svg and ">400<" not in svg


def test_date_and_category_and_measure_is_coloured_lines() -> None:
    rows = [[f"2024-0{m}-01", g, float(m)] for m in range(1, 5) for g in ("x", "y")]
    run = _run(
        'SELECT "d", "g", SUM("v") AS "total" FROM t GROUP BY ALL',
        [("d", "DATE"), ("g", "VARCHAR"), ("total", "DOUBLE")],
        rows,
    )
    spec = choose_chart(run).spec
    assert spec is not None
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"]["field"] == "d" and spec["encoding"]["color"]["field"] == "g"


def test_two_numbers_are_a_scatter() -> None:
    run = _run(
        'SELECT "price", "quantity" FROM items',
        [("price", "DOUBLE"), ("quantity", "INTEGER")],
        [[1.5, 3], [2.0, 1], [9.0, 7]],
    )
    spec = choose_chart(run).spec
    assert spec is not None
    assert spec["mark"]["type"] == "point"
    assert (spec["encoding"]["x"]["field"], spec["encoding"]["y"]["field"]) == ("price", "quantity")
    assert "circle" in _svg(spec) or "path" in _svg(spec)


@pytest.mark.parametrize(
    ("columns", "rows", "row_count", "reason"),
    [
        (
            [("a", "VARCHAR"), ("b", "BIGINT"), ("c", "DOUBLE"), ("d", "DOUBLE")],
            [["x", 1, 2.0, 3.0]] * 3,
            None,
            "4 columns",
        ),
        ([("a", "VARCHAR"), ("n", "BIGINT")], [[f"k{i}", i] for i in range(200)], 5000, "first 200"),
        ([("a", "VARCHAR"), ("n", "BIGINT")], [["x", 1]], None, "1 row"),
        ([("a", "VARCHAR"), ("b", "VARCHAR")], [["x", "y"], ["z", "w"]], None, "no number"),
        ([("a", "VARCHAR"), ("n", "BIGINT")], [[f"k{i}", i] for i in range(60)], None, "too many bars"),
        ([("a", "VARCHAR"), ("n", "BIGINT")], [["x", 1], ["x", 2], ["y", 3]], None, "repeat"),
    ],
)
def test_no_chart_with_a_reason(
    columns: list[tuple[str, str]], rows: list[list[Any]], row_count: int | None, reason: str
) -> None:
    choice = choose_chart(_run("SELECT * FROM t", columns, rows, row_count))
    assert choice.spec is None
    assert reason in choice.reason


def test_select_star_is_not_charted_first_against_last() -> None:
    columns = [("country", "VARCHAR"), ("year", "BIGINT"), ("pop", "DOUBLE"), ("iso_num", "BIGINT")]
    run = _run("SELECT * FROM gapminder", columns, [["a", 1, 2.0, 4], ["b", 1, 3.0, 8]])
    assert choose_chart(run).spec is None


def test_too_many_colours_is_no_chart() -> None:
    rows = [[f"c{i}", y, 1.0] for i in range(12) for y in range(11)]
    run = _run(
        'SELECT "c", "y", AVG("v") AS "m" FROM t GROUP BY 1, 2',
        [("c", "VARCHAR"), ("y", "BIGINT"), ("m", "DOUBLE")],
        rows,
    )
    choice = choose_chart(run)
    assert choice.spec is None and "colour" in choice.reason


def test_model_chart_that_would_stack_repeated_bars_is_refused() -> None:
    run = _run(
        'SELECT "Origin", "Year", AVG("Horsepower") AS "hp" FROM cars GROUP BY 1, 2',
        [("Origin", "VARCHAR"), ("Year", "BIGINT"), ("hp", "DOUBLE")],
        [["USA", 70, 150.0], ["USA", 71, 140.0], ["EU", 70, 80.0]],
    )
    with pytest.raises(ChartError, match="repeat"):
        chart_spec(run, mark="bar", x="Origin", y="hp")
    spec = chart_spec(run, mark="bar", x="Origin", y="hp", color="Year")
    assert spec["encoding"]["xOffset"]["field"] == "Year"
    assert spec["encoding"]["y"]["title"] == "average of Horsepower"
