"""Whole turns in the terminal app, typed key by key, over the offline planner or a ScriptedModel and
the real local sandbox."""

from __future__ import annotations

import threading
from typing import Any

from textual.message import Message
from textual.pilot import Pilot

from csvanalyst.core.session import Session
from csvanalyst.events import Answer, Done, RunFinished, UsageEvent
from csvanalyst.store import threads
from csvanalyst.store.db import connect
from csvanalyst.testing.scripted import ScriptedModel, answer, call, last_tool_result
from csvanalyst.tui import collector
from csvanalyst.tui import messages as msg
from csvanalyst.tui.widgets.chart_view import ChartView
from csvanalyst.tui.widgets.prompt import PromptInput
from csvanalyst.tui.widgets.result_table import ResultTable
from csvanalyst.tui.widgets.run_block import RunBlock
from csvanalyst.tui.widgets.status_bar import StatusBar
from csvanalyst.tui.widgets.turn_view import ErrorView, TurnView
from tests.functional.tui_helpers import ask, drive, of_type, type_text, until
from tests.support.slow import NEVER_ENDING_SQL

COUNT_PLAN = {"table": "orders", "aggregates": [{"fn": "count", "as": "orders"}]}


def _stored_turns(app_thread: str) -> list[Any]:
    from csvanalyst.config import get_settings

    db = connect(get_settings().store_path)
    try:
        return threads.messages(db, app_thread)
    finally:
        db.close()


def test_offline_question_streams_a_run_block_a_chart_and_the_answer() -> None:
    state: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        await ask(pilot, "orders per month in 2024")
        block = pilot.app.query_one(RunBlock)
        table = block.query_one(ResultTable)
        await until(pilot, lambda: table.row_count == 12, "12 rows in the table")
        state.update(
            sql=block.run.sql,
            charts=len(block.query(ChartView)),
            answer=pilot.app.query_one(TurnView).answer_text,
            thread=pilot.app.thread_id,
            status_thread=pilot.app.query_one(StatusBar).thread,
        )

    seen = drive(scenario)
    kinds = [m.event.type for m in of_type(seen, msg.TurnEvent)]
    assert kinds[0] == "status" and "run_finished" in kinds and kinds[-1] == "done"
    assert kinds.index("run_finished") < kinds.index("chart") < kinds.index("answer")
    assert "DATE_TRUNC" in state["sql"] and state["charts"] == 1
    assert "Sep 2024 (92)" in state["answer"]
    assert state["thread"] and state["status_thread"] == state["thread"]
    assert [m.role for m in _stored_turns(state["thread"])] == ["user", "assistant"]


def test_follow_ups_stay_in_one_thread_and_usage_adds_up() -> None:
    def count_answer(messages: list[Any]) -> Any:
        result = last_tool_result(messages)
        return answer(f"There are {result['rows'][0][0]} orders (run {result['run_id']}).")

    model = ScriptedModel([call("run_plan", {"plan": COUNT_PLAN}), count_answer] * 2)
    state: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        await ask(pilot, "how many orders?")
        first_thread = pilot.app.thread_id
        await ask(pilot, "and again?")
        status = pilot.app.query_one(StatusBar)
        state.update(first=first_thread, second=pilot.app.thread_id, tokens=status.tokens, provider=status.provider)

    seen = drive(scenario, session=Session(client=model, keep_warm=True))
    assert state["first"] == state["second"]
    assert state["tokens"] == 2 * (100 + 20 + 150 + 30)  # two turns of call() + answer() usage
    assert state["provider"] == "scripted"
    answers = [m.event for m in of_type(seen, msg.TurnEvent) if isinstance(m.event, Answer)]
    assert len(answers) == 2 and all("3000 orders" in a.text for a in answers)
    assert len(of_type(seen, msg.TurnEvent)) >= 2 * 5
    assert len(_stored_turns(state["first"])) == 4
    # the second model call saw the first question and answer as history
    assert any("how many orders?" in m.content for m in model.calls[2])


def test_sql_mode_history_and_inline_policy_error() -> None:
    state: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        await pilot.press("ctrl+t")  # ask → SQL
        await ask(pilot, "SELECT status, count(*) AS n FROM orders GROUP BY ALL ORDER BY n DESC")
        prompt = pilot.app.query_one(PromptInput)
        await pilot.press("up")
        state["recalled"] = prompt.text
        prompt.clear()
        await ask(pilot, "DROP TABLE orders")
        errors = pilot.app.query(ErrorView)
        state["errors"] = [(e.code, str(e.render())) for e in errors]
        state["mode"] = prompt.mode

    seen = drive(scenario)
    runs = [m.event for m in of_type(seen, msg.TurnEvent) if isinstance(m.event, RunFinished)]
    assert len(runs) == 1 and runs[0].columns[0]["name"] == "status"
    assert state["recalled"].startswith("SELECT status")
    assert state["mode"] == "SQL"
    assert [code for code, _ in state["errors"]] == ["rejected"]
    assert "hint" in state["errors"][0][1]


