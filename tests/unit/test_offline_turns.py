"""The offline planner as a ModelClient: turn 1 plans or declines, turn 2 answers from the tool result.

Uses a hand-made schema context so these tests do not depend on the demo datasets.
"""

from __future__ import annotations

import json
from typing import Any

from csvanalyst.agent.context import render_schema_block
from csvanalyst.llm.base import Message, ModelClient, ModelSettings, TextChunk, ToolCall, ToolSpec, Turn
from csvanalyst.llm.offline import OfflinePlanner

CONTEXT: dict[str, Any] = {
    "dataset": "shop",
    "tables": [
        {"name": "orders", "rows": 5000, "columns": [
            {"name": "order_id", "type": "BIGINT", "nulls": 0, "distinct": 5000},
            {"name": "product_id", "type": "VARCHAR", "nulls": 0, "distinct": 30},
            {"name": "order_date", "type": "DATE", "nulls": 0, "min": "2023-01-01", "max": "2025-12-31"},
            {"name": "Region", "type": "VARCHAR", "nulls": 0, "distinct": 5,
             "values": ["North", "South", "north ", "NORTH", "East"]},
            {"name": "status", "type": "VARCHAR", "nulls": 0, "distinct": 3, "values": ["shipped", "open", "returned"]},
            {"name": "amount", "type": "DOUBLE", "nulls": 3},
            {"name": "shipping_cost", "type": "DECIMAL(10,2)", "nulls": 0}]},
        {"name": "products", "rows": 30, "columns": [
            {"name": "product_id", "type": "VARCHAR", "nulls": 0, "distinct": 30},
            {"name": "product_name", "type": "VARCHAR", "nulls": 0, "distinct": 30},
            {"name": "category", "type": "VARCHAR", "nulls": 0, "distinct": 2, "values": ["Toys", "Tools"]}]},
    ],
}  # fmt: skip
TOOLS = [ToolSpec(name=n, description=n, parameters={"type": "object"}) for n in ("run_plan", "run_sql")]
SETTINGS = ModelSettings()


def _messages(question: str) -> list[Message]:
    system = "Answer questions about the data.\n" + render_schema_block(CONTEXT)
    return [Message(role="system", content=system), Message(role="user", content=question)]


def _plan(question: str) -> dict[str, Any]:
    turn = OfflinePlanner().complete(_messages(question), TOOLS, SETTINGS)
    assert turn.stop == "tool_use", turn.text
    return json.loads(turn.tool_calls[0].arguments)["plan"]


def _second_turn(question: str, result: dict[str, Any], name: str = "run_plan") -> Turn:
    messages = _messages(question)
    call = ToolCall(id="call_1", name=name, arguments="{}")
    messages.append(Message(role="assistant", tool_calls=[call]))
    messages.append(Message(role="tool", tool_call_id="call_1", content=json.dumps(result)))
    return OfflinePlanner().complete(messages, TOOLS, SETTINGS)


def test_is_a_model_client() -> None:
    planner = OfflinePlanner()
    assert isinstance(planner, ModelClient) and planner.provider == "offline"


def test_mixed_case_value_filters_on_every_spelling() -> None:
    plan = _plan("total amount in the north region")
    assert plan["filters"] == [{"column": "Region", "op": "in", "value": ["North", "north ", "NORTH"]}]
    assert plan["aggregates"] == [{"fn": "sum", "column": "amount", "as": "sum_amount"}]


def test_year_filter_bucket_and_order() -> None:
    plan = _plan("average shipping cost per month in 2024")
    assert plan["select"] == [{"column": "order_date", "bucket": "month", "as": "month"}]
    assert plan["filters"] == [{"column": "order_date", "op": "between", "value": ["2024-01-01", "2024-12-31"]}]
    assert plan["order_by"] == [{"column": "month"}]


def test_top_n_joins_the_entity_table_by_key() -> None:
    plan = _plan("top 3 products by amount")
    assert plan["joins"] == [{"table": "products", "on": [["orders.product_id", "products.product_id"]],
                              "type": "left"}]  # fmt: skip
    assert plan["select"] == [{"column": "products.product_name"}]
    assert plan["limit"] == 3 and plan["order_by"][0] == {"column": "sum_amount", "desc": True}


def test_fuzzy_and_plural_names() -> None:
    assert _plan("maximum ammount")["aggregates"][0]["column"] == "amount"
    assert _plan("list the distinct regions")["select"] == [{"column": "Region"}]
    assert _plan("how many orders per categories")["select"] == [{"column": "products.category"}]


