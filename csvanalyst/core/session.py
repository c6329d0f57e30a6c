"""The Session facade: the one entry point of CLI, TUI and server for asking questions.

`Session.ask(question, scope, thread_id)` yields Events; the thread is stored whole at the end of the
turn, whatever happened in it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csvanalyst.agent.loop import TurnState
    from csvanalyst.agent.observer import TurnObserver
    from csvanalyst.agent.tools import ToolContext, ToolOutcome
    from csvanalyst.agent.toolsets import ToolSet
    from csvanalyst.catalog.schema import DatasetInfo
    from csvanalyst.core.records import Records
    from csvanalyst.observability.tracing import TurnTracer

from csvanalyst.config import Settings, get_settings
from csvanalyst.core.query import NOT_RECORDED, DataScope
from csvanalyst.errors import CsvAnalystError
from csvanalyst.events import Answer, Done, ErrorEvent, Event, SqlCompiled, Status
from csvanalyst.executors.base import Executor
from csvanalyst.llm.base import Message, ModelClient, ModelSettings

SQL_PREFIX = "SQL:"
PYTHON_PREFIX = "PYTHON:"


class Session:
    def __init__(
        self,
        *,
        settings: Settings | None = None,
        provider: str = "auto",
        model: str | None = None,
        client: ModelClient | None = None,
        executor: Executor | None = None,
        history_turns: int | None = None,
        samples: bool = True,
        keep_warm: bool = False,
        user: str | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.user = user  # who asks, for traces (the server's caller); None: the OS user
        self.provider = provider
        self.model = model
        self._client = client
        self.executor = executor
        if executor is None and keep_warm:
            from csvanalyst.executors.base import load

            # A long-lived session (chat, server) keeps a sandbox process started for the next question.
            self.executor = load(self.settings.sandbox, keep_warm=True)
            self._owns_executor = True
        self.history_turns = self.settings.history_turns if history_turns is None else history_turns
        self.samples = samples
        from csvanalyst.store.owners import repair_once

        repair_once(self.settings.store_path)

    _owns_executor = False

    def close(self) -> None:
        """Stop a sandbox process kept warm for the next question."""
        if self._owns_executor and self.executor is not None:
            self.executor.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def client(self) -> ModelClient:
        """Created on first use so `SQL:` questions never need a model or its SDK."""
        if self._client is None:
            from csvanalyst.llm.factory import get_client

            self._client = get_client(self.provider, self.model)
        return self._client

    @property
    def records(self) -> Records:
        """Typed reads of this session's store: runs, threads, their messages."""
        from csvanalyst.core.records import Records

        return Records(self.settings)

    def ask(
        self,
        question: str,
        scope: DataScope,
        *,
        thread_id: str | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Event]:
        """Answer one question; every event carries the thread id."""
        from csvanalyst.agent.loop import TurnState
        from csvanalyst.core.text import require_text

        question = question.strip()
        state = TurnState()
        from csvanalyst.catalog.rejects import reading_notes

        try:
            require_text(question, "question")
            dataset = scope.resolve()
            notes, _ = reading_notes(dataset, strict=self.settings.strict)
            thread_id, unrecorded = self._thread_for(thread_id, question, scope)
            tracer = self._start_trace(question, dataset, thread_id)
        except CsvAnalystError as exc:
            yield ErrorEvent(code=exc.code, message=exc.message, hint=exc.hint)
            yield Done(status="failed")
            return
        if unrecorded:
            yield Status(message=NOT_RECORDED.format(path=self.settings.store_path), thread_id=thread_id)
        for line in notes:  # said before the answer, so no front end can show it without this
            yield Status(message=line, thread_id=thread_id)
        try:
            for event in _with_default_chart(self._turn(question, dataset, scope, thread_id, cancel, state, tracer)):
                event.thread_id = thread_id
                if tracer is not None:
                    tracer.event(event)
                    if isinstance(event, Done):
                        event.trace_id = tracer.trace_id
                yield event
        except CsvAnalystError as exc:
            state.status, state.answer = "failed", exc.message
            yield ErrorEvent(code=exc.code, message=exc.message, hint=exc.hint, thread_id=thread_id)
            yield Done(status="failed", thread_id=thread_id)
        except GeneratorExit:  # the consumer went away (Esc in the TUI, a closed SSE stream)
            state.status = "cancelled"
            state.answer = state.answer or "(cancelled)"
            raise
        finally:
            self._save_turn(thread_id, question, state)
            if tracer is not None:
                tracer.finish(state)

    def _start_trace(self, question: str, dataset: DatasetInfo, thread_id: str) -> TurnTracer | None:
        """A trace for this turn when tracing is on; mlflow is never imported otherwise."""
        if not self.settings.mlflow_enabled:
            return None
        from csvanalyst.observability.tracing import start_turn_trace

        return start_turn_trace(self.settings, question, dataset, thread_id=thread_id, user=self.user)

    def _turn(
        self,
        question: str,
        dataset: DatasetInfo,
        scope: DataScope,
        thread_id: str,
        cancel: threading.Event | None,
        state: TurnState,
        tracer: TurnTracer | None = None,
    ) -> Iterator[Event]:
        from csvanalyst.agent.loop import run_agent
        from csvanalyst.agent.prompts import build_messages
        from csvanalyst.agent.tools import ToolContext

        ctx = ToolContext(
            dataset=dataset,
            scope=scope,
            settings=self.settings,
            executor=self.executor,
            thread_id=thread_id,
            cancel=cancel,
        )
        if question.upper().startswith(SQL_PREFIX):
            yield from self._direct_sql(question[len(SQL_PREFIX) :].strip(), ctx, state, tracer)
            return
        if question.upper().startswith(PYTHON_PREFIX):
            if not self.settings.enable_python:
                yield from _python_not_available(state)
                return
            yield from self._direct_python(question[len(PYTHON_PREFIX) :].strip(), ctx, state, tracer)
            return
        yield Status(message=f"asking {self.client.provider} ({self.client.model})")
        if tracer is not None:
            tracer.set_provider(self.client.provider, self.client.model)
        tool_set = self.tool_set()
        messages = build_messages(dataset, question, self.history(thread_id), samples=self.samples, tool_set=tool_set)
        settings = ModelSettings(model=self.model)
        yield from run_agent(
            self.client,
            messages,
            ctx,
            question=question,
            settings=settings,
            cancel=cancel,
            state=state,
            observer=tracer,
            tool_set=tool_set,
        )

    def tool_set(self) -> ToolSet:
        """The tools this session's model is offered (the `tool_set` setting; `auto` decides by provider)."""
        from csvanalyst.agent.toolsets import choose_tool_set, tool_set_for

        if self._client is not None:
            return tool_set_for(self.settings.tool_set, self._client)
        from csvanalyst.config import provider_setting
        from csvanalyst.llm.factory import resolve_provider

        # Decided without creating the client, so --show-prompt works before a key is set.
        provider = resolve_provider(self.provider)
        return choose_tool_set(self.settings.tool_set, provider, provider_setting("openai_base_url"))

    def first_request(self, question: str, scope: DataScope, thread_id: str | None = None) -> dict[str, Any]:
        """Exactly what the model would be sent for `question` (messages and tools), with a token estimate."""
        from csvanalyst.agent.prompts import build_messages, estimated_tokens
        from csvanalyst.agent.tools import tool_specs
        from csvanalyst.core.query import python_refusal

        tool_set = self.tool_set()
        history = self.history(thread_id) if thread_id else []
        messages = build_messages(scope.resolve(), question, history, samples=self.samples, tool_set=tool_set)
        python = python_refusal(self.settings, self.executor) is None
        payload: dict[str, Any] = {
            "tool_set": tool_set,
            "messages": [m.model_dump(exclude_defaults=True) for m in messages],
            "tools": [t.model_dump() for t in tool_specs(python=python, tool_set=tool_set)],
        }
        payload["estimated_tokens"] = {
            "total": estimated_tokens({k: payload[k] for k in ("messages", "tools")}),
            "tools": estimated_tokens(payload["tools"]),
            "note": "about 4 characters per token; the model's own tokenizer may differ",
        }
        return payload

    def _direct_python(
        self, code: str, ctx: ToolContext, state: TurnState, observer: TurnObserver | None
    ) -> Iterator[Event]:
        from csvanalyst.agent.observer import observed_call
        from csvanalyst.agent.tools import RunPythonArgs, run_python

        outcome = observed_call(
            "run_python", {"code": code}, observer, lambda: run_python(RunPythonArgs(code=code), ctx, "direct")
        )
        yield from self._direct(outcome, ctx, state, "Ran your Python")

    def _direct_sql(
        self, sql: str, ctx: ToolContext, state: TurnState, observer: TurnObserver | None
    ) -> Iterator[Event]:
        from csvanalyst.agent.observer import observed_call
        from csvanalyst.agent.tools import RunSqlArgs, run_sql

        sent = yield from _announce_sql(sql, ctx)
        outcome = observed_call("run_sql", {"sql": sql}, observer, lambda: run_sql(RunSqlArgs(sql=sql), ctx, "direct"))
        yield from self._direct(outcome, ctx, state, "Ran your SQL", already_sent=sent)

    def _direct(
        self, outcome: ToolOutcome, ctx: ToolContext, state: TurnState, what: str, already_sent: str | None = None
    ) -> Iterator[Event]:
        for event in outcome.events:
            if not (isinstance(event, SqlCompiled) and event.sql == already_sent):
                yield event
        if outcome.is_error:
            import json

            error = json.loads(outcome.content)["error"]
            state.status, state.answer = "failed", error["message"]
            yield ErrorEvent(code=error["code"], message=error["message"], hint=error.get("hint", ""))
            yield Done(status="failed")
            return
        run = ctx.runs[outcome.run_id]
        state.run_ids.append(run.run_id)
        state.status = "answered"
        state.answer = f"{what}: {run.row_count} row(s){' (truncated)' if run.truncated else ''} (run {run.run_id})."
        printed = _printed(outcome)
        if printed:
            state.answer += f"\n\nOutput:\n{printed}"
        yield Answer(text=state.answer, run_ids=[run.run_id])
        yield Done(status="answered")

    def history(self, thread_id: str) -> list[Message]:
        """The thread's recent questions and answers, as the model will see them."""
        records = self.records.messages(thread_id, last_turns=self.history_turns)
        return [Message(role="user" if r.role == "user" else "assistant", content=r.content) for r in records]

    def thread_scope(self, thread_id: str) -> tuple[str, DataScope]:
        """A thread's full id (from an id, prefix, suffix or `last`) and the data it was asked about."""
        record = self.records.thread(thread_id)
        return record.id, DataScope.from_dict(record.scope)

    def create_thread(self, question: str, scope: DataScope) -> str:
        """A new thread about `scope`, titled by its first question; returns its id."""
        from csvanalyst.store import threads
        from csvanalyst.store.db import opened

        with opened(self.settings.store_path) as db:
            return threads.create(db, title=question.strip() or "(empty question)", scope=scope.to_dict())

    def _thread_for(self, thread_id: str | None, question: str, scope: DataScope) -> tuple[str, bool]:
        """The thread to answer in, and whether the store cannot record it (the turn still runs)."""
        import sqlite3

        from csvanalyst.store import threads
        from csvanalyst.store.db import is_unwritable

        try:
            if thread_id:
                return self.records.thread(thread_id).id, False
            return self.create_thread(question, scope), False
        except (CsvAnalystError, sqlite3.Error) as exc:
            if not is_unwritable(exc):
                raise
            return thread_id or threads.new_thread_id(), True

    def _save_turn(self, thread_id: str, question: str, state: TurnState) -> None:
        import sqlite3

        from csvanalyst.store import threads
        from csvanalyst.store.db import is_unwritable, opened

        try:
            with opened(self.settings.store_path) as db:
                threads.add_turn(
                    db,
                    thread_id,
                    question=question,
                    answer=state.answer or "(no answer)",
                    run_ids=state.run_ids,
                    status=state.status,
                )
        except (CsvAnalystError, sqlite3.Error) as exc:
            if not is_unwritable(exc):
                raise  # the turn was announced as not recorded when the store could not be written