def test_esc_cancels_a_running_turn_and_the_thread_records_it() -> None:
    gate, entered = threading.Event(), threading.Event()

    def slow_step(messages: list[Any]) -> Any:
        entered.set()
        gate.wait(30)  # the model "thinks" until the test has pressed Esc
        return call("run_plan", {"plan": COUNT_PLAN})

    model = ScriptedModel([slow_step, answer("never shown")])
    state: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        await type_text(pilot, "how many orders?")
        await until(pilot, entered.is_set, "the model is called")
        await pilot.press("escape")
        state["active_after_esc"] = pilot.app.active_turn
        state["view_status"] = pilot.app.query_one(TurnView).status
        gate.set()
        await until(pilot, lambda: bool(of_type(seen, msg.TurnEnded)), "the worker stops")
        state["thread"] = pilot.app.thread_id
        await ask(pilot, "how many orders")  # the app takes the next question at once
        state["next_answer"] = list(pilot.app.query(TurnView))[-1].answer_text

    drive(scenario, session=Session(client=model, keep_warm=True))
    assert state["active_after_esc"] is None and state["view_status"] == "cancelled"
    stored = _stored_turns(state["thread"])
    assert stored[1].status == "cancelled"
    assert state["next_answer"] == "never shown"


def test_result_table_pages_and_sorts_the_whole_result() -> None:
    from csvanalyst.tui.widgets import result_table

    rows = [[i, None if i % 7 == 0 else f"name {i % 10}"] for i in range(result_table.PAGE_ROWS * 3 + 7)]
    state: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        table = ResultTable()
        await pilot.app.conversation.mount(table)
        table.show([{"name": "n", "type": "BIGINT"}, {"name": "label", "type": "VARCHAR"}], rows)
        table.focus()
        state["first_page"] = table.row_count
        for _ in range(5):
            await pilot.press("right_square_bracket")
        state["last_page"] = (table.page, table.row_count, str(table.get_row_at(0)[0]))
        await pilot.press("right", "s")  # sort by label: nulls last
        state["sorted"] = (table.page, table.get_row_at(0)[1], table.rows_all[-1][1])
        state["arrow"] = [c.label.plain for c in table.columns.values()]
        state["cursor_column"] = table.cursor_coordinate.column
        await pilot.press("s")  # reversed: nulls first
        state["reversed"] = table.rows_all[0][1]
        state["arrow_reversed"] = [c.label.plain for c in table.columns.values()]

    seen = drive(scenario)
    page = result_table.PAGE_ROWS
    assert state["first_page"] == page
    assert state["last_page"] == (3, 7, str(page * 3))
    assert state["sorted"] == (0, "name 0", None)
    assert state["reversed"] is None
    assert state["arrow"] == ["n", "label ▲"] and state["arrow_reversed"] == ["n", "label ▼"]
    assert state["cursor_column"] == 1
    shown = {id(m): m for m in of_type(seen, ResultTable.PageShown)}.values()  # the hook sees each bubble step
    assert [m.page for m in shown][:4] == [0, 1, 2, 3]


def test_result_table_shows_numbers_by_the_core_rule_right_aligned_with_the_exact_value_on_hover() -> None:
    from csvanalyst.core.numbers import format_number

    values = [0.000012345678, 1234567.891, -105.2258217, 3700.662251655629]
    state: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        table = ResultTable()
        await pilot.app.conversation.mount(table)
        table.show([{"name": "x", "type": "DOUBLE"}], [[v] for v in values])
        table.focus()
        await pilot.press("down", "down", "down")
        state["cells"] = [table.get_row_at(i)[0] for i in range(len(values))]
        state["header"] = next(iter(table.columns.values())).label
        state["tooltip"] = table.tooltip

    drive(scenario)
    assert [c.plain for c in state["cells"]] == ["0.000012345678", "1234567.891", "-105.2258217", "3700.662252"]
    assert [c.plain for c in state["cells"]] == [format_number(v) for v in values]
    assert all(c.justify == "right" for c in state["cells"]) and state["header"].justify == "right"
    assert state["tooltip"] == "3700.662251655629"


def test_done_event_ends_the_turn_even_before_the_worker_returns() -> None:
    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        await ask(pilot, "how many orders")

    seen = drive(scenario)
    events = [m.event for m in of_type(seen, msg.TurnEvent)]
    assert isinstance(events[-1], Done) and events[-1].status == "answered"
    assert not any(isinstance(e, UsageEvent) and e.cost_usd for e in events)


