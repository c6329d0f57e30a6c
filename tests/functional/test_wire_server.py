"""The wire-format server itself: recording, script exhaustion, endless tool calls, request checks."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from csvanalyst.errors import ModelError
from csvanalyst.llm.base import Message, ModelSettings, ToolCall
from csvanalyst.testing.wire_clients import TEST_KEY, anthropic_client, openai_client
from csvanalyst.testing.wire_server import Reply, ScriptedCall, WireServer

SETTINGS = ModelSettings(max_retries=0, timeout_s=10)
HELLO = [Message(role="user", content="hello")]


@pytest.fixture(autouse=True)
def _no_remote_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSVANALYST_ALLOW_MODEL_REQUESTS", "0")


def post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_repeat_answers_forever_after_the_script() -> None:
    loop = Reply(tool_calls=[ScriptedCall("run_sql", {"sql": "SELECT 1"})])
    with WireServer([Reply(text="first")], repeat=loop) as server:
        client = openai_client(server)
        assert client.complete(HELLO, [], SETTINGS).text == "first"
        turns = [client.complete(HELLO, [], SETTINGS) for _ in range(5)]
    assert all(t.stop == "tool_use" and t.tool_calls[0].name == "run_sql" for t in turns)
    assert len(server.requests) == 6


def test_exhausted_script_answers_400_in_provider_format() -> None:
    with WireServer() as server:
        status, body = post(server.url + "/v1/messages", {"model": "m", "max_tokens": 5, "messages": []})
        assert status == 400 and body["type"] == "error" and "exhausted" in body["error"]["message"]
        status, body = post(server.openai_url + "/chat/completions", {"model": "m", "messages": []})
        assert status == 400 and "exhausted" in body["error"]["message"]


def test_unknown_route_is_404() -> None:
    with WireServer([Reply(text="unused")]) as server:
        status, _ = post(server.url + "/v2/elsewhere", {})
    assert status == 404 and server.remaining == 1


def test_records_what_was_sent() -> None:
    with WireServer([Reply(text="hi")]) as server:
        anthropic_client(server).complete(HELLO, [], SETTINGS)
    (request,) = server.requests
    assert request.provider == "anthropic" and request.path == "/v1/messages"
    assert request.body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hello"}]}]
    assert request.headers["content-type"] == "application/json"
    assert TEST_KEY not in request.raw  # the key travels in a header, never in the content


def test_rejects_a_tool_result_for_an_unknown_call_like_the_real_api() -> None:
    orphan = [*HELLO, Message(role="tool", tool_call_id="nope", content="42")]
    with WireServer([Reply(text="x"), Reply(text="y")]) as server:
        with pytest.raises(ModelError, match="rejected the request"):
            openai_client(server).complete(orphan, [], SETTINGS)
        unanswered = [*HELLO, Message(role="assistant", tool_calls=[ToolCall(id="t1", name="f", arguments="{}")])]
        unanswered.append(Message(role="user", content="and?"))
        with pytest.raises(ModelError, match="rejected the request"):
            anthropic_client(server).complete(unanswered, [], SETTINGS)


def test_streamed_text_follows_the_scripted_chunks() -> None:
    with WireServer([Reply(text="abcdef", chunks=["ab", "cd", "ef"])]) as server:
        items = list(anthropic_client(server).stream(HELLO, [], SETTINGS))
    assert [getattr(item, "text", None) for item in items[:-1]] == ["ab", "cd", "ef"]


def test_test_clients_refuse_non_loopback_urls() -> None:
    with pytest.raises(AssertionError, match="loopback"):
        openai_client("https://api.openai.com/v1")
