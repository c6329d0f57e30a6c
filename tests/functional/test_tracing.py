"""MLflow tracing of turns, written to a real local SQLite tracking store and read back with search_traces."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from csvanalyst.config import load_settings
from csvanalyst.core.query import DataScope
from csvanalyst.core.session import Session
from csvanalyst.events import Done, Event
from csvanalyst.llm.base import Message, Turn, Usage
from csvanalyst.observability import mlflow_setup
from csvanalyst.testing.scripted import ScriptedModel, answer, call, last_tool_result

mlflow = pytest.importorskip("mlflow", reason="tracing tests need the [mlflow] extra (in the dev extra)")

SECRET = "sk-live-0123456789abcdefSECRET"
CELLS = 600  # more rows than the model is shown (preview rows, profile values), so some cells stay out of its view


@pytest.fixture(autouse=True)
def fresh_tracking(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("MLFLOW_ENABLED", "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    mlflow_setup.forget()
    yield
    mlflow_setup.forget()


@pytest.fixture
def cells_csv(tmp_path: Path) -> Path:
    path = tmp_path / "cells.csv"
    path.write_text("label,amount\n" + "".join(f"cell-{i:03d},{i}\n" for i in range(CELLS)))
    return path


def _answer_from_result(messages: list[Message]) -> Turn:
    result = last_tool_result(messages)
    turn = answer(f"The first label is {result['rows'][0][0]} (run {result['run_id']}).")
    return turn.model_copy(update={"usage": Usage(input_tokens=150, output_tokens=30, cost_usd=0.002)})


def _script() -> ScriptedModel:
    first = call("run_sql", {"sql": "SELECT label, amount FROM cells ORDER BY amount"})
    first = first.model_copy(update={"usage": Usage(input_tokens=100, output_tokens=20, cost_usd=0.001)})
    return ScriptedModel([first, _answer_from_result])


def _session(**settings: object) -> Session:
    return Session(settings=load_settings(mlflow_enabled=True, **settings), client=_script())


def _traces(session: Session) -> list:
    mlflow.flush_trace_async_logging()
    mlflow.set_tracking_uri(session.settings.mlflow_tracking_uri)
    experiment = mlflow.get_experiment_by_name(session.settings.mlflow_experiment_name)
    return mlflow.search_traces(locations=[experiment.experiment_id], return_type="list")


def test_a_turn_is_one_trace_with_its_span_tree(cells_csv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    session = _session()
    events = list(session.ask(f"first label? (my key is {SECRET})", DataScope(files=(cells_csv,))))
    done = next(e for e in events if isinstance(e, Done))
    assert done.status == "answered" and done.trace_id

    [trace] = _traces(session)
    assert trace.info.trace_id == done.trace_id
    spans = {s.span_id: s for s in trace.data.spans}
    [root] = [s for s in spans.values() if s.parent_id is None]
    assert root.span_type == "AGENT"
    children = [s for s in spans.values() if s.parent_id == root.span_id]
    assert sorted(s.span_type for s in children) == ["LLM", "LLM", "TOOL"]
    [tool] = [s for s in children if s.span_type == "TOOL"]
    [run_span] = [s for s in spans.values() if s.parent_id == tool.span_id]
    assert run_span.span_type == "SANDBOX"

    llm = sorted((s for s in children if s.span_type == "LLM"), key=lambda s: s.start_time_ns)
    usage = [s.attributes["mlflow.chat.tokenUsage"] for s in llm]
    assert [(u["input_tokens"], u["output_tokens"]) for u in usage] == [(100, 20), (150, 30)]
    assert [s.attributes["cost_usd"] for s in llm] == [0.001, 0.002]
    assert llm[0].attributes["mlflow.llm.provider"] == "scripted"
    assert llm[0].outputs["tool_calls"][0]["name"] == "run_sql"
    assert llm[0].inputs["messages"][0]["role"] == "system"

    run_id = tool.attributes["run_id"]
    assert tool.attributes["policy_verdict"] == "allowed"
    assert "LIMIT" in tool.attributes["compiled_sql"].upper()
    assert run_span.attributes["run_id"] == run_id
    assert run_span.attributes["status"] == "ok" and run_span.attributes["row_count"] == CELLS
    assert run_span.attributes["executor"] and "total_ms" in run_span.attributes["timings"]

    metadata = trace.info.trace_metadata
    assert metadata["mlflow.trace.session"] == done.thread_id
    assert metadata["mlflow.trace.user"]
    assert metadata["csvanalyst.fingerprint"] and metadata["csvanalyst.dataset"]
    assert metadata["csvanalyst.grounded"] == "true"
    assert metadata["csvanalyst.version"]
    assert trace.info.tags["csvanalyst.run_ids"] == run_id

    dumped = trace.to_json()
    assert SECRET not in dumped and "[redacted]" in dumped
    model = session.client
    assert isinstance(model, ScriptedModel)
    seen = json.dumps([m.model_dump(mode="json") for call in model.calls for m in call])
    assert "cell-005" in seen and "cell-005" in dumped  # the model saw the first rows, and so does the trace
    unseen = [f"cell-{i:03d}" for i in range(CELLS) if f"cell-{i:03d}" not in seen]
    assert unseen, "the table must hold cells the model never saw"
    assert [c for c in unseen if c in dumped] == []  # the trace holds no cell the model did not see


def test_a_turn_resumed_on_other_threads_stays_in_one_trace(cells_csv: Path) -> None:
    session = _session()
    stream = session.ask("first label?", DataScope(files=(cells_csv,)))
    collected: list[Event] = []

    def take(count: int | None) -> None:
        for event in stream:
            collected.append(event)
            if count is not None and len(collected) >= count:
                return

    for count in (3, 7, None):  # each slice of the turn on a thread of its own
        worker = threading.Thread(target=take, args=(count,))
        worker.start()
        worker.join()
    assert isinstance(collected[-1], Done)
    [trace] = _traces(session)
    assert len(trace.data.spans) == 5


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_tracking_server_that_is_down_never_breaks_a_turn(cells_csv: Path, caplog: pytest.LogCaptureFixture) -> None:
    uri = f"http://127.0.0.1:{_closed_port()}"
    with caplog.at_level(logging.WARNING, logger="csvanalyst.tracing"):
        for _ in range(2):
            session = _session(mlflow_tracking_uri=uri)
            events = list(session.ask("first label?", DataScope(files=(cells_csv,))))
            done = next(e for e in events if isinstance(e, Done))
            assert done.status == "answered" and done.trace_id is None
    warnings = [r for r in caplog.records if r.name == "csvanalyst.tracing"]
    assert len(warnings) == 1 and "not reachable" in warnings[0].getMessage()


def test_tracing_off_imports_nothing_of_mlflow(cells_csv: Path) -> None:
    probe = f"""
