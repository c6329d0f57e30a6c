"""Schema linking of the offline planner on a hand-made table with names unlike the question's words.

The table is invented for these tests (no public fixture's names), so each rule is shown to be general.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from csvanalyst.agent.context import render_schema_block
from csvanalyst.llm.base import Message, ModelSettings, ToolCall, ToolSpec
from csvanalyst.llm.offline import OfflinePlanner

CONTEXT: dict[str, Any] = {
    "dataset": "fleet",
    "tables": [
        {"name": "trips", "rows": 900, "columns": [
            {"name": "vehicle_name", "type": "VARCHAR", "nulls": 0, "distinct": 700},
            {"name": "Km_per_Litre", "type": "DOUBLE", "nulls": 2},
            {"name": "dur", "type": "BIGINT", "nulls": 0},
            {"name": "costPerunit", "type": "DOUBLE", "nulls": 0},
            {"name": "speed_max", "type": "DOUBLE", "nulls": 0},
            {"name": "speed_min", "type": "DOUBLE", "nulls": 0},
            {"name": "load_kg", "type": "DOUBLE", "nulls": 0},
            {"name": "weekday", "type": "VARCHAR", "nulls": 0, "distinct": 3, "values": ["Mon", "Tue", "Wed"]},
            {"name": "sky", "type": "VARCHAR", "nulls": 0, "distinct": 2, "values": ["storm", "clear"]},
            {"name": "electric", "type": "BOOLEAN", "nulls": 0, "distinct": 2},
            {"name": "yr", "type": "BIGINT", "nulls": 0, "distinct": 4, "min": 2019, "max": 2022}]},
    ],
}  # fmt: skip
TOOLS = [ToolSpec(name=n, description=n, parameters={"type": "object"}) for n in ("run_plan", "run_sql")]


def _messages(question: str) -> list[Message]:
    system = "Answer questions about the data.\n" + render_schema_block(CONTEXT)
    return [Message(role="system", content=system), Message(role="user", content=question)]


def _plan(question: str) -> dict[str, Any]:
    turn = OfflinePlanner().complete(_messages(question), TOOLS, ModelSettings())
    assert turn.stop == "tool_use", turn.text
    return json.loads(turn.tool_calls[0].arguments)["plan"]


@pytest.mark.parametrize(
    ("question", "column"),
    [
        ("average duration", "dur"),  # a prefix
        ("average kpl", "Km_per_Litre"),  # initials
        ("average cost per unit", "costPerunit"),  # run-together parts, "per" not a grouping
        ("average load", "load_kg"),  # a unit left out
        ("maximum speed", "speed_max"),  # parts in another order
        ("highest speed", "speed_max"),  # the aggregate picks between speed_max and speed_min
    ],
)
def test_names_link_through_abbreviations(question: str, column: str) -> None:
    assert _plan(question)["aggregates"][0]["column"] == column


def test_integer_year_column_takes_periods_and_groups() -> None:
    plan = _plan("average duration between 2019 and 2020")
    assert plan["filters"] == [{"column": "yr", "op": "between", "value": [2019, 2020]}]
    assert _plan("average duration after 2020")["filters"] == [{"column": "yr", "op": ">", "value": 2020}]
    assert _plan("trips per year")["select"] == [{"column": "yr"}]


def test_values_yes_no_columns_and_calendar_names() -> None:
    assert _plan("how many electric trips")["filters"] == [{"column": "electric", "op": "=", "value": True}]
    assert _plan("average load of non electric trips")["filters"][0]["value"] is False
    assert _plan("how many stormy trips")["filters"] == [{"column": "sky", "op": "in", "value": ["storm"]}]
    assert _plan("how many trips on monday")["filters"] == [{"column": "weekday", "op": "in", "value": ["Mon"]}]


def test_row_ranking_returns_rows_with_their_label() -> None:
    plan = _plan("top 3 trips by load")
    assert plan["select"] == [{"column": "vehicle_name"}, {"column": "load_kg"}] and plan["limit"] == 3
    assert plan["order_by"] == [{"column": "load_kg", "desc": True}]


def test_linking_decisions_are_said_in_the_answer() -> None:
    messages = _messages("average duration")
    messages.append(Message(role="assistant", tool_calls=[ToolCall(id="c1", name="run_plan", arguments="{}")]))
    result = {"run_id": "abc123abc123", "rows": [[42.5]], "row_count": 1, "columns": [{"name": "avg_dur"}]}
    messages.append(Message(role="tool", tool_call_id="c1", content=json.dumps(result)))
    text = OfflinePlanner().complete(messages, TOOLS, ModelSettings()).text
    assert "42.50" in text and "`dur` taken as “duration”" in text


def test_words_nothing_links_to_are_still_declined() -> None:
    turn = OfflinePlanner().complete(_messages("average fuel price by driver"), TOOLS, ModelSettings())
    assert not turn.tool_calls and turn.text.startswith("I can't answer that offline")


def test_follow_up_builds_on_the_previous_question_of_the_thread() -> None:
    messages = _messages("average duration by sky")
    messages[1:1] = [
        Message(role="user", content="average duration"),
        Message(role="assistant", content="The average dur is 42.50. (run abc123abc123)"),
    ]
    messages[-1] = Message(role="user", content="and by weekday?")
    turn = OfflinePlanner().complete(messages, TOOLS, ModelSettings())
    plan = json.loads(turn.tool_calls[0].arguments)["plan"]
    assert plan["select"] == [{"column": "weekday"}] and plan["aggregates"][0]["column"] == "dur"
    messages[-1] = Message(role="user", content="only for stormy trips")
    plan = json.loads(OfflinePlanner().complete(messages, TOOLS, ModelSettings()).tool_calls[0].arguments)["plan"]
    assert plan["filters"] == [{"column": "sky", "op": "in", "value": ["storm"]}]


def test_a_question_that_stands_alone_is_not_read_as_a_follow_up() -> None:
    messages = _messages("and the tyre pressure?")
    messages[1:1] = [Message(role="user", content="average duration"), Message(role="assistant", content="ok")]
    turn = OfflinePlanner().complete(messages, TOOLS, ModelSettings())
    assert not turn.tool_calls and turn.text.startswith("I can't answer that offline")