def test_same_question_same_plan() -> None:
    question = "number of returned orders by category and region in 2024"
    first = OfflinePlanner().complete(_messages(question), TOOLS, SETTINGS)
    for _ in range(3):
        assert OfflinePlanner().complete(_messages(question), TOOLS, SETTINGS) == first


def test_unknown_words_decline_with_this_datasets_examples() -> None:
    turn = OfflinePlanner().complete(_messages("average profit by region"), TOOLS, SETTINGS)
    assert turn.stop == "end" and not turn.tool_calls
    assert "profit" in turn.text
    assert "average amount by" in turn.text and "orders per month" in turn.text
    assert "SQL: SELECT" in turn.text and "FROM orders" in turn.text


def test_ambiguous_date_column_names_the_candidates() -> None:
    context = json.loads(json.dumps(CONTEXT))
    context["tables"][0]["columns"].append({"name": "shipped_on", "type": "DATE"})
    context["tables"][0]["columns"][2]["name"] = "placed"
    system = render_schema_block(context)
    messages = [Message(role="system", content=system), Message(role="user", content="orders per month")]
    turn = OfflinePlanner().complete(messages, TOOLS, SETTINGS)
    assert not turn.tool_calls and "placed" in turn.text and "shipped_on" in turn.text


def test_sql_escape_hatch_calls_run_sql() -> None:
    turn = OfflinePlanner().complete(_messages("SQL: SELECT count(*) FROM orders"), TOOLS, SETTINGS)
    assert turn.tool_calls[0].name == "run_sql"
    assert json.loads(turn.tool_calls[0].arguments) == {"sql": "SELECT count(*) FROM orders"}


def test_answer_from_a_single_value() -> None:
    result = {"run_id": "r42", "columns": [{"name": "count", "type": "BIGINT"}], "rows": [[4870]],
              "row_count": 1, "truncated": False}  # fmt: skip
    turn = _second_turn("how many orders", result)
    assert turn.stop == "end" and turn.text == "There are 4,870 orders. (run r42)"


def test_answer_from_a_ranking_uses_the_rows() -> None:
    rows = [["Widget", 12345.6], ["Gadget", 999.0], ["Gizmo", 10.25]]
    result = {"run_id": "abc", "columns": [], "rows": rows, "row_count": 3, "truncated": False}
    text = _second_turn("top 3 products by amount", result).text
    assert text.startswith("Top 3 products by total amount: ")
    assert "Widget (12,345.60)" in text and "Gadget (999.00)" in text and "Gizmo (10.25)" in text
    assert text.endswith("(run abc)")


def test_answer_for_a_trend_names_first_last_highest() -> None:
    rows = [["2024-01-01", 5.0], ["2024-02-01", 9.5], ["2024-03-01", 2.0]]
    result = {"run_id": "t1", "columns": [], "rows": rows, "row_count": 3, "truncated": False}
    text = _second_turn("total amount per month in 2024", result).text
    assert "from Jan 2024 to Mar 2024" in text and "highest in Feb 2024 (9.50)" in text
    assert "lowest in Mar 2024 (2.00)" in text and text.endswith("(run t1)")


def test_error_result_is_reported_without_numbers() -> None:
    result = {"error": {"code": "timeout", "message": "The query ran longer than 30 s.", "hint": "Add a filter."}}
    text = _second_turn("how many orders", result).text
    assert text == "The query failed: The query ran longer than 30 s. Add a filter."


def test_sql_result_answer() -> None:
    result = {"run_id": "s1", "columns": [{"name": "n", "type": "BIGINT"}], "rows": [[7]], "row_count": 1}
    assert _second_turn("SQL: SELECT 7 AS n", result, name="run_sql").text == "n = 7. (run s1)"


def test_stream_yields_text_then_the_turn() -> None:
    parts = list(OfflinePlanner().stream(_messages("what is the meaning of life"), TOOLS, SETTINGS))
    assert isinstance(parts[0], TextChunk) and isinstance(parts[-1], Turn)
    assert parts[0].text == parts[-1].text and len(parts) == 2


def test_without_schema_it_declines() -> None:
    messages = [Message(role="system", content="no schema"), Message(role="user", content="how many orders")]
    turn = OfflinePlanner().complete(messages, TOOLS, SETTINGS)
    assert not turn.tool_calls and "SQL:" in turn.text
