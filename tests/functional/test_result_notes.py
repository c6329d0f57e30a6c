"""A filter value the data does not hold, and an empty or all-NULL result, are said to the model.

A ScriptedModel sends the calls a real model was seen to make; the run goes through the real
catalog (a public table given as --file), policy and local sandbox."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from csvanalyst.core.query import DataScope
from csvanalyst.core.session import Session
from csvanalyst.llm.base import Message
from csvanalyst.testing.scripted import ScriptedModel, answer, call

PUBLIC = Path(str(resources.files("csvanalyst.suites"))) / "public"  # the shipped public-data suite's tables

TIPS = PUBLIC / "tips.csv"


def _tool_result(first_call) -> dict:
    model = ScriptedModel([first_call, answer("done")], repeat_last=True)  # a suspect result gets pushed back
    list(Session(client=model).ask("q", DataScope(files=(TIPS,))))
    tool = next(m for m in model.calls[1] if isinstance(m, Message) and m.role == "tool")
    return json.loads(tool.content)


def test_sql_value_not_in_the_column_names_the_nearest_and_the_null_result() -> None:
    sql = "SELECT avg(total_bill) FROM tips WHERE day = 'Saturday' AND time = 'Dinner'"
    result = _tool_result(call("run_sql", {"sql": sql}))
    notes = " ".join(result["notes"])
    assert "no value 'Saturday'" in notes and "'Sat'" in notes
    assert "NULL" in notes
    assert "Dinner" not in notes  # a value the column holds is not questioned


def test_plan_with_an_unknown_value_and_no_rows_says_the_result_is_empty() -> None:
    plan = {
        "table": "tips",
        "select": [{"column": "day"}],
        "filters": [{"column": "day", "op": "=", "value": "sunday"}],
    }
    result = _tool_result(call("run_plan", {"plan": plan}))
    notes = " ".join(result["notes"])
    assert result["row_count"] == 0
    assert "no value 'sunday'" in notes and "'Sun'" in notes and "empty" in notes


def test_a_result_with_rows_has_no_notes() -> None:
    result = _tool_result(call("run_sql", {"sql": "SELECT count(*) FROM tips WHERE day = 'Sat'"}))
    assert "notes" not in result
