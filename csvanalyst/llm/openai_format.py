"""Neutral messages and tools to the OpenAI Chat Completions shape, and its stop reasons back.

Pure functions, no SDK import: they are cheap to test and the SDK stays off the start-up path.
"""

from __future__ import annotations

from typing import Any

from csvanalyst.llm.base import Message, StopReason, ToolSpec

STOP_REASONS: dict[str, StopReason] = {
    "stop": "end",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "length": "max_tokens",
    "content_filter": "refusal",
}

# Reasoning models reject a temperature and the old max_tokens field.
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")


def map_stop(reason: str | None) -> StopReason:
    """Every known value explicitly; anything else is `other`, which stops the loop."""
    return STOP_REASONS.get(reason or "", "other")


def to_openai_message(message: Message) -> dict[str, Any]:
    if message.role == "tool":
        content = message.content
        if message.is_error and not content.lower().startswith("error"):
            content = f"Error: {content}"  # the format has no error flag; say it in the text
        return {"role": "tool", "tool_call_id": message.tool_call_id or "", "content": content}
    if message.role == "assistant" and message.tool_calls:
        calls = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in message.tool_calls
        ]
        return {"role": "assistant", "content": message.content or None, "tool_calls": calls}
    return {"role": message.role, "content": message.content}


def to_openai_tools(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
        for t in tools
    ]


def request_kwargs(
    model: str,
    messages: list[Message],
    tools: list[ToolSpec],
    *,
    temperature: float,
    max_tokens: int,
    compatible_server: bool,
) -> dict[str, Any]:
    """The keyword arguments for `chat.completions.create`, minus streaming and timeout."""
    kwargs: dict[str, Any] = {"model": model, "messages": [to_openai_message(m) for m in messages]}
    if tools:
        kwargs["tools"] = to_openai_tools(tools)
    reasoning = model.startswith(REASONING_PREFIXES)
    if not reasoning:
        kwargs["temperature"] = temperature
    # Local OpenAI-compatible servers know max_tokens; OpenAI's reasoning models only the new name.
    kwargs["max_tokens" if compatible_server or not reasoning else "max_completion_tokens"] = max_tokens
    return kwargs
