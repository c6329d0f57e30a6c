"""The OpenAI adapter: Chat Completions with tools, plain and streaming.

`OPENAI_BASE_URL` points it at any OpenAI-compatible server (Ollama, vLLM, llama.cpp); such servers
usually need no key, so a placeholder is sent. The SDK is imported on first use only, because the
CLI must start without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from csvanalyst.llm.base import Message, ModelSettings, TextChunk, ToolCall, ToolSpec, Turn, Usage
from csvanalyst.llm.openai_format import map_stop, request_kwargs
from csvanalyst.llm.pricing import estimate_cost
from csvanalyst.llm.sdk_client import SdkClient

DEFAULT_MODEL = "gpt-4o-mini"
LOCAL_KEY = "not-needed"


class _StreamedTurn:
    """Accumulates chunks: text as it comes, tool-call fragments by index, the finish reason, usage."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.text: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None
        self.usage: Any = None

    def add(self, chunk: Any) -> Iterator[TextChunk]:
        self.model = getattr(chunk, "model", None) or self.model
        if getattr(chunk, "usage", None) is not None:
            self.usage = chunk.usage
        for choice in chunk.choices or []:
            delta = choice.delta
            if delta is not None and delta.content:
                self.text.append(delta.content)
                yield TextChunk(text=delta.content)
            for position, part in enumerate((delta.tool_calls if delta is not None else None) or []):
                self._add_call_part(part, position)
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason

    def _add_call_part(self, part: Any, position: int) -> None:
        index = part.index if part.index is not None else position
        call = self.calls.setdefault(index, {"id": "", "name": "", "arguments": []})
        call["id"] = part.id or call["id"]
        if part.function is not None:
            call["name"] = part.function.name or call["name"]
            call["arguments"].append(part.function.arguments or "")

    def turn(self) -> Turn:
        calls = [
            ToolCall(id=c["id"] or f"call_{i}", name=c["name"], arguments="".join(c["arguments"]))
            for i, c in sorted(self.calls.items())
        ]
        return Turn(
            text="".join(self.text),
            tool_calls=calls,
            stop=map_stop(self.finish_reason),
            raw_stop_reason=self.finish_reason or "",
            usage=_usage(self.model, self.usage),
            model=self.model,
        )


class OpenAIClient(SdkClient):
    """A `ModelClient` over the OpenAI Chat Completions API."""

    provider = "openai"
    label = "OpenAI"
    key_env = "OPENAI_API_KEY"
    url_env = "OPENAI_BASE_URL"
    no_key_hint = "Set OPENAI_API_KEY, set OPENAI_BASE_URL for a local server, or use --provider offline."
    fallback_model = DEFAULT_MODEL
    sdk_module = "openai"
    streamed_turn = _StreamedTurn
    sdk_error = "OpenAIError"
    stream_options: ClassVar[dict[str, Any]] = {"stream_options": {"include_usage": True}}

    def _key_without_env(self, base_url: str) -> str:
        return LOCAL_KEY if base_url else ""  # a local server usually wants no key, the SDK wants one

    def _new_sdk(self, sdk: Any) -> Any:
        return sdk.OpenAI(api_key=self._key, base_url=self.base_url or None, max_retries=0)

    def _create(self) -> Any:
        return self._client().chat.completions.create

    def models(self, timeout_s: float = 5.0) -> list[dict[str, Any]]:
        """The server's /models entries with every field it sends (local servers add their limits there)."""
        return [entry.to_dict() for entry in self._client().models.list(timeout=timeout_s).data]

    def _kwargs(self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings) -> dict[str, Any]:
        return request_kwargs(
            settings.model or self.model,
            messages,
            tools,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            compatible_server=bool(self.base_url),
        )

    def complete(self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings) -> Turn:
        model = settings.model or self.model
        response = self._call(settings, model, **self._kwargs(messages, tools, settings))
        if not response.choices:
            return Turn(stop="other", raw_stop_reason="no choices", usage=_usage(model, response.usage), model=model)
        choice = response.choices[0]
        calls = [
            ToolCall(id=call.id or f"call_{i}", name=call.function.name, arguments=call.function.arguments or "")
            for i, call in enumerate(choice.message.tool_calls or [])
            if getattr(call, "function", None) is not None
        ]
        return Turn(
            text=choice.message.content or "",
            tool_calls=calls,
            stop=map_stop(choice.finish_reason),
            raw_stop_reason=choice.finish_reason or "",
            usage=_usage(response.model or model, response.usage),
            model=response.model or model,
        )


def _usage(model: str, usage: Any) -> Usage:
    if usage is None:
        return Usage(cost_usd=None)
    prompt = usage.prompt_tokens or 0
    completion = usage.completion_tokens or 0
    return Usage(input_tokens=prompt, output_tokens=completion, cost_usd=estimate_cost(model, prompt, completion))
