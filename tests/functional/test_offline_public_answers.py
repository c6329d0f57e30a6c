"""Whole offline turns on public tables (the shipped `public` suite's files): the answer text is written for the
shapes the planner plans, and names what DuckDB finds directly. The suite test checks plans; this checks the turn."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import duckdb
import pytest

from csvanalyst.core.query import DataScope
from csvanalyst.core.session import Session
from csvanalyst.events import Answer, Done

PUBLIC = Path(str(resources.files("csvanalyst.suites"))) / "public"

CASES = [
    # (file, question, SQL whose first cell the answer must name)
    ("tips", "which bill had the largest tip", "SELECT total_bill FROM tips ORDER BY tip DESC LIMIT 1"),
    ("cars", "which car has the most horsepower", "SELECT Name FROM cars ORDER BY Horsepower DESC NULLS LAST LIMIT 1"),
    (
        "airports",
        "which state has the most airports",
        "SELECT state FROM airports GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
    ),
]


@pytest.mark.parametrize(("table", "question", "sql"), CASES)
def test_a_row_ranking_is_answered_with_the_row(table: str, question: str, sql: str) -> None:
    path = PUBLIC / f"{table}.csv"
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_csv('{path}')")
        expected = con.execute(sql).fetchone()[0]
    with Session(provider="offline") as session:
        events = list(session.ask(question, DataScope(files=(path,))))
    assert isinstance(events[-1], Done) and events[-1].status == "answered", events[-3:]
    answer = next(e for e in events if isinstance(e, Answer))
    assert str(expected).rstrip("0").rstrip(".") in answer.text.replace(",", ""), answer.text