def _announce_sql(sql: str, ctx: ToolContext) -> Iterator[Event]:
    """Show the checked SQL and a status before a long run starts; returns the SQL announced, or None
    when the check fails (the run path then records and reports the rejection)."""
    from csvanalyst.core.query import check

    try:
        checked = check(sql, ctx.dataset, ctx.settings)
    except CsvAnalystError:
        return None
    yield SqlCompiled(call_id="direct", sql=checked.sql)
    yield Status(message=f"running the query in the {ctx.settings.sandbox} sandbox")
    return checked.sql


def _with_default_chart(events: Iterator[Event]) -> Iterator[Event]:
    """Before the answer, a chart of the last run when the model drew none and the result suits one."""
    from csvanalyst.events import Chart, RunFinished
    from csvanalyst.viz.choose import default_chart

    last_run: RunFinished | None = None
    charted = False
    for event in events:
        if isinstance(event, RunFinished):
            last_run = event
        elif isinstance(event, Chart):
            charted = True
        elif isinstance(event, Answer) and last_run is not None and not charted:
            spec = default_chart(last_run)
            if spec is not None:
                yield Chart(run_id=last_run.run_id, spec=spec)
        yield event


def _printed(outcome: ToolOutcome) -> str:
    """What a Python snippet printed (empty for SQL), capped for the answer text."""
    import json

    try:
        return str(json.loads(outcome.content).get("stdout") or "")[:4000].rstrip()
    except (ValueError, AttributeError):
        return ""


def _python_not_available(state: TurnState) -> Iterator[Event]:
    from csvanalyst.core.query import PYTHON_ENABLE_HINT

    state.status = "declined"
    state.answer = (
        "Python analysis is turned off here: only SQL and QueryPlans run. "
        "Ask in plain language, or start a message with `SQL:` to run a query yourself."
    )
    yield ErrorEvent(code="python_disabled", message=state.answer, hint=PYTHON_ENABLE_HINT)
    yield Done(status="declined")
