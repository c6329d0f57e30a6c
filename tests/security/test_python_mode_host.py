"""Restricted Python on the host side: off by default, never unsandboxed, the AST check runs first."""

from __future__ import annotations

import pytest

from csvanalyst.config import load_settings
from csvanalyst.core.query import DataScope, execute
from csvanalyst.core.session import Session
from csvanalyst.errors import CsvAnalystError, EnvironmentProblem, PolicyError
from csvanalyst.events import Answer, ErrorEvent, RunFinished
from csvanalyst.executors.local.executor import LocalExecutor
from tests.support.requires import local_isolation

RETAIL = DataScope(dataset="retail")


def isolated() -> LocalExecutor:
    """The one local mode that isolates the filesystem: Python is offered nowhere else."""
    local_isolation("bwrap")
    return LocalExecutor(isolation="bwrap")


def test_off_by_default_with_how_to_enable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENABLE_PYTHON_EXECUTION", raising=False)
    monkeypatch.delenv("CSVANALYST_ENABLE_PYTHON", raising=False)
    with pytest.raises(CsvAnalystError) as info:
        execute("python", "result = 1", RETAIL, settings=load_settings())
    assert info.value.code == "python_disabled" and "CSVANALYST_ENABLE_PYTHON=1" in info.value.hint


@pytest.mark.parametrize("var", ["CSVANALYST_ENABLE_PYTHON", "ENABLE_PYTHON_EXECUTION"])
def test_either_variable_enables_it(monkeypatch: pytest.MonkeyPatch, var: str) -> None:
    monkeypatch.setenv(var, "1")
    assert load_settings().enable_python


@pytest.mark.parametrize("mode", ["unshare", "none"])
def test_refused_without_filesystem_isolation(mode: str) -> None:
    local_isolation(mode)
    settings = load_settings(enable_python=True)
    with pytest.raises(EnvironmentProblem) as info:
        execute("python", "result = 1", RETAIL, settings=settings, executor=LocalExecutor(isolation=mode))
    assert mode in info.value.message and "bubblewrap" in info.value.hint and "--sandbox docker" in info.value.hint
    assert info.value.exit_code == 6


@pytest.mark.parametrize("mode", ["unshare", "none"])
def test_the_model_is_not_offered_python_without_filesystem_isolation(mode: str) -> None:
    from csvanalyst.testing.scripted import ScriptedModel, answer

    local_isolation(mode)
    model = ScriptedModel([answer("nothing to do")])
    settings = load_settings(enable_python=True)
    with Session(settings=settings, client=model, executor=LocalExecutor(isolation=mode)) as session:
        list(session.ask("what is the correlation of quantity and discount", RETAIL))
    offered = [t.name for t in model.tools_seen[0]]
    assert "run_python" not in offered and "run_sql" in offered


def test_ast_check_runs_on_the_host_first() -> None:
    class NoRun:
        name = "never"
        isolation = "bwrap"  # a wall that would let Python run: only the AST check may refuse it

        def run(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("a refused snippet must not reach the sandbox")

    with pytest.raises(PolicyError, match="'_'"):
        execute("python", "result = ().__class__", RETAIL, settings=load_settings(enable_python=True), executor=NoRun())  # type: ignore[arg-type]


def test_execute_answers_a_correlation() -> None:
    outcome = execute(
        "python",
        "result = orders[['quantity', 'discount']].corr()",
        RETAIL,
        settings=load_settings(enable_python=True),
        executor=isolated(),
    )
    assert outcome.result.status == "ok"
    assert [c.name for c in outcome.result.columns] == ["index", "quantity", "discount"]
    assert outcome.result.rows[0][1] == pytest.approx(1.0)


def test_session_python_prefix_runs_when_enabled() -> None:
    with Session(settings=load_settings(enable_python=True), executor=isolated()) as session:
        events = list(session.ask("PYTHON: print('hello'); result = orders.groupby('status').size()", RETAIL))
    run = next(e for e in events if isinstance(e, RunFinished))
    assert run.status == "ok" and run.columns[0]["name"] == "status"
    answer = next(e for e in events if isinstance(e, Answer))
    assert "hello" in answer.text and run.run_id in answer.text


def test_session_python_prefix_declined_when_off() -> None:
    with Session(settings=load_settings(enable_python=False)) as session:
        events = list(session.ask("PYTHON: result = 1", RETAIL))
    error = next(e for e in events if isinstance(e, ErrorEvent))
    assert error.code == "python_disabled" and "ENABLE_PYTHON" in error.hint


def test_run_python_tool_offered_only_when_enabled() -> None:
    from csvanalyst.agent.tools import tool_specs

    assert "run_python" not in {t.name for t in tool_specs()}
    assert "run_python" in {t.name for t in tool_specs(python=True)}
