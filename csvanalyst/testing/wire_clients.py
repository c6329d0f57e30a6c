"""Model clients wired to a local `WireServer`, refusing anything that is not loopback.

Tests build clients only through these helpers, so a test can never reach a paid API by accident.
"""

from __future__ import annotations

from collections.abc import Callable

from csvanalyst.llm.anthropic import AnthropicClient
from csvanalyst.llm.guard import is_loopback
from csvanalyst.llm.openai import OpenAIClient
from csvanalyst.llm.retry import Backoff
from csvanalyst.testing.wire_server import WireServer

TEST_KEY = "sk-test-0123456789abcdef"
FAST = Backoff(base_s=0.001, cap_s=0.01)  # real backoff logic, tiny waits


def _require_loopback(url: str) -> None:
    if not is_loopback(url):
        raise AssertionError(f"test model clients must use a loopback base URL, not {url!r}")


def openai_client(server: WireServer | str, model: str | None = None, *, key: str = TEST_KEY) -> OpenAIClient:
    url = server.openai_url if isinstance(server, WireServer) else server
    _require_loopback(url)
    return OpenAIClient(model or "gpt-4o-mini", api_key=key, base_url=url, backoff=FAST)


def anthropic_client(server: WireServer | str, model: str | None = None, *, key: str = TEST_KEY) -> AnthropicClient:
    url = server.url if isinstance(server, WireServer) else server
    _require_loopback(url)
    return AnthropicClient(model or "claude-sonnet-4-6", api_key=key, base_url=url, backoff=FAST)


def client_for(
    provider: str, server: WireServer | str, model: str | None = None, *, key: str = TEST_KEY
) -> OpenAIClient | AnthropicClient:
    """`openai_client` or `anthropic_client` by name, for tests parametrised over providers."""
    makers: dict[str, Callable[..., OpenAIClient | AnthropicClient]] = {
        "openai": openai_client,
        "anthropic": anthropic_client,
    }
    make = makers[provider]
    return make(server, model, key=key)
