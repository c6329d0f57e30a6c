"""Choosing a model client from the environment, and keeping SDKs off the start-up path."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from csvanalyst.errors import ModelError, UsageError
from csvanalyst.llm.factory import describe_providers, get_client, resolve_provider

ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_MODEL",
    "CSVANALYST_MODEL",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSVANALYST_ALLOW_MODEL_REQUESTS", "0")
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def test_auto_prefers_openai_then_anthropic_then_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_provider("auto") == "offline"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-xxxxxxxxxxxxxxxx")
    assert resolve_provider("auto") == "anthropic"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    assert resolve_provider("auto") == "openai"


def test_auto_with_a_local_server_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("CSVANALYST_MODEL", "llama3.1")
    client = get_client()
    assert client.provider == "openai" and client.model == "llama3.1"


def test_anthropic_client_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-xxxxxxxxxxxxxxxx")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://localhost:9")
    client = get_client("anthropic", model="claude-haiku-4-5")
    assert client.provider == "anthropic" and client.model == "claude-haiku-4-5"


@pytest.mark.parametrize(("provider", "env"), [("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY")])
def test_explicit_provider_without_key(provider: str, env: str) -> None:
    with pytest.raises(ModelError) as caught:
        get_client(provider)
    assert env in caught.value.message and "--provider" in caught.value.hint


def test_unknown_provider_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="gemini"):
        get_client("gemini")


def test_real_endpoints_are_refused_while_model_requests_are_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-xxxxxxxxxxxxxxxxxxxx")
    with pytest.raises(ModelError, match="CSVANALYST_ALLOW_MODEL_REQUESTS"):
        get_client("openai")


def test_offline_is_the_planner_or_a_clear_error() -> None:
    if importlib.util.find_spec("csvanalyst.llm.offline") is None:
        with pytest.raises(ModelError, match="offline planner"):
            get_client("offline")
    else:
        assert get_client("offline").provider == "offline"


def test_describe_providers_masks_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-abcdefghijklmnop9876")
    rows = {row["provider"]: row for row in describe_providers()}
    assert rows["openai"]["configured"] and rows["openai"]["key"] == "sk-…9876"
    assert rows["openai"]["selected_by_auto"] and rows["openai"]["default_model"] == "gpt-4o-mini"
    assert not rows["anthropic"]["configured"] and rows["anthropic"]["key"] == ""
    assert "abcdefghijklmnop" not in json.dumps(rows)


def test_sdks_are_not_imported_until_a_request() -> None:
    code = (
        "import sys, os\n"
        "os.environ['OPENAI_API_KEY'] = 'sk-xxxxxxxxxxxxxxxxxxxx'\n"
        "os.environ['ANTHROPIC_API_KEY'] = 'sk-ant-xxxxxxxxxxxxxxxx'\n"
        "from csvanalyst.llm.factory import get_client, describe_providers\n"
        "describe_providers(); get_client('openai'); get_client('anthropic')\n"
        "print(sorted(m for m in ('openai', 'anthropic', 'httpx2') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PATH": ""})
    assert out.stdout.strip() == "[]"
