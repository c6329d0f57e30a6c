"""Hook points of the agent loop, so tracing (or anything else that watches a turn) stays outside it.

The loop calls `model_started`/`model_finished` around every model call and `tool_started`/`tool_finished`
around every tool call. A start returns a token that the matching finish gets back: the loop is a
generator that may resume on another thread, so an observer must link its records through these tokens,
never through thread-local "current" state.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from csvanalyst.agent.tools import ToolOutcome
    from csvanalyst.llm.base import Message, ModelSettings, ToolCall, ToolSpec, Turn


class TurnObserver(Protocol):
    def model_started(self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings) -> Any: ...

    def model_finished(self, token: Any, turn: Turn | None, error: BaseException | None) -> None: ...

    def tool_started(self, call: ToolCall) -> Any: ...

    def tool_finished(self, token: Any, arguments: dict[str, Any], outcome: ToolOutcome) -> None: ...


class NullObserver:
    """Watches nothing: the default, and free."""

    def model_started(self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings) -> Any:
        return None

    def model_finished(self, token: Any, turn: Turn | None, error: BaseException | None) -> None:
        return None

    def tool_started(self, call: ToolCall) -> Any:
        return None

    def tool_finished(self, token: Any, arguments: dict[str, Any], outcome: ToolOutcome) -> None:
        return None


def observed_call(
    name: str, arguments: dict[str, str], observer: TurnObserver | None, run: Callable[[], ToolOutcome]
) -> ToolOutcome:
    """A query typed by the user (`SQL:`, `PYTHON:`), watched like one of the model's tool calls."""
    if observer is None:
        return run()
    from csvanalyst.llm.base import ToolCall

    token = observer.tool_started(ToolCall(id="direct", name=name, arguments=json.dumps(arguments)))
    outcome = run()
    observer.tool_finished(token, arguments, outcome)
    return outcome
