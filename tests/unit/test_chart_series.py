"""The terminal draws what the spec says: one series per colour, bars in the spec's order, and a scatter."""

from __future__ import annotations

from csvanalyst.events import RunFinished
from csvanalyst.tui.widgets.chart_series import chart_series
from csvanalyst.viz.choose import choose_chart


def _run(sql: str, columns: list[tuple[str, str]], rows: list[list[object]]) -> RunFinished:
    cols = [{"name": n, "type": t} for n, t in columns]
    return RunFinished(run_id="r", status="ok", sql=sql, columns=cols, rows=rows, row_count=len(rows), truncated=False)


def test_coloured_bars_are_one_series_per_group() -> None:
    rows = [["USA", 70, 150.0], ["USA", 71, 140.0], ["EU", 70, 80.0], ["EU", 71, 85.0]]
    run = _run(
        'SELECT "o", "y", AVG("hp") AS "m" FROM t GROUP BY 1, 2',
        [("o", "VARCHAR"), ("y", "BIGINT"), ("m", "DOUBLE")],
        rows,
    )
    series = chart_series(choose_chart(run).spec or {})
    assert series is not None
    assert series.mark == "bar" and series.labels == ["USA", "EU"]
    assert series.series == {"70": [150.0, 80.0], "71": [140.0, 85.0]}


def test_single_bars_follow_the_value_order() -> None:
    run = _run(
        'SELECT "c", COUNT(*) AS "n" FROM t GROUP BY 1', [("c", "VARCHAR"), ("n", "BIGINT")], [["a", 1], ["b", 3]]
    )
    series = chart_series(choose_chart(run).spec or {})
    assert series is not None and series.labels == ["b", "a"] and series.series == {"n": [3.0, 1.0]}


def test_scatter_keeps_numeric_x() -> None:
    run = _run('SELECT "p", "q" FROM t', [("p", "DOUBLE"), ("q", "DOUBLE")], [[1.0, 2.0], [3.0, 4.0]])
    series = chart_series(choose_chart(run).spec or {})
    assert series is not None and series.mark == "point" and series.x_values == [1.0, 3.0]
