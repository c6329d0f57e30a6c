"""A `Reply` in the Anthropic Messages wire format: JSON body, SSE events, error body.

Also checks the request the way the real API would reject it (roles alternate, every tool_use is
answered by a tool_result in the next user message), so adapter bugs surface as 400s.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from csvanalyst.testing.wire_script import Reply, split_fragments


def call_id(request_no: int, index: int, reply: Reply) -> str:
    return reply.tool_calls[index].id or f"toolu_{request_no}_{index}"


def stop_reason(reply: Reply) -> str:
    if reply.stop is not None:
        return reply.stop
    return "tool_use" if reply.tool_calls else "end_turn"


def _input(arguments: dict[str, Any] | str) -> Any:
    # The real API always sends an object; a raw string is passed through so tests can send junk.
    return arguments


def response(reply: Reply, body: dict[str, Any], request_no: int) -> dict[str, Any]:
    """The non-streaming response body."""
    content: list[dict[str, Any]] = []
    if reply.text:
        content.append({"type": "text", "text": reply.text})
    for i, call in enumerate(reply.tool_calls):
        block = {"type": "tool_use", "id": call_id(request_no, i, reply), "name": call.name}
        block["input"] = _input(call.arguments)
        content.append(block)
    return {
        "id": f"msg_{request_no}",
        "type": "message",
        "role": "assistant",
        "model": reply.model or body.get("model", ""),
        "content": content,
        "stop_reason": stop_reason(reply),
        "stop_sequence": None,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
    }


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n"


def _text_block(index: int, reply: Reply) -> Iterator[str]:
    yield _event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
    for piece in reply.text_chunks():
        yield _event("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": piece}})
    yield _event("content_block_stop", {"index": index})


def _tool_block(index: int, call_no: int, reply: Reply, request_no: int) -> Iterator[str]:
    call = reply.tool_calls[call_no]
    block = {"type": "tool_use", "id": call_id(request_no, call_no, reply), "name": call.name, "input": {}}
    yield _event("content_block_start", {"index": index, "content_block": block})
    for fragment in split_fragments(call.arguments_text()):
        delta = {"type": "input_json_delta", "partial_json": fragment}
        yield _event("content_block_delta", {"index": index, "delta": delta})
    yield _event("content_block_stop", {"index": index})


def stream_events(reply: Reply, body: dict[str, Any], request_no: int) -> Iterator[str]:
    """SSE events exactly as the API streams them, including a ping."""
    start = response(reply, body, request_no)
    start.update(content=[], stop_reason=None, usage={"input_tokens": reply.input_tokens, "output_tokens": 1})
    yield _event("message_start", {"message": start})
    yield _event("ping", {})
    index = 0
    if reply.text:
        yield from _text_block(index, reply)
        index += 1
    if reply.fail_midstream is not None:
        yield _event("error", {"error": {"type": "overloaded_error", "message": reply.fail_midstream}})
        return
    for call_no in range(len(reply.tool_calls)):
        yield from _tool_block(index, call_no, reply, request_no)
        index += 1
    delta = {"stop_reason": stop_reason(reply), "stop_sequence": None}
    yield _event("message_delta", {"delta": delta, "usage": {"output_tokens": reply.output_tokens}})
    yield _event("message_stop", {})


def error_body(status: int, message: str, code: str | None) -> dict[str, Any]:
    kinds = {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        429: "rate_limit_error",
        529: "overloaded_error",
    }
    kind = code or kinds.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message or f"scripted error {status}"}}


def _tool_use_ids(content: Any) -> set[str]:
    if not isinstance(content, list):
        return set()
    return {block.get("id") for block in content if block.get("type") == "tool_use"}


def _tool_result_ids(content: Any) -> set[str]:
    if not isinstance(content, list):
        return set()
    return {block.get("tool_use_id") for block in content if block.get("type") == "tool_result"}


def request_problem(body: dict[str, Any]) -> str | None:
    """What the real API would reject in this request, or None."""
    if not body.get("model"):
        return "model: Field required"
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    if messages[0].get("role") != "user":
        return "messages: first message must use the user role"
    for n, current in enumerate(messages):
        if current.get("role") not in {"user", "assistant"}:
            return f"messages.{n}.role: Input should be 'user' or 'assistant'"
        if n and messages[n - 1].get("role") == current.get("role"):
            return f"messages.{n}: roles must alternate between user and assistant"
        if current.get("content") in ("", []):
            return f"messages.{n}: content must be non-empty"
        asked = _tool_use_ids(current.get("content"))
        answered = _tool_result_ids(messages[n + 1].get("content")) if n + 1 < len(messages) else asked
        if asked - answered:
            return f"messages.{n + 1}: tool_use ids {sorted(asked - answered)} have no tool_result blocks"
    return None
