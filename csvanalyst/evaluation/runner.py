"""Running a suite: every question through the same Session as `ask`, a bounded number at a time."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from csvanalyst.core.query import DataScope
from csvanalyst.core.session import Session
from csvanalyst.errors import CsvAnalystError
from csvanalyst.evaluation.match import tables_match
from csvanalyst.evaluation.suite import Case
from csvanalyst.events import Answer, Done, ErrorEvent, RunFinished, UsageEvent
from csvanalyst.llm.base import Message, ModelClient, ModelSettings, TextChunk, ToolSpec, Turn

Verdict = Literal["right", "wrong", "declined", "failed"]


class CaseResult(BaseModel):
    id: str
    kind: str
    question: str
    unanswerable: bool
    verdict: Verdict
    status: str
    reason: str = ""
    answer: str = ""
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    latency_s: float = 0.0
    run_id: str | None = None
    trace_id: str | None = None


class CountingClient:
    """Passes every call to the real client and counts them, for one case."""

    def __init__(self, inner: ModelClient) -> None:
        self.inner = inner
        self.provider = inner.provider
        self.model = inner.model
        self.calls = 0

    def complete(self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings) -> Turn:
        self.calls += 1
        return self.inner.complete(messages, tools, settings)

    def stream(
        self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings
    ) -> Iterator[TextChunk | Turn]:
        self.calls += 1
        return self.inner.stream(messages, tools, settings)


def scope_of(case: Case) -> DataScope:
    return DataScope(dataset=case.dataset, files=tuple(Path(f) for f in case.files))


def run_suite(cases: list[Case], session: Session, *, concurrency: int = 4) -> list[CaseResult]:
    """Every case's result, in suite order; `session` supplies settings, executor and the model client."""
    for scope in {scope_of(case) for case in cases}:
        _prepare(scope)
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="eval") as pool:
        return list(pool.map(lambda case: run_case(case, session), cases))


def _prepare(scope: DataScope) -> None:
    """Build each dataset's cache once, before questions about it run side by side."""
    with contextlib.suppress(CsvAnalystError):  # the case itself reports the problem, as `ask` would
        scope.resolve()


def run_case(case: Case, session: Session) -> CaseResult:
    counting = CountingClient(session.client)
    turn_session = Session(
        settings=session.settings,
        provider=session.provider,
        model=session.model,
        client=counting,
        executor=session.executor,
        user=session.user,
    )
    started = time.monotonic()
    events = list(turn_session.ask(case.question, scope_of(case)))
    latency = time.monotonic() - started
    result = CaseResult(
        id=case.id,
        kind=case.kind,
        question=case.question,
        unanswerable=case.unanswerable,
        verdict="failed",
        status="failed",
        calls=counting.calls,
        latency_s=round(latency, 4),
    )
    _read_events(result, events)
    last_run = next((e for e in reversed(events) if isinstance(e, RunFinished)), None)
    result.run_id = last_run.run_id if last_run else None
    result.verdict, result.reason = _judge(case, result.status, last_run, turn_session)
    return result


def _read_events(result: CaseResult, events: list[Any]) -> None:
    for event in events:
        if isinstance(event, UsageEvent):
            result.input_tokens, result.output_tokens = event.input_tokens, event.output_tokens
            result.cost_usd = event.cost_usd
        elif isinstance(event, Answer):
            result.answer = event.text[:500]
        elif isinstance(event, ErrorEvent):
            result.reason = f"{event.code}: {event.message}"[:300]
        elif isinstance(event, Done):
            result.status, result.trace_id = event.status, event.trace_id


def _judge(case: Case, status: str, run: RunFinished | None, session: Session) -> tuple[Verdict, str]:
    """Right, wrong, declined or failed, with the reason a reader needs to check it."""
    if case.unanswerable:
        if status == "declined":
            return "right", "declined an unanswerable question"
        if status == "answered":
            return "wrong", "answered a question the data cannot answer"
        return "failed", f"turn {status}"
    if status == "declined":
        return "declined", "declined an answerable question"
    if status != "answered" or run is None:
        return "failed", f"turn {status}"
    try:
        want = expected_rows(case, session)
        got = _all_rows(run, case, session)
    except CsvAnalystError as exc:
        return "failed", f"could not compare: {exc.message}"
    if tables_match(got, want, ordered=case.ordered):
        return "right", "result matches the reference"
    return "wrong", f"result ({len(got)} row(s)) differs from the reference ({len(want)} row(s))"


def expected_rows(case: Case, session: Session) -> list[list[Any]]:
    if case.expected is not None:
        return case.expected.rows
    from csvanalyst.core.query import execute

    assert case.sql is not None
    outcome = execute("sql", case.sql, scope_of(case), settings=session.settings, executor=session.executor)
    return outcome.result.rows


def _all_rows(run: RunFinished, case: Case, session: Session) -> list[list[Any]]:
    """The run's whole result: the event carries a preview, so a longer result is read again."""
    if run.row_count <= len(run.rows):
        return run.rows
    from csvanalyst.core.query import execute

    outcome = execute("sql", run.sql, scope_of(case), settings=session.settings, executor=session.executor)
    return outcome.result.rows
