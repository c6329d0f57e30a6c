"""A `Reply` in the OpenAI Chat Completions wire format: JSON body, SSE chunks, error body.

Also checks the request the way the real API would reject it, so adapter bugs surface as 400s.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from csvanalyst.testing.wire_script import Reply, split_fragments

CREATED = 1_700_000_000


def call_id(request_no: int, index: int, reply: Reply) -> str:
    call = reply.tool_calls[index]
    return call.id or f"call_{request_no}_{index}"


def finish_reason(reply: Reply) -> str:
    if reply.stop is not None:
        return reply.stop
    return "tool_calls" if reply.tool_calls else "stop"


def usage(reply: Reply) -> dict[str, int]:
    total = reply.input_tokens + reply.output_tokens
    return {"prompt_tokens": reply.input_tokens, "completion_tokens": reply.output_tokens, "total_tokens": total}


def response(reply: Reply, body: dict[str, Any], request_no: int) -> dict[str, Any]:
    """The non-streaming response body."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call_id(request_no, i, reply),
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_text()},
            }
            for i, call in enumerate(reply.tool_calls)
        ]
    return {
        "id": f"chatcmpl-{request_no}",
        "object": "chat.completion",
        "created": CREATED,
        "model": reply.model or body.get("model", ""),
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(reply), "logprobs": None}],
        "usage": usage(reply),
    }


def _chunk(body: dict[str, Any], reply: Reply, request_no: int, delta: dict[str, Any], finish: str | None) -> str:
    data = {
        "id": f"chatcmpl-{request_no}",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": reply.model or body.get("model", ""),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }
    return f"data: {json.dumps(data)}\n\n"


def stream_events(reply: Reply, body: dict[str, Any], request_no: int) -> Iterator[str]:
    """SSE frames exactly as the API streams them: role, content deltas, tool-call fragments, finish, usage."""
    yield _chunk(body, reply, request_no, {"role": "assistant", "content": ""}, None)
    for piece in reply.text_chunks():
        yield _chunk(body, reply, request_no, {"content": piece}, None)
    if reply.fail_midstream is not None:
        yield f"data: {json.dumps(error_body(500, reply.fail_midstream, None))}\n\n"
        return
    for i, call in enumerate(reply.tool_calls):
        head = {"index": i, "id": call_id(request_no, i, reply), "type": "function"}
        head["function"] = {"name": call.name, "arguments": ""}
        yield _chunk(body, reply, request_no, {"tool_calls": [head]}, None)
        for fragment in split_fragments(call.arguments_text()):
            part = {"index": i, "function": {"arguments": fragment}}
            yield _chunk(body, reply, request_no, {"tool_calls": [part]}, None)
    yield _chunk(body, reply, request_no, {}, finish_reason(reply))
    if (body.get("stream_options") or {}).get("include_usage"):
        data: dict[str, Any] = {
            "id": f"chatcmpl-{request_no}",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": reply.model or body.get("model", ""),
            "choices": [],
            "usage": usage(reply),
        }
        yield f"data: {json.dumps(data)}\n\n"
    yield "data: [DONE]\n\n"


def error_body(status: int, message: str, code: str | None) -> dict[str, Any]:
    kinds = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error"}
    kind = kinds.get(status, "rate_limit_exceeded" if status == 429 else "server_error")
    return {"error": {"message": message or f"scripted error {status}", "type": kind, "param": None, "code": code}}


def request_problem(body: dict[str, Any]) -> str | None:
    """What the real API would reject in this request, or None."""
    if not body.get("model"):
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty array"
    open_calls: set[str] = set()
    for n, message in enumerate(messages):
        role = message.get("role")
        if role not in {"system", "developer", "user", "assistant", "tool"}:
            return f"messages[{n}].role {role!r} is invalid"
        for call in message.get("tool_calls") or []:
            open_calls.add(call.get("id"))
        if role == "tool" and message.get("tool_call_id") not in open_calls:
            return f"messages[{n}] answers unknown tool_call_id {message.get('tool_call_id')!r}"
    return None
