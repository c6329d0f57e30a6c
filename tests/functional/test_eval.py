"""`csvanalyst eval` end to end: ScriptedModel, the real OpenAI/Anthropic SDKs against the local wire-format
server, the CLI over the shipped demo suite with the offline planner, and the MLflow evaluation log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from csvanalyst.config import load_settings
from csvanalyst.core.session import Session
from csvanalyst.evaluation import suite as suites
from csvanalyst.evaluation.report import compare, markdown, summarize
from csvanalyst.evaluation.runner import run_suite
from csvanalyst.llm.base import Message, Turn
from csvanalyst.testing.scripted import ScriptedModel, answer, call
from csvanalyst.testing.wire_clients import client_for
from csvanalyst.testing.wire_server import Reply, ScriptedCall, WireServer

RIGHT_SQL = "SELECT region, sum(amount) AS total FROM sales GROUP BY region"
WRONG_SQL = "SELECT region, max(amount) AS total FROM sales GROUP BY region"


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    (tmp_path / "sales.csv").write_text("region,amount\nWest,10\nWest,5\nEast,7\n")
    cases = [
        {"id": "right", "kind": "breakdown", "question": "total by region", "sql": RIGHT_SQL},
        {"id": "wrong", "kind": "breakdown", "question": "totals again", "sql": RIGHT_SQL},
        {"id": "declined", "kind": "lookup", "question": "total for West", "expected": {"rows": [["West", 15]]}},
        {"id": "honest", "kind": "unanswerable", "question": "why do sales drop?", "unanswerable": True},
        {"id": "guessed", "kind": "unanswerable", "question": "what will sales be?", "unanswerable": True},
    ]
    for case in cases:
        case["files"] = ["sales.csv"]
    path = tmp_path / "suite.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in cases))
    return path


def _question(messages: list[Message]) -> str:
    return next(m.content for m in reversed(messages) if m.role == "user")


def _scripted_step(messages: list[Message]) -> Turn:
    """Answers each question its own way: right, wrong, a decline, or a guess at the unanswerable."""
    if messages[-1].role == "tool":
        return answer("Here is the result.")
    question = _question(messages)
    if "drop" in question or "West" in question:
        return answer("The data cannot tell.")
    return call("run_sql", {"sql": WRONG_SQL if "again" in question or "will" in question else RIGHT_SQL})


def _check_scores(report: dict) -> None:
    verdicts = {c["id"]: c["verdict"] for c in report["cases"]}
    assert verdicts == {
        "right": "right",
        "wrong": "wrong",
        "declined": "declined",
        "honest": "right",
        "guessed": "wrong",
    }
    overall = report["overall"]
    assert (overall["questions"], overall["right"], overall["wrong"], overall["declined"]) == (5, 2, 2, 1)
    assert report["by_kind"]["unanswerable"]["accuracy"] == 0.5
    assert report["by_kind"]["breakdown"]["accuracy"] == 0.5
    assert overall["calls"] == 2 + 2 + 1 + 1 + 2


def test_scripted_model_is_scored_by_execution_match(suite_file: Path) -> None:
    _, cases = suites.load(str(suite_file))
    model = ScriptedModel([_scripted_step], repeat_last=True)
    results = run_suite(cases, Session(client=model), concurrency=3)
    report = summarize(results, suite="t", provider="scripted", model="scripted-1")
    _check_scores(report)
    assert report["overall"]["input_tokens"] == 100 * 3 + 150 * 5  # 3 tool calls, 5 answers (ScriptedModel usage)
    assert report["overall"]["latency_p95_s"] >= report["overall"]["latency_p50_s"] > 0
    text = markdown(report)
    assert "| all | 5 | 2 | 2 | 1 | 0 | 40.0% |" in text and "| wrong | wrong |" in text


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_real_sdks_against_the_wire_server_are_scored(suite_file: Path, provider: str) -> None:
    _, cases = suites.load(str(suite_file))
    script = [
        Reply(tool_calls=[ScriptedCall("run_sql", {"sql": RIGHT_SQL})], input_tokens=50, output_tokens=5),
        Reply(text="Here is the result."),
        Reply(tool_calls=[ScriptedCall("run_sql", {"sql": WRONG_SQL})]),
        Reply(text="Here is the result."),
        Reply(text="The data cannot tell."),
        Reply(text="The data cannot tell."),
        Reply(tool_calls=[ScriptedCall("run_sql", {"sql": WRONG_SQL})]),
        Reply(text="Here is a guess."),
    ]
    with WireServer(script) as server:
        session = Session(client=client_for(provider, server))
        results = run_suite(cases, session, concurrency=1)  # one at a time: the script is in suite order
    report = summarize(results, suite="t", provider=provider, model="m")
    _check_scores(report)
    assert report["overall"]["input_tokens"] == 50 + 10 * 7


def test_eval_cli_runs_the_demo_suite_offline_and_compares_reports(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    command = [sys.executable, "-m", "csvanalyst", "eval", "demo", "--provider", "offline", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    _, cases = suites.load("demo")
    assert report["overall"]["questions"] == len(cases)
    assert report["by_kind"]["unanswerable"]["right"] == report["by_kind"]["unanswerable"]["questions"]
    assert 0 < report["overall"]["accuracy"] <= 1
    before = tmp_path / "a.json"
    before.write_text(done.stdout)
    after = json.loads(done.stdout)
    flipped = next(c for c in after["cases"] if c["verdict"] == "right")
    flipped["verdict"] = "wrong"
    (tmp_path / "b.json").write_text(json.dumps(after))
    diff = compare(report, after)
    assert diff["changed"] == [
        {"id": flipped["id"], "before": "right", "after": "wrong", "question": flipped["question"]}
    ]
    shown = subprocess.run(
        [sys.executable, "-m", "csvanalyst", "eval", "--compare", str(before), str(tmp_path / "b.json")],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "200"},
    )
    assert shown.returncode == 0, shown.stderr
    assert flipped["id"] in shown.stdout


def test_a_bad_suite_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q"}\n')
    done = subprocess.run([sys.executable, "-m", "csvanalyst", "eval", str(bad)], capture_output=True, text=True)
    assert done.returncode == 2 and "bad.jsonl:1:" in done.stderr and "Traceback" not in done.stderr


def test_with_tracing_on_the_evaluation_is_logged_to_mlflow(suite_file: Path) -> None:
    mlflow = pytest.importorskip("mlflow", reason="needs the [mlflow] extra (in the dev extra)")
    from csvanalyst.evaluation.mlflow_log import log_evaluation
    from csvanalyst.observability import mlflow_setup

    mlflow_setup.forget()
    settings = load_settings(mlflow_enabled=True)
    _, cases = suites.load(str(suite_file))
    session = Session(settings=settings, client=ScriptedModel([_scripted_step], repeat_last=True))
    report = summarize(run_suite(cases, session, concurrency=2), suite="t", provider="scripted", model="s")
    assert all(c["trace_id"] for c in report["cases"])
    run_id = log_evaluation(report, settings)
    assert run_id
    run = mlflow.get_run(run_id)
    assert run.data.metrics["accuracy"] == pytest.approx(0.4)
    traces = mlflow.search_traces(locations=[run.info.experiment_id], run_id=run_id, return_type="list")
    scores = {
        t.info.trace_metadata.get("csvanalyst.thread_id"): [
            a.value for a in t.info.assessments if a.name == "execution_match"
        ]
        for t in traces
    }
    assert sorted(v for values in scores.values() for v in values) == [False, False, False, True, True]
    mlflow_setup.forget()
