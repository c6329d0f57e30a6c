"""Translation of neutral messages to each provider's shape, and stop reasons back."""

from __future__ import annotations

import pytest

from csvanalyst.llm import anthropic_format, openai_format
from csvanalyst.llm.base import Message, ToolCall, ToolSpec

TOOL = ToolSpec(name="run_sql", description="Run SQL.", parameters={"type": "object", "properties": {}})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("stop", "end"),
        ("tool_calls", "tool_use"),
        ("function_call", "tool_use"),
        ("length", "max_tokens"),
        ("content_filter", "refusal"),
        ("something_new", "other"),
        (None, "other"),
    ],
)
def test_openai_stop_reasons(raw: str | None, expected: str) -> None:
    assert openai_format.map_stop(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("end_turn", "end"),
        ("tool_use", "tool_use"),
        ("max_tokens", "max_tokens"),
        ("stop_sequence", "end"),
        ("refusal", "refusal"),
        ("pause_turn", "other"),
        ("model_context_window_exceeded", "other"),
        (None, "other"),
    ],
)
def test_anthropic_stop_reasons(raw: str | None, expected: str) -> None:
    assert anthropic_format.map_stop(raw) == expected


def test_anthropic_merges_consecutive_tool_results_and_puts_them_first() -> None:
    messages = [
        Message(role="system", content="rules"),
        Message(role="user", content="q"),
        Message(role="assistant", content="checking", tool_calls=[ToolCall(id="a", name="f", arguments='{"x": 1}')]),
        Message(role="tool", tool_call_id="a", content="r1"),
        Message(role="user", content="also this"),
    ]
    system, turns = anthropic_format.to_anthropic(messages)
    assert system == "rules"
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert turns[1]["content"] == [
        {"type": "text", "text": "checking"},
        {"type": "tool_use", "id": "a", "name": "f", "input": {"x": 1}},
    ]
    assert [b["type"] for b in turns[2]["content"]] == ["tool_result", "text"]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [("", {}), ('{"a": 1}', {"a": 1}), ('{"a": ', {"_raw": '{"a": '}), ("[1, 2]", {"_raw": "[1, 2]"})],
)
def test_anthropic_tool_input_always_an_object(arguments: str, expected: dict) -> None:
    assert anthropic_format.tool_input(arguments) == expected


def test_anthropic_skips_empty_messages_and_temperature_for_new_models() -> None:
    kwargs = anthropic_format.request_kwargs(
        "claude-sonnet-5",
        [Message(role="user", content="q"), Message(role="assistant")],
        [TOOL],
        temperature=0,
        max_tokens=9,
    )
    assert kwargs["messages"] == [{"role": "user", "content": [{"type": "text", "text": "q"}]}]
    assert "extra_body" not in kwargs and "system" not in kwargs
    old = anthropic_format.request_kwargs(
        "claude-haiku-4-5", [Message(role="user", content="q")], [], temperature=0.3, max_tokens=9
    )
    assert old["extra_body"] == {"temperature": 0.3} and "tools" not in old


def test_openai_request_for_reasoning_and_compatible_servers() -> None:
    messages = [Message(role="user", content="q")]
    reasoning = openai_format.request_kwargs(
        "o4-mini", messages, [TOOL], temperature=0, max_tokens=50, compatible_server=False
    )
    assert "temperature" not in reasoning and reasoning["max_completion_tokens"] == 50
    local = openai_format.request_kwargs(
        "llama3.1", messages, [], temperature=0.2, max_tokens=50, compatible_server=True
    )
    assert local["max_tokens"] == 50 and local["temperature"] == 0.2 and "tools" not in local


def test_openai_tool_error_is_said_in_text() -> None:
    message = Message(role="tool", tool_call_id="c", content="no such column", is_error=True)
    assert openai_format.to_openai_message(message) == {
        "role": "tool",
        "tool_call_id": "c",
        "content": "Error: no such column",
    }
