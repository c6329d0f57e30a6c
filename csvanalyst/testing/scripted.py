"""ScriptedModel: a ModelClient that plays back a script, for testing the loop without any model.

Each script step is a Turn, or a function of the messages so far that returns a Turn (to answer from a
tool result). Every call's messages are recorded so tests can assert on what the model was shown.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from csvanalyst.llm.base import Message, ModelSettings, TextChunk, ToolCall, ToolSpec, Turn, Usage

Step = Turn | Callable[[list[Message]], Turn]


class ScriptExhausted(AssertionError):
    """The loop asked the model more often than the script allows."""


class ScriptedModel:
    provider = "scripted"

    def __init__(self, script: list[Step], *, model: str = "scripted-1", repeat_last: bool = False) -> None:
        self.script = list(script)
        self.model = model
        self.repeat_last = repeat_last
        self.calls: list[list[Message]] = []
        self.tools_seen: list[list[ToolSpec]] = []

    def complete(self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings) -> Turn:
        self.calls.append([m.model_copy(deep=True) for m in messages])
        self.tools_seen.append(tools)
        index = len(self.calls) - 1
        if index >= len(self.script):
            if not (self.repeat_last and self.script):
                raise ScriptExhausted(f"the script has {len(self.script)} step(s); call {index + 1} was made")
            index = len(self.script) - 1
        step = self.script[index]
        turn = step(messages) if callable(step) else step
        return turn.model_copy(update={"model": turn.model or self.model})

    def stream(
        self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings
    ) -> Iterator[TextChunk | Turn]:
        turn = self.complete(messages, tools, settings)
        for word in turn.text.split(" ") if turn.text else []:
            yield TextChunk(text=word + " ")
        yield turn


def call(name: str, arguments: dict[str, Any] | str, call_id: str = "call_1") -> Turn:
    """A turn that calls one tool."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return Turn(
        tool_calls=[ToolCall(id=call_id, name=name, arguments=raw)],
        stop="tool_use",
        usage=Usage(input_tokens=100, output_tokens=20),
    )


def answer(text: str) -> Turn:
    return Turn(text=text, stop="end", usage=Usage(input_tokens=150, output_tokens=30))


def last_tool_result(messages: list[Message]) -> dict[str, Any]:
    """The JSON the latest tool call returned, decoded."""
    for message in reversed(messages):
        if message.role == "tool":
            result: dict[str, Any] = json.loads(message.content)
            return result
    raise AssertionError("no tool result in the conversation")
