"""The ModelClient seam: one neutral message format, adapters translate to each provider's wire format.

The agent loop only ever sees these types, so OpenAI, Anthropic, any OpenAI-compatible local server and
the offline planner all go through one path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

Role = Literal["system", "user", "assistant", "tool"]
StopReason = Literal["end", "tool_use", "max_tokens", "refusal", "other"]


class ToolSpec(BaseModel):
    """A tool the model may call; `parameters` is a JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


class ToolCall(BaseModel):
    """A call as the model made it. `arguments` is the raw JSON text: the loop validates and coerces it."""

    id: str
    name: str
    arguments: str


class Message(BaseModel):
    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)  # assistant messages
    tool_call_id: str | None = None  # tool messages: which call this answers
    is_error: bool = False  # tool messages: the call failed (retryable error text in content)


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None  # None when the model's price is unknown (local models)

    def __add__(self, other: Usage) -> Usage:
        cost = (
            None if self.cost_usd is None and other.cost_usd is None else (self.cost_usd or 0) + (other.cost_usd or 0)
        )
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=cost,
        )


class Turn(BaseModel):
    """One complete model response."""

    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    stop: StopReason = "end"
    raw_stop_reason: str = ""  # the provider's own value, kept for diagnostics
    usage: Usage = Field(default_factory=Usage)
    model: str = ""


class TextChunk(BaseModel):
    """A piece of answer text while a turn streams."""

    text: str


class ModelSettings(BaseModel):
    model: str | None = None  # None: the client's default
    temperature: float = 0.0
    max_tokens: int = 2048
    timeout_s: float = 60.0
    max_retries: int = 3


@runtime_checkable
class ModelClient(Protocol):
    provider: str  # "openai" | "anthropic" | "offline" | "scripted"
    model: str

    def complete(self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings) -> Turn: ...

    def stream(
        self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings
    ) -> Iterator[TextChunk | Turn]:
        """Yields text chunks as they arrive, then exactly one final Turn."""
        ...
