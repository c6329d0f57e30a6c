"""The Anthropic adapter: the Messages API with tools, plain and streaming.

The SDK is imported on first use only, because the CLI must start without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from csvanalyst.llm.anthropic_format import map_stop, request_kwargs
from csvanalyst.llm.base import Message, ModelSettings, TextChunk, ToolCall, ToolSpec, Turn, Usage
from csvanalyst.llm.pricing import estimate_cost
from csvanalyst.llm.sdk_client import SdkClient

DEFAULT_MODEL = "claude-sonnet-4-6"


class _StreamedTurn:
    """Accumulates events: text deltas, tool_use blocks with their partial JSON, stop reason, usage."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.text: list[str] = []
        self.blocks: dict[int, dict[str, Any]] = {}
        self.stop_reason: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0

    def add(self, event: Any) -> Iterator[TextChunk]:
        kind = getattr(event, "type", "")
        if kind == "message_start":
            self.model = event.message.model or self.model
            self.input_tokens = event.message.usage.input_tokens or 0
            self.output_tokens = event.message.usage.output_tokens or 0
        elif kind == "content_block_start" and event.content_block.type == "tool_use":
            block = event.content_block
            self.blocks[event.index] = {"id": block.id, "name": block.name, "json": [], "input": block.input}
        elif kind == "content_block_delta":
            yield from self._delta(event.index, event.delta)
        elif kind == "message_delta":
            self.stop_reason = event.delta.stop_reason or self.stop_reason
            self._usage(event.usage)

    def _delta(self, index: int, delta: Any) -> Iterator[TextChunk]:
        if delta.type == "text_delta" and delta.text:
            self.text.append(delta.text)
            yield TextChunk(text=delta.text)
        elif delta.type == "input_json_delta" and index in self.blocks:
            self.blocks[index]["json"].append(delta.partial_json or "")

    def _usage(self, usage: Any) -> None:
        if usage is None:
            return
        # message_delta counts are cumulative; input may be restated there.
        self.output_tokens = usage.output_tokens or self.output_tokens
        self.input_tokens = getattr(usage, "input_tokens", None) or self.input_tokens

    def turn(self) -> Turn:
        calls = [
            ToolCall(id=b["id"], name=b["name"], arguments="".join(b["json"]) or _arguments_text(b["input"] or {}))
            for _, b in sorted(self.blocks.items())
        ]
        return Turn(
            text="".join(self.text),
            tool_calls=calls,
            stop=map_stop(self.stop_reason),
            raw_stop_reason=self.stop_reason or "",
            usage=_usage(self.model, self.input_tokens, self.output_tokens),
            model=self.model,
        )


class AnthropicClient(SdkClient):
    """A `ModelClient` over the Anthropic Messages API."""

    provider = "anthropic"
    label = "Anthropic"
    key_env = "ANTHROPIC_API_KEY"
    url_env = "ANTHROPIC_BASE_URL"
    no_key_hint = "Set ANTHROPIC_API_KEY, or choose another provider with --provider (offline needs no key)."
    fallback_model = DEFAULT_MODEL
    sdk_module = "anthropic"
    streamed_turn = _StreamedTurn
    sdk_error = "AnthropicError"

    def _new_sdk(self, sdk: Any) -> Any:
        return sdk.Anthropic(api_key=self._key, base_url=self.base_url or None, max_retries=0)

    def _create(self) -> Any:
        return self._client().messages.create

    def _kwargs(self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings) -> dict[str, Any]:
        model = settings.model or self.model
        return request_kwargs(model, messages, tools, temperature=settings.temperature, max_tokens=settings.max_tokens)

    def complete(self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings) -> Turn:
        model = settings.model or self.model
        response = self._call(settings, model, **self._kwargs(messages, tools, settings))
        text: list[str] = []
        calls: list[ToolCall] = []
        for block in response.content or []:
            if block.type == "text":
                text.append(block.text)
            elif block.type == "tool_use":
                calls.append(ToolCall(id=block.id, name=block.name, arguments=_arguments_text(block.input)))
        model = response.model or model
        usage = response.usage
        return Turn(
            text="".join(text),
            tool_calls=calls,
            stop=map_stop(response.stop_reason),
            raw_stop_reason=response.stop_reason or "",
            usage=_usage(model, usage.input_tokens if usage else 0, usage.output_tokens if usage else 0),
            model=model,
        )


def _arguments_text(value: Any) -> str:
    """The loop wants raw JSON text; a non-object input (a misbehaving server) is passed through as is."""
    return value if isinstance(value, str) else json.dumps(value)


def _usage(model: str, input_tokens: int, output_tokens: int) -> Usage:
    cost = estimate_cost(model, input_tokens, output_tokens)
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens, cost_usd=cost)