import sys, json
from pathlib import Path
from csvanalyst.core.query import DataScope
from csvanalyst.core.session import Session
from csvanalyst.testing.scripted import ScriptedModel, answer, call
model = ScriptedModel([call("run_sql", {{"sql": "SELECT count(*) FROM cells"}}), answer("done")])
events = list(Session(client=model).ask("how many?", DataScope(files=(Path({str(cells_csv)!r}),))))
assert events[-1].status == "answered", events
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("mlflow", "opentelemetry"))))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


def test_cli_trace_flag_and_runs_show_link_the_trace(tmp_path: Path, cells_csv: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    cli = [sys.executable, "-m", "csvanalyst"]
    ask = subprocess.run(
        [*cli, "ask", "SQL: SELECT count(*) AS n FROM cells", "--file", str(cells_csv), "--trace", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )
    assert ask.returncode == 0, ask.stderr
    summary = json.loads(ask.stdout)
    run_id, trace_id = summary["runs"][0]["run_id"], summary["trace_id"]
    show = subprocess.run(
        [*cli, "runs", "show", run_id, "--json"],
        capture_output=True,
        text=True,
        env={**env, "MLFLOW_ENABLED": "1"},
        cwd=cwd,
    )
    assert show.returncode == 0, show.stderr
    assert json.loads(show.stdout)["trace_id"] == trace_id
    assert list(cwd.iterdir()) == []  # MLflow's files live under CSVANALYST_HOME, not the current directory
