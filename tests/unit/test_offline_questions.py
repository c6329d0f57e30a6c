"""The offline planner over the demo datasets: every answerable question in the table is planned, run
through the real query path (compiler, policy, local sandbox), and compared with hand-written SQL run
by DuckDB straight over the demo CSVs; every question it must decline is declined with the way out."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from csvanalyst.core.query import DataScope, execute
from csvanalyst.llm.base import Message, ModelSettings, ToolSpec
from csvanalyst.llm.offline import OfflinePlanner
from tests.fixtures.offline_data import dataset_info, expected_rows, system_prompt

TABLE = json.loads((Path(__file__).parents[1] / "fixtures" / "offline_questions.json").read_text())
TOOLS = [ToolSpec(name=n, description=n, parameters={"type": "object"}) for n in ("run_plan", "run_sql")]
SETTINGS = ModelSettings()


@pytest.fixture(scope="module")
def _shared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("offline_home")


@pytest.fixture(autouse=True)
def isolated_home(_shared_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """One home for the whole module, so the demo datasets are cached once instead of once per test."""
    from csvanalyst.config import get_settings

    monkeypatch.setenv("CSVANALYST_HOME", str(_shared_home))
    get_settings.cache_clear()
    yield _shared_home
    get_settings.cache_clear()


def _ask(dataset: str, question: str) -> tuple[OfflinePlanner, list[Message]]:
    messages = [Message(role="system", content=system_prompt(dataset_info(dataset))),
                Message(role="user", content=question)]  # fmt: skip
    return OfflinePlanner(), messages


def _norm(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def _key(row: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in row)


def _same(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> bool:
    if len(got) != len(want):
        return False
    for g_row, w_row in zip(got, want, strict=True):
        if len(g_row) != len(w_row):
            return False
        for g, w in zip(g_row, w_row, strict=True):
            if isinstance(g, float) and isinstance(w, float):
                if not math.isclose(g, w, rel_tol=1e-6, abs_tol=1e-9):
                    return False
            elif g != w:
                return False
    return True


@pytest.mark.parametrize("case", TABLE["answer"], ids=[c["question"] for c in TABLE["answer"]])
def test_planned_answer_matches_hand_written_sql(case: dict[str, Any]) -> None:
    planner, messages = _ask(case["dataset"], case["question"])
    turn = planner.complete(messages, TOOLS, SETTINGS)
    assert turn.stop == "tool_use", turn.text
    assert [c.name for c in turn.tool_calls] == ["run_plan"]
    plan = json.loads(turn.tool_calls[0].arguments)["plan"]
    outcome = execute("plan", json.dumps(plan), DataScope(dataset=case["dataset"]))
    got = [tuple(_norm(v) for v in row) for row in outcome.result.rows]
    want = [tuple(_norm(v) for v in row) for row in expected_rows(case["dataset"], case["sql"])]
    assert outcome.result.row_count == len(want)
    if not case.get("ordered"):
        got, want = sorted(got, key=_key), sorted(want, key=_key)
    assert _same(got, want), f"plan {plan}\n got {got[:5]}\nwant {want[:5]}"


@pytest.mark.parametrize("case", TABLE["decline"], ids=[c["question"] for c in TABLE["decline"]])
def test_declines_with_examples_and_escape_hatch(case: dict[str, Any]) -> None:
    planner, messages = _ask(case["dataset"], case["question"])
    turn = planner.complete(messages, TOOLS, SETTINGS)
    assert turn.stop == "end" and not turn.tool_calls
    assert turn.text.startswith("I can't answer that offline")
    assert "SQL: SELECT" in turn.text
    assert "OPENAI_API_KEY" in turn.text and "ANTHROPIC_API_KEY" in turn.text and "OPENAI_BASE_URL" in turn.text
    info = dataset_info(case["dataset"])
    assert any(t.name in turn.text.split("For example")[1] for t in info.tables)


def test_the_table_is_big_enough() -> None:
    assert len(TABLE["answer"]) >= 40 and len(TABLE["decline"]) >= 8
    assert {c["dataset"] for c in TABLE["answer"]} == {"retail", "support", "sensors"}


def test_suggested_examples_are_themselves_answerable() -> None:
    from csvanalyst.llm.offline import plan_question
    from csvanalyst.llm.offline.answer import example_questions
    from csvanalyst.llm.offline.match import Catalog

    for name in ("retail", "support", "sensors"):
        _, messages = _ask(name, "why")
        from csvanalyst.agent.context import extract_schema_context

        catalog = Catalog(extract_schema_context(messages[0].content) or {})
        examples = example_questions(catalog)
        assert len(examples) >= 2
        for question in examples:
            plan_question(question, catalog)  # raises Unsure if the planner could not answer it
