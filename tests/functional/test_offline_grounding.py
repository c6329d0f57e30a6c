"""Grounding never turns a right answer into a decline: the answer, the status and the table agree.

The offline planner answers over the real loop, catalog and local sandbox, on a public table whose
answer lists more groups than it shows ("… and 45 more")."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from csvanalyst.core.query import DataScope
from csvanalyst.core.session import Session
from csvanalyst.core.summary import events_summary
from csvanalyst.events import Answer, Done, RunFinished
from csvanalyst.llm.offline import OfflinePlanner
from csvanalyst.testing.scripted import ScriptedModel, call

PUBLIC = Path(str(resources.files("csvanalyst.suites"))) / "public"  # the shipped public-data suite's tables

AIRPORTS = PUBLIC / "airports.csv"


def test_many_groups_answer_is_kept_grounded_and_answered() -> None:
    events = list(Session(client=OfflinePlanner()).ask("how many airports per state", DataScope(files=(AIRPORTS,))))
    run = next(e for e in events if isinstance(e, RunFinished))
    final = next(e for e in events if isinstance(e, Answer))
    assert run.row_count > 23
    assert "more" in final.text and not final.text.startswith("I can't")
    assert final.grounded
    assert next(e for e in events if isinstance(e, Done)).status == "answered"
    summary = events_summary(events)
    assert summary["answer"] == final.text and summary["status"] == "answered"


def test_a_checked_answer_is_repeated_not_replaced_by_a_decline() -> None:
    from csvanalyst.llm.base import Message, ModelSettings

    planner = OfflinePlanner()
    messages = [
        Message(role="user", content="how many airports per state"),
        Message(role="tool", content='{"run_id": "abc123abc123", "rows": [["AK", 263]], "row_count": 1}'),
        Message(role="assistant", content="State AK (263)."),
        Message(role="user", content="Your answer contains 45, which appears in no result of this turn."),
    ]
    turn = planner.complete(messages, [], ModelSettings())
    assert not turn.text.startswith("I can't") and "263" in turn.text


def test_a_turn_that_runs_out_of_steps_says_so_in_the_answer() -> None:
    model = ScriptedModel([call("describe_table", {"table": "airports"})], repeat_last=True)
    events = list(Session(client=model).ask("q", DataScope(files=(AIRPORTS,))))
    summary = events_summary(events)
    assert summary["status"] == "failed" and summary["error_code"] == "step_budget"
    assert "step budget" in summary["answer"]