def test_esc_stops_the_sandbox_run_and_the_next_question_works() -> None:
    """Esc during a slow query: the sandbox process is killed (not left to finish unseen), the run and
    the thread record `cancelled`, and the app answers the next question."""
    import os

    from csvanalyst.config import get_settings
    from csvanalyst.executors.local.launch import descendants
    from csvanalyst.store import runs

    settings = get_settings().model_copy(update={"timeout_s": 600.0})  # only Esc can end the run
    state: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        before = set(descendants(os.getpid()))
        await type_text(pilot, f"SQL: {NEVER_ENDING_SQL}")  # only Esc can end it
        await until(pilot, lambda: bool(set(descendants(os.getpid())) - before), "the sandbox process starts")
        running = set(descendants(os.getpid())) - before
        await pilot.press("escape")
        await until(pilot, lambda: bool(of_type(seen, msg.TurnEnded)), "the worker stops", rounds=300)
        await until(pilot, lambda: not running & set(descendants(os.getpid())), "the sandbox process is gone", 300)
        state["left"] = set(descendants(os.getpid())) - before
        state["thread"] = pilot.app.thread_id
        state["view_status"] = pilot.app.query_one(TurnView).status
        await ask(pilot, "how many orders")
        state["next_thread"] = pilot.app.thread_id
        state["next_answer"] = list(pilot.app.query(TurnView))[-1].answer_text

    drive(scenario, session=Session(settings=settings, provider="offline"))
    assert state["left"] == set(), f"runner processes left behind: {state['left']}"
    assert state["view_status"] == "cancelled"
    assert state["thread"] is not None and state["next_thread"] == state["thread"]  # one conversation
    stored = _stored_turns(state["thread"])
    assert [m.status for m in stored if m.role != "user"] == ["cancelled", "answered"]
    db = connect(settings.store_path)
    try:
        recorded = runs.recent(db, limit=5)
    finally:
        db.close()
    slow = next(r for r in recorded if NEVER_ENDING_SQL in r.input)
    assert slow.status == "cancelled" or (slow.error or {}).get("code") == "cancelled", slow
    assert "3,000 orders" in state["next_answer"]


def test_a_turn_that_fails_before_its_first_event_leaves_the_app_ready_for_the_next() -> None:
    """The store breaks after start-up (garbage written over it): the new thread cannot be created, the
    turn ends failed with the error shown under it, and the next question is taken, not refused."""
    from csvanalyst.config import get_settings

    state: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        app: Any = pilot.app
        get_settings().store_path.write_bytes(b"this is not a database\n" * 100)
        await ask(pilot, "how many orders")
        state["first"] = (app.active_turn, app.turns[1].status, len(app.query(ErrorView)))
        await ask(pilot, "how many orders")
        state["second"] = (app._turn_counter, app.active_turn, app.turns[2].status)

    seen = drive(scenario)
    assert state["first"] == (None, "failed", 1)
    assert state["second"] == (2, None, "failed")
    assert not any("still running" in str(getattr(m, "message", "")) for m in seen)


def test_the_start_up_heap_and_each_ended_turn_are_frozen_and_given_back_at_exit() -> None:
    """Full collections skip what start-up and ended turns left alive (CPython's gc.freeze), and an app
    that exits leaves the interpreter's collector as it found it."""
    import gc

    frozen: dict[str, int] = {}
    thresholds = gc.get_threshold()

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        await until(pilot, lambda: gc.get_freeze_count() > 0, "the start-up heap is frozen")
        frozen["start-up"] = gc.get_freeze_count()
        await ask(pilot, "orders per month in 2024")
        await until(pilot, collector.is_settled, "the turn's held-off collection has run")
        frozen["after a turn"] = gc.get_freeze_count()

    drive(scenario)
    assert frozen["after a turn"] > frozen["start-up"] > 0
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds


def test_an_app_that_exits_while_the_collector_is_held_leaves_no_hold_behind() -> None:
    """The app exits while something still holds full collections off (here the test itself, as a
    drawing pass cut short by the exit would): the interpreter's collector gets its own thresholds back,
    with nothing frozen."""
    import gc

    thresholds = gc.get_threshold()
    held: list[bool] = []

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        await ask(pilot, "how many orders")
        collector.hold()
        held.append(gc.get_threshold()[2] > thresholds[2] and gc.get_freeze_count() > 0)

    drive(scenario)
    assert held == [True]
    assert gc.get_threshold() == thresholds and gc.get_freeze_count() == 0
