"""The agent loop: model turn → tool calls → validated execution → results back → … → a grounded answer.

Bounded in model steps, in retries of failed tool calls, and in wall-clock time. It yields Events and
returns nothing else: the Session owns persistence, front ends own rendering.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field

from csvanalyst.agent.coerce import looks_like_sql
from csvanalyst.agent.grounding import guessed_numbers, ungrounded_numbers
from csvanalyst.agent.observer import NullObserver, TurnObserver
from csvanalyst.agent.tools import ToolContext, call_tool, tool_specs
from csvanalyst.agent.toolsets import ToolSet
from csvanalyst.core.query import python_refusal
from csvanalyst.events import Answer, Done, ErrorEvent, Event, Status, TextDelta, ToolCallEvent, UsageEvent
from csvanalyst.llm.base import Message, ModelClient, ModelSettings, TextChunk, ToolSpec, Turn, Usage


@dataclass(frozen=True)
class Budgets:
    max_steps: int = 6  # model calls per turn
    max_retries: int = 2  # failed tool calls the model may fix
    wall_clock_s: float = 180.0


@dataclass
class TurnState:
    """What the loop learned during the turn; the Session reads it to persist the thread."""

    answer: str = ""
    run_ids: list[str] = field(default_factory=list)
    status: str = "failed"
    usage: Usage = field(default_factory=Usage)
    provider: str = ""
    model: str = ""  # as the provider reported it, else the client's configured name


def run_agent(
    client: ModelClient,
    messages: list[Message],
    ctx: ToolContext,
    *,
    question: str,
    settings: ModelSettings | None = None,
    budgets: Budgets | None = None,
    cancel: threading.Event | None = None,
    state: TurnState | None = None,
    observer: TurnObserver | None = None,
    tool_set: ToolSet = "full",
) -> Iterator[Event]:
    settings = settings or ModelSettings()
    observer = observer or NullObserver()
    budgets = budgets or Budgets()
    state = state if state is not None else TurnState()
    state.provider, state.model = str(getattr(client, "provider", "")), str(getattr(client, "model", "") or "")
    tools = tool_specs(python=python_refusal(ctx.settings, ctx.executor) is None, tool_set=tool_set)
    offered = [tool.name for tool in tools]
    deadline = time.monotonic() + budgets.wall_clock_s
    retries = 0
    grounding_retry_used = False
    doubt_retry_used = False
    unrun_retry_used = False
    for _step in range(budgets.max_steps):
        if cancel is not None and cancel.is_set():
            yield from _finish(state, "cancelled", ErrorEvent(code="cancelled", message="The turn was cancelled."))
            return
        if time.monotonic() > deadline:
            yield from _finish(state, "failed", _budget_error("time", f"{budgets.wall_clock_s:.0f} s"))
            return
        turn = yield from _model_call(client, messages, tools, settings, observer)
        state.usage = state.usage + turn.usage
        state.model = turn.model or state.model
        messages.append(Message(role="assistant", content=turn.text, tool_calls=turn.tool_calls))
        if turn.tool_calls:
            failed = yield from _run_calls(turn, messages, ctx, state, observer, offered)
            if failed == "terminal":
                yield from _finish(state, "failed", None)
                return
            retries += failed == "retry"
            if retries > budgets.max_retries:
                yield from _finish(state, "failed", _budget_error("retry", f"{budgets.max_retries} retries"))
                return
            continue
        if turn.stop in ("refusal", "other"):
            error = ErrorEvent(
                code="model_stopped",
                message=f"The model stopped without an answer ({turn.raw_stop_reason or turn.stop}).",
            )
            yield from _finish(state, "failed", error)
            return
        unrun = _unrun_claim(turn.text, question) if not ctx.runs else ""
        if unrun and not unrun_retry_used:
            unrun_retry_used = True
            yield Status(message="checking the answer: no query ran in this turn")
            messages.append(Message(role="user", content=_unrun_nudge(unrun, offered)))
            continue
        doubts = ctx.doubts.get(state.run_ids[-1], []) if state.run_ids else []
        if doubts and not doubt_retry_used:
            doubt_retry_used = True
            yield Status(message="checking the answer: its last query filtered on a value the data does not hold")
            messages.append(Message(role="user", content=_doubt_nudge(doubts)))
            continue
        missing = ungrounded_numbers(turn.text, question, _cells(ctx))
        if missing and not grounding_retry_used and ctx.runs:
            grounding_retry_used = True
            yield Status(message=f"checking the answer: {', '.join(missing[:5])} not found in any result")
            messages.append(Message(role="user", content=_grounding_nudge(missing)))
            continue
        yield from _answer(turn, ctx, state, grounded=not missing)
        return
    yield from _finish(state, "failed", _budget_error("step", f"{budgets.max_steps} model calls"))


def _model_call(
    client: ModelClient,
    messages: list[Message],
    tools: list[ToolSpec],
    settings: ModelSettings,
    observer: TurnObserver,
) -> Generator[Event, None, Turn]:
    """One streamed model call, its text passed on as it arrives; returns the final Turn."""
    token = observer.model_started(messages, tools, settings)
    turn: Turn | None = None
    try:
        for item in client.stream(messages, tools, settings):
            if isinstance(item, TextChunk):
                yield TextDelta(text=item.text)
            else:
                turn = item
    except BaseException as exc:
        observer.model_finished(token, None, exc)
        raise
    assert turn is not None, "a ModelClient stream must end with a Turn"
    observer.model_finished(token, turn, None)
    return turn


def _run_calls(
    turn: Turn,
    messages: list[Message],
    ctx: ToolContext,
    state: TurnState,
    observer: TurnObserver,
    offered: list[str],
) -> Generator[Event, None, str]:
    """Execute every call of a model turn; returns the worst failure: "terminal", "retry" or ""."""
    worst = ""
    for call in turn.tool_calls:
        token = observer.tool_started(call)
        arguments, outcome = call_tool(call.name, call.arguments, ctx, call.id, offered)
        observer.tool_finished(token, arguments, outcome)
        yield ToolCallEvent(call_id=call.id, name=call.name, arguments=arguments)
        yield from outcome.events
        if outcome.run_id:
            state.run_ids.append(outcome.run_id)
        messages.append(Message(role="tool", content=outcome.content, tool_call_id=call.id, is_error=outcome.is_error))
        if outcome.is_error:
            error = _error_from(outcome.content, outcome.retryable)
            yield error
            worst = "terminal" if not outcome.retryable else (worst or "retry")
    return worst


def _error_from(content: str, retryable: bool) -> ErrorEvent:
    import json

    payload = json.loads(content).get("error", {})
    return ErrorEvent(
        code=payload.get("code", "tool_error"),
        message=payload.get("message", content),
        hint=payload.get("hint", ""),
        retryable=retryable,
    )


def _cells(ctx: ToolContext) -> list[object]:
    cells: list[object] = []
    for run in ctx.runs.values():
        cells.append(run.row_count)
        for row in run.rows:
            cells.extend(row)
    return cells


def _grounding_nudge(missing: list[str]) -> str:
    return (
        f"Your answer contains {', '.join(missing[:5])}, which appear(s) in no result of this turn. "
        "Answer again using only numbers from the results, and name the run(s)."
    )


def _unrun_claim(text: str, question: str) -> str:
    """What an answer given before any query ran presents as a result: a query written out, or numbers."""
    if looks_like_sql(text):
        return "holds a query, but no tool ran it"
    guessed = guessed_numbers(text, question)
    return f"states {', '.join(guessed[:5])}, but no query ran in this turn" if guessed else ""


def _unrun_nudge(claim: str, offered: list[str]) -> str:
    tool = "run_sql" if "run_sql" in offered else offered[0]
    return (
        f"Your reply {claim}, so nothing in it comes from the data. Call the {tool} tool to run the query, "
        "then answer from its result; if the data cannot answer the question, say why."
    )


def _doubt_nudge(doubts: list[str]) -> str:
    return (
        f"Before you answer: {' '.join(doubts[:3])} So your last result does not show what the question asks. "
        "Run the query again with the column's own spelling of the value, or, if no row really matches, "
        "say so and name the values the column holds."
    )


def _answer(turn: Turn, ctx: ToolContext, state: TurnState, *, grounded: bool) -> Iterator[Event]:
    text = turn.text.strip()
    cited = [run_id for run_id in state.run_ids if run_id in text]
    if state.run_ids and not cited:
        text = f"{text} (run {', '.join(state.run_ids)})"
    if turn.stop == "max_tokens":
        text += " [answer cut off at the model's token limit]"
    state.answer = text
    state.status = "answered" if state.run_ids else "declined"
    yield Answer(text=text, run_ids=list(state.run_ids), grounded=grounded)
    yield from _finish(state, state.status, None)


def _budget_error(kind: str, limit: str) -> ErrorEvent:
    return ErrorEvent(
        code=f"{kind}_budget",
        message=f"The turn ran out of its {kind} budget ({limit}) before reaching an answer.",
        hint="Ask a narrower question, or run the SQL yourself with `SQL: ...`.",
    )


def _finish(state: TurnState, status: str, error: ErrorEvent | None) -> Iterator[Event]:
    state.status = status
    if error is not None:
        state.answer = state.answer or error.message
        yield error
    yield UsageEvent(
        input_tokens=state.usage.input_tokens,
        output_tokens=state.usage.output_tokens,
        cost_usd=state.usage.cost_usd,
        model=state.model,
        provider=state.provider,
    )
    yield Done(status=status)  # type: ignore[arg-type]
