"""The compact SQL-first tool set: chosen for local OpenAI-compatible servers, flat, and far smaller.

Driven through the real openai SDK against the local wire-format server, so what is checked is what a
local server receives.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from csvanalyst.agent.flat_schema import undescribed
from csvanalyst.agent.prompts import build_messages, estimated_tokens
from csvanalyst.agent.tools import tool_specs
from csvanalyst.agent.toolsets import choose_tool_set
from csvanalyst.config import get_settings
from csvanalyst.core.query import DataScope
from csvanalyst.core.session import Session
from csvanalyst.events import Answer, Done, ErrorEvent
from csvanalyst.testing.wire_clients import openai_client
from csvanalyst.testing.wire_server import Reply, ScriptedCall, WireServer

SCOPE = DataScope(dataset="retail")


@pytest.fixture
def server() -> Iterator[WireServer]:
    with WireServer() as srv:
        yield srv


@pytest.mark.parametrize(
    ("setting", "provider", "base_url", "chosen"),
    [
        ("auto", "openai", "http://127.0.0.1:8080/v1", "compact"),
        ("auto", "openai", "http://gpu-box.lan:11434/v1", "compact"),
        ("auto", "openai", "https://api.openai.com/v1", "full"),
        ("auto", "openai", "", "full"),
        ("auto", "anthropic", "http://127.0.0.1:8080", "full"),
        ("auto", "offline", "", "full"),
        ("full", "openai", "http://127.0.0.1:8080/v1", "full"),
        ("compact", "anthropic", "", "compact"),
    ],
)
def test_the_tool_set_follows_the_setting_then_the_provider(
    setting: str, provider: str, base_url: str, chosen: str
) -> None:
    assert choose_tool_set(setting, provider, base_url) == chosen


def test_compact_tools_are_flat_described_and_a_fraction_of_the_full_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    dataset = SCOPE.resolve()
    sizes = {}
    for tool_set in ("full", "compact"):
        tools = [t.model_dump() for t in tool_specs(tool_set=tool_set)]  # type: ignore[arg-type]
        messages = build_messages(dataset, "total revenue by region", [], tool_set=tool_set)  # type: ignore[arg-type]
        request = {"messages": [m.model_dump(exclude_defaults=True) for m in messages], "tools": tools}
        sizes[tool_set] = (estimated_tokens(tools), estimated_tokens(request))
    compact = tool_specs(tool_set="compact")
    assert [t.name for t in compact] == ["run_sql", "describe_table"]
    for spec in compact:  # one string parameter each: nothing nested for a server to drop
        assert undescribed(spec.parameters) == [], spec.name
        assert {p["type"] for p in spec.parameters["properties"].values()} == {"string"}, spec.name
    assert "run_plan" not in build_messages(dataset, "q", [], tool_set="compact")[0].content
    with capsys.disabled():
        print(f"\nfirst request, estimated tokens (tools, total): full {sizes['full']}, compact {sizes['compact']}")
    assert sizes["compact"][1] * 2 < sizes["full"][1]  # measured: under a half of the full first request


def test_a_local_server_gets_the_compact_set_and_an_answer(server: WireServer) -> None:
    sql = "SELECT count(*) AS n FROM orders"
    server.add(Reply(tool_calls=[ScriptedCall("run_sql", {"sql": sql})]), Reply(text="Counted the orders."))
    session = Session(client=openai_client(server))
    events = list(session.ask("how many orders?", SCOPE))
    tools = [t["function"]["name"] for t in server.requests[0].body["tools"]]
    assert tools == ["run_sql", "describe_table"]
    assert "QueryPlan" not in server.requests[0].body["messages"][0]["content"]
    assert isinstance(events[-1], Done) and events[-1].status == "answered"
    assert any(isinstance(e, Answer) for e in events)


def test_a_full_set_tool_is_refused_in_compact_mode_with_the_tools_that_exist(server: WireServer) -> None:
    plan = {"plan": {"table": "orders", "aggregates": [{"fn": "count", "as": "n"}]}}
    server.add(
        Reply(tool_calls=[ScriptedCall("run_plan", plan)]),
        Reply(tool_calls=[ScriptedCall("execute_sql", {"sql": "SELECT 1"}, id="c2")]),
        Reply(text="I could not run a query."),
    )
    events = list(Session(client=openai_client(server)).ask("how many orders?", SCOPE))
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert errors[0].code == "unknown_tool" and "run_sql, describe_table" in errors[0].message
    assert "Did you mean 'run_sql'?" in errors[1].message
    tool_message = next(m for m in server.requests[1].body["messages"] if m["role"] == "tool")
    assert '"code": "unknown_tool"' in tool_message["content"] and "run_sql" in tool_message["content"]


def test_the_setting_forces_the_full_set_on_a_local_server(server: WireServer) -> None:
    server.add(Reply(text="Nothing to run."))
    settings = get_settings().model_copy(update={"tool_set": "full"})
    list(Session(client=openai_client(server), settings=settings).ask("hello", SCOPE))
    assert server.requests[0].body["tools"][0]["function"]["name"] == "run_plan"


def test_show_prompt_names_the_tool_set_it_would_send(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    payload = Session().first_request("total revenue", SCOPE)
    assert payload["tool_set"] == "compact"
    assert [t["name"] for t in payload["tools"]] == ["run_sql", "describe_table"]
    assert payload["estimated_tokens"]["total"] > payload["estimated_tokens"]["tools"] > 0
