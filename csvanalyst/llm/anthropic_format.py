"""Neutral messages and tools to the Anthropic Messages shape, and its stop reasons back.

The Messages API wants the system prompt apart, strictly alternating user/assistant turns, tool calls
as `tool_use` blocks with parsed input, and tool results as `tool_result` blocks inside a user turn.
Pure functions, no SDK import.
"""

from __future__ import annotations

import json
import re
from typing import Any

from csvanalyst.llm.base import Message, StopReason, ToolSpec

STOP_REASONS: dict[str, StopReason] = {
    "end_turn": "end",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "stop_sequence": "end",
    "refusal": "refusal",
    "pause_turn": "other",
}

# Claude 5 and later reject sampling parameters; older models and unknown proxies accept them.
_MAJOR = re.compile(r"^claude-(?:[a-z]+-)?(\d+)")


def map_stop(reason: str | None) -> StopReason:
    """Every known value explicitly; anything else is `other`, which stops the loop."""
    return STOP_REASONS.get(reason or "", "other")


def accepts_temperature(model: str) -> bool:
    match = _MAJOR.match(model)
    return match is None or int(match.group(1)) < 5


def tool_input(arguments: str) -> dict[str, Any]:
    """Arguments are raw JSON text; the API needs an object, so unparseable text travels as `_raw`."""
    if not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        return {"_raw": arguments}
    return value if isinstance(value, dict) else {"_raw": arguments}


def _blocks(message: Message) -> list[dict[str, Any]]:
    if message.role == "tool":
        block: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": message.tool_call_id or "",
            "content": message.content,
        }
        if message.is_error:
            block["is_error"] = True
        return [block]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
    for call in message.tool_calls:
        blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": tool_input(call.arguments)})
    return blocks


def to_anthropic(messages: list[Message]) -> tuple[str, list[dict[str, Any]]]:
    """(system prompt, messages); turns of the same role are merged so roles alternate."""
    system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message)
        if not blocks:
            continue  # the API rejects empty content
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    for turn in out:
        # tool_result blocks must open a user turn, before any text.
        turn["content"].sort(key=lambda block: block["type"] != "tool_result")
    return system, out


def to_anthropic_tools(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    return [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in tools]


def request_kwargs(
    model: str, messages: list[Message], tools: list[ToolSpec], *, temperature: float, max_tokens: int
) -> dict[str, Any]:
    """The keyword arguments for `messages.create`, minus streaming and timeout."""
    system, turns = to_anthropic(messages)
    kwargs: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": turns}
    if system:
        kwargs["system"] = system
    if tools:
        kwargs["tools"] = to_anthropic_tools(tools)
    if accepts_temperature(model):
        # Current SDKs no longer expose `temperature`; models before Claude 5 still honour it.
        kwargs["extra_body"] = {"temperature": temperature}
    return kwargs
