"""Both adapters, plain and streaming, through the real SDKs against the local wire-format server."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from csvanalyst.errors import ModelError
from csvanalyst.llm.base import Message, ModelSettings, TextChunk, ToolCall, ToolSpec, Turn
from csvanalyst.testing.wire_clients import TEST_KEY, client_for
from csvanalyst.testing.wire_server import Reply, ScriptedCall, WireServer

TOOLS = [
    ToolSpec(
        name="run_sql",
        description="Run one read-only SQL query.",
        parameters={"type": "object", "properties": {"sql": {"type": "string"}}, "required": ["sql"]},
    )
]
QUESTION = [Message(role="system", content="You analyse CSV files."), Message(role="user", content="How many rows?")]
SETTINGS = ModelSettings(max_retries=3, timeout_s=10)


@pytest.fixture(autouse=True)
def _no_remote_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSVANALYST_ALLOW_MODEL_REQUESTS", "0")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CSVANALYST_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=["openai", "anthropic"])
def provider(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(params=[False, True], ids=["plain", "stream"])
def streaming(request: pytest.FixtureRequest) -> bool:
    return request.param


def ask(client, messages: list[Message], settings: ModelSettings, streaming: bool) -> tuple[Turn, list[str]]:
    """One turn through `complete` or `stream`; checks the stream contract on the way."""
    if not streaming:
        return client.complete(messages, TOOLS, settings), []
    items = list(client.stream(messages, TOOLS, settings))
    turns = [item for item in items if isinstance(item, Turn)]
    assert len(turns) == 1 and items[-1] is turns[0], "a stream ends with exactly one Turn"
    assert all(isinstance(item, TextChunk) for item in items[:-1])
    return turns[0], [item.text for item in items[:-1]]


@pytest.fixture
def server() -> Iterator[WireServer]:
    with WireServer() as srv:
        yield srv


def test_plain_text_answer(server: WireServer, provider: str, streaming: bool) -> None:
    server.add(Reply(text="There are 42 rows in total.", input_tokens=1000, output_tokens=100))
    turn, chunks = ask(client_for(provider, server), QUESTION, SETTINGS, streaming)
    assert turn.text == "There are 42 rows in total."
    assert turn.stop == "end" and turn.tool_calls == []
    if streaming:
        assert chunks == ["There ", "are ", "42 ", "rows ", "in ", "total."]
    assert (turn.usage.input_tokens, turn.usage.output_tokens) == (1000, 100)
    expected = {"openai": (1000 * 0.15 + 100 * 0.60) / 1e6, "anthropic": (1000 * 3 + 100 * 15) / 1e6}[provider]
    assert turn.usage.cost_usd == pytest.approx(expected)
    sent = server.requests[0]
    assert sent.stream is streaming
    assert TEST_KEY not in sent.raw


def test_system_prompt_and_tools_in_provider_shape(server: WireServer, provider: str, streaming: bool) -> None:
    server.add(Reply(text="ok"))
    ask(client_for(provider, server), QUESTION, SETTINGS, streaming)
    body = server.requests[0].body
    if provider == "openai":
        assert body["messages"][0] == {"role": "system", "content": "You analyse CSV files."}
        assert body["tools"][0]["type"] == "function"
        assert body["tools"][0]["function"]["parameters"] == TOOLS[0].parameters
        assert body.get("stream_options") == ({"include_usage": True} if streaming else None)
    else:
        assert body["system"] == "You analyse CSV files."
        assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "How many rows?"}]}]
        assert body["tools"][0] == {
            "name": "run_sql",
            "description": TOOLS[0].description,
            "input_schema": TOOLS[0].parameters,
        }


def test_several_tool_calls_in_one_turn(server: WireServer, provider: str, streaming: bool) -> None:
    calls = [ScriptedCall("run_sql", {"sql": "SELECT count(*) FROM t"}), ScriptedCall("run_sql", {"sql": "SELECT 1"})]
    server.add(Reply(text="Let me check.", tool_calls=calls))
    turn, _ = ask(client_for(provider, server), QUESTION, SETTINGS, streaming)
    assert turn.stop == "tool_use"
    assert [c.name for c in turn.tool_calls] == ["run_sql", "run_sql"]
    assert [json.loads(c.arguments) for c in turn.tool_calls] == [call.arguments for call in calls]
    assert len({c.id for c in turn.tool_calls}) == 2
    assert turn.text == "Let me check."


def test_tool_round_trip_is_sent_in_provider_shape(server: WireServer, provider: str, streaming: bool) -> None:
    server.add(Reply(text="42 rows."))
    history = [
        *QUESTION,
        Message(
            role="assistant",
            content="",
            tool_calls=[
                ToolCall(id="call_a", name="run_sql", arguments='{"sql": "SELECT count(*) FROM t"}'),
                ToolCall(id="call_b", name="run_sql", arguments='{"sql": "SELECT count(*) FROM'),
            ],
        ),
        Message(role="tool", tool_call_id="call_a", content="count: 42"),
        Message(role="tool", tool_call_id="call_b", content="arguments are not valid JSON", is_error=True),
    ]
    turn, _ = ask(client_for(provider, server), history, SETTINGS, streaming)
    assert turn.text == "42 rows."  # the server would have answered 400 to a malformed history
    sent = server.requests[0].body["messages"]
    if provider == "openai":
        assert sent[2]["tool_calls"][0] == {
            "id": "call_a",
            "type": "function",
            "function": {"name": "run_sql", "arguments": '{"sql": "SELECT count(*) FROM t"}'},
        }
        assert sent[3] == {"role": "tool", "tool_call_id": "call_a", "content": "count: 42"}
        assert sent[4]["tool_call_id"] == "call_b" and sent[4]["content"].startswith("Error")
    else:
        assert [m["role"] for m in sent] == ["user", "assistant", "user"]
        assert sent[1]["content"][0] == {
            "type": "tool_use",
            "id": "call_a",
            "name": "run_sql",
            "input": {"sql": "SELECT count(*) FROM t"},
        }
        assert sent[1]["content"][1]["input"] == {"_raw": '{"sql": "SELECT count(*) FROM'}
        assert sent[2]["content"] == [
            {"type": "tool_result", "tool_use_id": "call_a", "content": "count: 42"},
            {
                "type": "tool_result",
                "tool_use_id": "call_b",
                "content": "arguments are not valid JSON",
                "is_error": True,
            },
        ]


@pytest.mark.parametrize("raw", ['{"sql": "SELECT 1"', 'Sure! Here is the call: {"sql": "SELECT 1"}'])
def test_malformed_tool_arguments_pass_through_raw(
    server: WireServer, provider: str, streaming: bool, raw: str
) -> None:
    server.add(Reply(tool_calls=[ScriptedCall("run_sql", raw)]))
    turn, _ = ask(client_for(provider, server), QUESTION, SETTINGS, streaming)
    assert turn.tool_calls[0].arguments == raw
    assert turn.stop == "tool_use"


def test_unknown_stop_reason_is_other(server: WireServer, provider: str, streaming: bool) -> None:
    server.add(Reply(text="hmm", stop="model_context_window_exceeded"))
    turn, _ = ask(client_for(provider, server), QUESTION, SETTINGS, streaming)
    assert turn.stop == "other"
    assert turn.raw_stop_reason == "model_context_window_exceeded"


@pytest.mark.parametrize(
    ("openai_reason", "anthropic_reason", "expected"),
    [("length", "max_tokens", "max_tokens"), ("content_filter", "refusal", "refusal"), ("stop", "pause_turn", None)],
)
def test_known_stop_reasons(
    server: WireServer, provider: str, openai_reason: str, anthropic_reason: str, expected: str | None
) -> None:
    server.add(Reply(text="cut", stop=openai_reason if provider == "openai" else anthropic_reason))
    turn = client_for(provider, server).complete(QUESTION, TOOLS, SETTINGS)
    assert turn.stop == (expected or {"openai": "end", "anthropic": "other"}[provider])


def test_429_then_success_honours_retry_after(server: WireServer, provider: str, streaming: bool) -> None:
    server.add(Reply(status=429, retry_after=0), Reply(status=429, retry_after="0.01"), Reply(text="done"))
    client = client_for(provider, server)
    turn, _ = ask(client, QUESTION, SETTINGS, streaming)
    assert turn.text == "done"
    assert client.attempts.count == 3 and len(server.requests) == 3
    assert client.attempts.delays == [0.0, 0.01]


def test_500_then_success(server: WireServer, provider: str, streaming: bool) -> None:
    server.add(Reply(status=500), Reply(text="recovered"))
    client = client_for(provider, server)
    turn, _ = ask(client, QUESTION, SETTINGS, streaming)
    assert turn.text == "recovered"
    assert client.attempts.count == 2
    assert 0 < client.attempts.delays[0] <= 0.01  # the test client's tiny backoff, no Retry-After given


def test_bad_key_is_not_retried_and_is_masked(server: WireServer, provider: str, streaming: bool) -> None:
    server.add(Reply(status=401, error_message=f"Incorrect API key provided: {TEST_KEY}"))
    client = client_for(provider, server)
    with pytest.raises(ModelError) as caught:
        ask(client, QUESTION, SETTINGS, streaming)
    env = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}[provider]
    error = caught.value
    assert "rejected the key sk-…cdef (401)" in error.message and env in error.message
    assert TEST_KEY not in error.message and TEST_KEY not in error.hint
    assert len(server.requests) == 1


def test_unknown_model_names_the_model(server: WireServer, provider: str, streaming: bool) -> None:
    server.add(Reply(status=404, error_code="model_not_found", error_message="The model does not exist"))
    with pytest.raises(ModelError) as caught:
        ask(client_for(provider, server, "no-such-model-9"), QUESTION, SETTINGS, streaming)
    assert "'no-such-model-9'" in caught.value.message
    assert "--model" in caught.value.hint
    assert len(server.requests) == 1


def test_retries_exhausted(server: WireServer, provider: str, streaming: bool) -> None:
    server.add(*[Reply(status=503)] * 5)
    settings = SETTINGS.model_copy(update={"max_retries": 2})
    with pytest.raises(ModelError) as caught:
        ask(client_for(provider, server), QUESTION, settings, streaming)
    assert "after 3 attempts" in caught.value.message and "503" in caught.value.message
    assert len(server.requests) == 3 and server.remaining == 2


def test_timeout_is_reported(server: WireServer, provider: str) -> None:
    server.add(Reply(text="too late", delay_s=1.0))
    settings = SETTINGS.model_copy(update={"max_retries": 0, "timeout_s": 0.2})
    with pytest.raises(ModelError) as caught:
        client_for(provider, server).complete(QUESTION, TOOLS, settings)
    assert "timeout of 0.2s" in caught.value.message


def test_connection_refused_names_the_url(provider: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}" + ("/v1" if provider == "openai" else "")
    client = client_for(provider, url)
    with pytest.raises(ModelError) as caught:
        client.complete(QUESTION, TOOLS, SETTINGS.model_copy(update={"max_retries": 1}))
    assert url in caught.value.message and "after 2 attempts" in caught.value.message
    assert client.attempts.last is not None and client.attempts.last.kind == "connection"


def test_settings_model_overrides_client_model(server: WireServer, provider: str) -> None:
    server.add(Reply(text="ok", input_tokens=10, output_tokens=10))
    turn = client_for(provider, server).complete(QUESTION, TOOLS, SETTINGS.model_copy(update={"model": "local-llama"}))
    assert server.requests[0].body["model"] == "local-llama"
    assert turn.model == "local-llama" and turn.usage.cost_usd is None


def test_stream_breaking_off_midway_is_a_model_error(server: WireServer, provider: str) -> None:
    server.add(Reply(text="Partial answer", fail_midstream="Overloaded"))
    client = client_for(provider, server)
    seen: list[str] = []
    with pytest.raises(ModelError, match="midway") as caught:
        for item in client.stream(QUESTION, TOOLS, SETTINGS):
            seen.append(item.text)
    assert seen == ["Partial ", "answer"] and "Overloaded" in caught.value.message
    assert len(server.requests) == 1  # not retried: the text was already shown
