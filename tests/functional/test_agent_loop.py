"""The agent loop with a ScriptedModel over the real catalog, policy and local sandbox."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from csvanalyst.agent.loop import Budgets, TurnState, run_agent
from csvanalyst.agent.prompts import build_messages
from csvanalyst.agent.tools import ToolContext
from csvanalyst.config import get_settings
from csvanalyst.core.query import DataScope
from csvanalyst.core.session import Session
from csvanalyst.events import Answer, Chart, Done, ErrorEvent, RunFinished, SqlCompiled, ToolCallEvent, UsageEvent
from csvanalyst.llm.base import Message, ToolCall, Turn, Usage
from csvanalyst.testing.scripted import ScriptedModel, answer, call, last_tool_result
from tests.support.slow import NEVER_ENDING_SQL

SCOPE = DataScope(dataset="retail")
COUNT_PLAN = {"table": "orders", "aggregates": [{"fn": "count", "as": "orders"}]}


def _count_answer(messages: list[Message]) -> Turn:
    result = last_tool_result(messages)
    return answer(f"There are {result['rows'][0][0]} orders (run {result['run_id']}).")


def _ask(model: ScriptedModel, question: str, **kwargs) -> list:
    session = Session(client=model, **kwargs)
    return list(session.ask(question, SCOPE))


def test_typical_question_is_one_tool_call_and_one_answer() -> None:
    model = ScriptedModel([call("run_plan", {"plan": COUNT_PLAN}), _count_answer])
    events = _ask(model, "how many orders are there?")
    kinds = [e.type for e in events]
    assert kinds[-3:] == ["answer", "usage", "done"]
    assert len(model.calls) == 2
    run = next(e for e in events if isinstance(e, RunFinished))
    final = next(e for e in events if isinstance(e, Answer))
    assert final.run_ids == [run.run_id]
    assert str(run.rows[0][0]) in final.text and final.grounded
    assert next(e for e in events if isinstance(e, Done)).status == "answered"
    usage = next(e for e in events if isinstance(e, UsageEvent))
    assert (usage.input_tokens, usage.output_tokens) == (250, 50)
    assert all(e.thread_id == events[0].thread_id for e in events)


def test_system_prompt_carries_schema_and_tools_from_pydantic() -> None:
    model = ScriptedModel([answer("I cannot tell.")])
    _ask(model, "hello")
    system = model.calls[0][0]
    assert system.role == "system" and "<dataset_schema>" in system.content and '"orders"' in system.content
    names = [t.name for t in model.tools_seen[0]]
    assert names == ["run_plan", "run_sql", "describe_table", "list_datasets", "make_chart"]
    plan_schema = model.tools_seen[0][0].parameters["properties"]["plan"]
    assert "table" in json.dumps(plan_schema)


def test_invalid_plan_goes_back_to_model_with_suggestion_then_recovers() -> None:
    bad = {"table": "orders", "aggregates": [{"fn": "sum", "column": "quantiti"}]}
    good = {"table": "orders", "aggregates": [{"fn": "sum", "column": "quantity", "as": "units"}]}

    def units(messages: list[Message]) -> Turn:
        result = last_tool_result(messages)
        return answer(f"{result['rows'][0][0]} units were ordered.")

    model = ScriptedModel([call("run_plan", {"plan": bad}), call("run_plan", {"plan": good}, "call_2"), units])
    events = _ask(model, "how many units?")
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert errors and errors[0].retryable and "quantity" in errors[0].message
    tool_msg = next(m for m in model.calls[1] if m.role == "tool")
    assert tool_msg.is_error and "quantity" in tool_msg.content
    assert isinstance(events[-1], Done) and events[-1].status == "answered"


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps(json.dumps({"sql": "SELECT count(*) AS n FROM orders"})),  # JSON inside a JSON string
        '{"sql": "```sql\\nSELECT count(*) AS n FROM orders\\n```", "explanation": "extra key"}',  # fenced + extra
        "Here is the query: SELECT count(*) AS n FROM orders",  # bare prose, no JSON
    ],
)
def test_sloppy_sql_arguments_are_coerced(raw: str) -> None:
    turn = Turn(tool_calls=[ToolCall(id="c1", name="run_sql", arguments=raw)], stop="tool_use")
    model = ScriptedModel([turn, _count_answer])
    events = _ask(model, "count orders")
    assert any(isinstance(e, RunFinished) for e in events)
    assert events[-1].status == "answered"


def test_truncated_json_is_a_retryable_error_naming_the_problem() -> None:
    broken = Turn(
        tool_calls=[ToolCall(id="c1", name="run_plan", arguments='{"plan": {"table": "orders"')], stop="tool_use"
    )
    model = ScriptedModel([broken, answer("I could not run the query.")])
    events = _ask(model, "count orders")
    error = next(e for e in events if isinstance(e, ErrorEvent))
    assert error.code == "invalid_arguments" and "not valid JSON" in error.message


def test_unknown_tool_is_reported_to_the_model() -> None:
    model = ScriptedModel([call("drop_everything", {}), answer("Sorry, I cannot do that.")])
    events = _ask(model, "x")
    assert any(isinstance(e, ErrorEvent) and e.code == "unknown_tool" for e in events)
    assert "Available tools" in next(m for m in model.calls[1] if m.role == "tool").content


def test_forbidden_sql_is_rejected_by_policy_and_not_run() -> None:
    model = ScriptedModel([call("run_sql", {"sql": "SELECT * FROM read_csv('/etc/passwd')"}), answer("Not allowed.")])
    events = _ask(model, "read the passwd file")
    error = next(e for e in events if isinstance(e, ErrorEvent))
    assert error.code == "rejected"
    assert not any(isinstance(e, RunFinished) for e in events)


def test_model_that_never_stops_calling_tools_hits_the_step_budget() -> None:
    model = ScriptedModel([call("describe_table", {"table": "orders"})], repeat_last=True)
    dataset = SCOPE.resolve()
    ctx = ToolContext(dataset=dataset, scope=SCOPE, settings=get_settings())
    state = TurnState()
    events = list(
        run_agent(model, build_messages(dataset, "q", []), ctx, question="q", budgets=Budgets(max_steps=4), state=state)
    )
    assert len(model.calls) == 4
    assert isinstance(events[-1], Done) and events[-1].status == "failed"
    assert any(isinstance(e, ErrorEvent) and e.code == "step_budget" for e in events)


def test_retry_budget_ends_a_turn_of_repeated_bad_calls() -> None:
    bad = call("run_plan", {"plan": {"table": "nope"}})
    model = ScriptedModel([bad], repeat_last=True)
    events = _ask(model, "q")
    assert sum(isinstance(e, ErrorEvent) and e.code == "invalid_plan" for e in events) == 3
    assert any(isinstance(e, ErrorEvent) and e.code == "retry_budget" for e in events)
    assert events[-1].status == "failed"


def test_ungrounded_number_triggers_one_correction() -> None:
    model = ScriptedModel([call("run_plan", {"plan": COUNT_PLAN}), answer("There are 123456 orders."), _count_answer])
    events = _ask(model, "how many orders")
    final = next(e for e in events if isinstance(e, Answer))
    assert final.grounded and "123456" not in final.text
    nudge = model.calls[2][-1]
    assert nudge.role == "user" and "123456" in nudge.content


def test_answer_without_run_reference_gets_one_appended() -> None:
    def no_ref(messages: list[Message]) -> Turn:
        return answer(f"There are {last_tool_result(messages)['rows'][0][0]} orders.")

    model = ScriptedModel([call("run_plan", {"plan": COUNT_PLAN}), no_ref])
    final = next(e for e in _ask(model, "how many orders") if isinstance(e, Answer))
    assert final.run_ids and final.run_ids[0] in final.text


def test_chart_tool_builds_vega_lite_over_the_run() -> None:
    plan = {"table": "orders", "select": [{"column": "status"}], "aggregates": [{"fn": "count", "as": "n"}]}

    def chart(messages: list[Message]) -> Turn:
        run_id = last_tool_result(messages)["run_id"]
        return call("make_chart", {"run_id": run_id, "mark": "bar", "x": "status", "y": "n"}, "c2")

    model = ScriptedModel([call("run_plan", {"plan": plan}), chart, answer("Orders by status are charted.")])
    events = _ask(model, "chart orders by status")
    spec = next(e for e in events if isinstance(e, Chart)).spec
    assert spec["mark"]["type"] == "bar" and spec["encoding"]["y"]["field"] == "n"
    assert len(spec["data"]["values"]) == next(e for e in events if isinstance(e, RunFinished)).row_count


def test_direct_sql_mode_needs_no_model() -> None:
    model = ScriptedModel([])
    events = _ask(model, "SQL: SELECT count(*) AS n FROM orders")
    assert model.calls == []
    run = next(e for e in events if isinstance(e, RunFinished))
    assert next(e for e in events if isinstance(e, SqlCompiled)).sql.startswith("SELECT")
    assert run.run_id in next(e for e in events if isinstance(e, Answer)).text


def test_python_mode_is_declined_clearly() -> None:
    events = _ask(ScriptedModel([]), "PYTHON: result = 1")
    assert any(isinstance(e, ErrorEvent) and e.code == "python_disabled" for e in events)
    assert events[-1].status == "declined"


def test_threads_carry_history_into_the_next_turn() -> None:
    model = ScriptedModel([call("run_plan", {"plan": COUNT_PLAN}), _count_answer, answer("Same as before.")])
    session = Session(client=model)
    first = list(session.ask("how many orders?", SCOPE))
    thread_id = first[0].thread_id
    list(session.ask("and what did I just ask?", SCOPE, thread_id=thread_id))
    sent = model.calls[2]
    assert [m.role for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1].content == "how many orders?" and "orders" in sent[2].content


def test_failed_turn_leaves_thread_consistent() -> None:
    def boom(messages: list[Message]) -> Turn:
        from csvanalyst.errors import ModelError

        raise ModelError("The provider is down.")

    session = Session(client=ScriptedModel([boom]))
    events = list(session.ask("how many orders?", SCOPE))
    assert events[-1].status == "failed"
    history = session.history(events[0].thread_id)
    assert [m.role for m in history] == ["user", "assistant"]
    assert "down" in history[1].content


def test_cancel_stops_before_the_next_model_call() -> None:
    cancel = threading.Event()

    def cancel_then_call(messages: list[Message]) -> Turn:
        cancel.set()
        return call("run_plan", {"plan": COUNT_PLAN})

    model = ScriptedModel([cancel_then_call, answer("never")])
    events = list(Session(client=model).ask("q", SCOPE, cancel=cancel))
    assert len(model.calls) == 1
    assert events[-1].status == "cancelled"


def test_tool_call_events_carry_parsed_arguments() -> None:
    model = ScriptedModel([call("run_plan", {"plan": COUNT_PLAN}), _count_answer])
    event = next(e for e in _ask(model, "how many orders") if isinstance(e, ToolCallEvent))
    assert event.arguments == {"plan": COUNT_PLAN}


def test_usage_cost_is_summed_over_model_calls() -> None:
    priced = Turn(
        tool_calls=call("run_plan", {"plan": COUNT_PLAN}).tool_calls,
        stop="tool_use",
        usage=Usage(input_tokens=10, output_tokens=1, cost_usd=0.5),
    )
    model = ScriptedModel([priced, lambda m: _count_answer(m).model_copy(update={"usage": Usage(cost_usd=0.25)})])
    usage = next(e for e in _ask(model, "q") if isinstance(e, UsageEvent))
    assert usage.cost_usd == pytest.approx(0.75)


def test_cancel_stops_a_running_sandbox_query() -> None:
    import os
    import time

    from csvanalyst.executors.local.launch import descendants
    from csvanalyst.store import runs
    from csvanalyst.store.db import connect

    cancel = threading.Event()
    slow = call("run_sql", {"sql": NEVER_ENDING_SQL})
    model = ScriptedModel([slow, answer("never")])
    before = set(descendants(os.getpid()))

    def cancel_once_the_sandbox_runs() -> None:
        while not set(descendants(os.getpid())) - before:
            time.sleep(0.02)
        cancel.set()

    threading.Thread(target=cancel_once_the_sandbox_runs, daemon=True).start()
    settings = get_settings().model_copy(update={"timeout_s": 600.0})  # only the cancel can end the run
    events = list(Session(client=model, settings=settings).ask("count a lot", SCOPE, cancel=cancel))
    assert events[-1].status == "cancelled"
    assert any(isinstance(e, ErrorEvent) and e.code == "cancelled" for e in events)
    left = [Path(f"/proc/{p}/cmdline").read_bytes() for p in descendants(os.getpid())]
    assert not [c for c in left if b"runner" in c]  # the sandbox process was killed, not left running
    record = runs.recent(connect(get_settings().store_path), limit=1)[0]
    assert record.status == "error" and record.error["code"] == "cancelled"
