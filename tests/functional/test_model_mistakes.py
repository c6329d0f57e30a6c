"""Imitated mistakes of real models on the public suite, through the real Session: how many turns recover.

See tests/fixtures/model_mistakes.py for each mistake and what the scripted model needs to be told to fix
it. Prints recovery by mistake kind; `make bench` runs every applicable question (bench/mistakes.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures import model_mistakes
from tests.fixtures.model_mistakes import (
    FIXED_ON_FIRST_CALL,
    KINDS,
    Trial,
    report,
    run_trials,
)

PER_KIND = 6
MIN_RECOVERED = 1.0  # measured: every sampled turn of every kind recovers


@pytest.fixture(scope="module")
def trials(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Trial]]:
    from csvanalyst.config import get_settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSVANALYST_HOME", str(tmp_path_factory.mktemp("mistakes_home")))
        get_settings.cache_clear()
        yield run_trials(PER_KIND)
    get_settings.cache_clear()


def test_each_kind_of_mistake_recovers_to_the_right_answer(
    trials: list[Trial], capsys: pytest.CaptureFixture[str]
) -> None:
    text = report(trials)
    with capsys.disabled():
        print("\nimitated model mistakes on the public suite (compact tools):\n" + text)
    assert {t.kind for t in trials} == set(KINDS)
    for kind in KINDS:
        mine = [t for t in trials if t.kind == kind]
        failed = [(t.question, t.detail) for t in mine if not t.recovered]
        assert len(mine) == PER_KIND and sum(t.recovered for t in mine) / len(mine) >= MIN_RECOVERED, (kind, failed)


def test_a_mistake_costs_at_most_two_extra_model_calls(trials: list[Trial]) -> None:
    """Recovery is the mistake, the fixed call and the answer (one more for an answer from an empty result:
    the loop pushes back after it); a mistake the agent coerces costs nothing; a double-quoted literal costs
    one call per value."""
    for t in trials:
        if t.recovered and t.kind != "double_quoted_literal":
            expected = 2 if t.kind in FIXED_ON_FIRST_CALL else 4 if t.kind == "ignores_empty_result" else 3
            assert t.model_calls == expected, t


@pytest.mark.parametrize(
    ("kind", "module", "check", "disabled"),
    [
        ("ignores_empty_result", "csvanalyst.agent.tools", "is_missing_value_note", lambda note: False),
        ("guessed_answer", "csvanalyst.agent.loop", "_unrun_claim", lambda text, question: ""),
    ],
)
def test_without_the_loops_push_back_an_unfounded_answer_stands(
    kind: str,
    module: str,
    check: str,
    disabled: object,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The control: with the check that pushes back on an answer turned off (a note about a value the data
    does not hold; an answer given before any query ran), no such turn recovers."""
    import importlib

    from csvanalyst.config import get_settings

    monkeypatch.setenv("CSVANALYST_HOME", str(tmp_path_factory.mktemp("control_home")))
    get_settings.cache_clear()
    monkeypatch.setattr(importlib.import_module(module), check, disabled)
    monkeypatch.setattr(model_mistakes, "KINDS", (kind,))
    control = run_trials(3)
    get_settings.cache_clear()
    assert len(control) == 3 and not any(t.recovered for t in control)
