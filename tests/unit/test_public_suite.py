"""The offline planner on public tables it was not written against (tests/fixtures/public_suite.py).

Prints accuracy by question kind and holds the planner to the figures it reaches: a drop in correct
answers, an unanswerable question answered, or one confidently wrong answer fails the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.public_suite import PUBLIC, QUESTIONS, Outcome, load, report, run_suite

MIN_ANSWERABLE_CORRECT = 0.90  # measured share of answerable questions answered right
MAX_WRONG = 0
SQL_WORDS = frozenset({"as", "in", "or", "on", "by", "and", "not", "is"})  # the SQL the planner writes in examples
PLANNER_CODE = sorted((Path(__file__).parents[2] / "csvanalyst" / "llm" / "offline").rglob("*.py"))
# Single words that are everyday vocabulary of questions (time units, "name", "count"): the planner may
# know them as words, never as this data's names. Everything else a fixture names must not appear.
GENERIC_WORDS = frozenset(
    {"name", "date", "day", "year", "month", "time", "count", "size", "country", "state", "city", "no", "yes"}
)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Outcome]]:
    from csvanalyst.config import get_settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSVANALYST_HOME", str(tmp_path_factory.mktemp("public_home")))
        get_settings.cache_clear()
        yield run_suite()
    get_settings.cache_clear()


def test_the_suite_is_big_enough_and_covers_every_kind() -> None:
    answerable = [c for c in QUESTIONS if "sql" in c]
    assert len(answerable) >= 150 and len(QUESTIONS) - len(answerable) >= 20
    kinds = {c["kind"] for c in answerable}
    assert {"argmax", "share", "comparison", "filter", "trend", "range", "rank"} <= kinds
    assert {c["dataset"] for c in QUESTIONS} == {p.stem for p in PUBLIC.glob("*.csv")}


def test_accuracy_by_kind(outcomes: list[Outcome], capsys: pytest.CaptureFixture[str]) -> None:
    text = report(outcomes)
    with capsys.disabled():
        print("\npublic-data suite, offline planner:\n" + text)
    answerable = [o for o in outcomes if "sql" in o.case]
    right = sum(o.verdict == "correct" for o in answerable) / len(answerable)
    assert right >= MIN_ANSWERABLE_CORRECT, text


def test_every_unanswerable_question_is_declined(outcomes: list[Outcome]) -> None:
    answered = [o.case["question"] for o in outcomes if "sql" not in o.case and o.verdict != "refused"]
    assert not answered


def test_confidently_wrong_answers_stay_within_the_measured_bound(outcomes: list[Outcome]) -> None:
    wrong = [f"{o.case['question']}: {o.detail}" for o in outcomes if o.verdict == "wrong"]
    assert len(wrong) <= MAX_WRONG, "\n".join(wrong)


def _fixture_names() -> set[str]:
    names: set[str] = set()
    for csv in PUBLIC.glob("*.csv"):
        for table in load(csv.stem).tables:
            names.add(table.name)
            for col in table.columns:
                names.add(col.name)
                values = col.stats.values if col.stats is not None and col.stats.values else []
                names.update(str(v) for v in values)
    return {n for n in names if len(n) > 1}


def test_planner_code_names_no_column_or_value_of_the_fixtures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """General mechanisms only: multi-word names anywhere, single words as spelled, in string literals."""
    from csvanalyst.config import get_settings

    monkeypatch.setenv("CSVANALYST_HOME", str(tmp_path))
    get_settings.cache_clear()
    names = _fixture_names()
    get_settings.cache_clear()
    # the whole planner package is read, so a move of its files cannot leave this test checking nothing
    assert {"__init__.py", "match.py", "parse.py", "build.py"} <= {p.name for p in PLANNER_CODE}
    found = []
    for path in PLANNER_CODE:
        code = path.read_text()
        literals = {w for s in re.findall(r"\"([^\"\n]*)\"", code) for w in re.findall(r"[A-Za-z_]+", s)}
        for name in names:
            parts = re.findall(r"[A-Za-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", name))
            whole = rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])"
            compound = len(parts) > 1 and re.search(whole, code, re.IGNORECASE) is not None
            # exact spelling: a state code `OR` is a value, the word "or" in the code is not
            word = len(parts) == 1 and name.lower() not in GENERIC_WORDS | SQL_WORDS and name in literals
            if compound or word:
                found.append(f"{path.name}: {name}")
    assert not found, "; ".join(sorted(found))
