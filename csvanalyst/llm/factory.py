"""Pick a model client from the environment: OpenAI (or a compatible server), Anthropic, or offline.

`auto` prefers what is configured, in this order: OPENAI_API_KEY / OPENAI_BASE_URL, then
ANTHROPIC_API_KEY, then the offline planner, so csvanalyst always works without any key. Nothing
here imports an SDK; the adapters do that on their first request.
"""

from __future__ import annotations

import os
from typing import Any

from csvanalyst.errors import ModelError, UsageError
from csvanalyst.llm.base import ModelClient
from csvanalyst.llm.failures import mask_key

PROVIDERS = ("auto", "openai", "anthropic", "offline")


def resolve_provider(provider: str = "auto") -> str:
    """The concrete provider `auto` stands for, given the environment."""
    name = provider.strip().lower()
    if name not in PROVIDERS:
        raise UsageError(
            f"Unknown model provider '{provider}'.",
            hint=f"Choose one of: {', '.join(PROVIDERS)}.",
        )
    if name != "auto":
        return name
    from csvanalyst.config import provider_setting

    if os.environ.get("OPENAI_API_KEY") or provider_setting("openai_base_url"):
        return "openai"
    if os.environ.get("ANTHROPIC_API_KEY"):
        return "anthropic"
    return "offline"


def get_client(provider: str = "auto", model: str | None = None) -> ModelClient:
    """A ready client; raises `ModelError` (with a hint) when the chosen provider is not configured."""
    name = resolve_provider(provider)
    if name == "openai":
        from csvanalyst.llm.openai import OpenAIClient

        return OpenAIClient(model)
    if name == "anthropic":
        from csvanalyst.llm.anthropic import AnthropicClient

        return AnthropicClient(model)
    return _offline(model)


def _offline(model: str | None) -> ModelClient:
    try:
        from csvanalyst.llm.offline import OfflinePlanner
    except ModuleNotFoundError as exc:
        if exc.name != "csvanalyst.llm.offline":
            raise
        raise ModelError(
            "The offline planner is not available in this installation.",
            hint="Set OPENAI_API_KEY or ANTHROPIC_API_KEY to use a hosted model, or reinstall csvanalyst.",
        ) from exc
    client: ModelClient = OfflinePlanner()
    return client


def describe_providers() -> list[dict[str, Any]]:
    """What `doctor` shows: each provider, whether it is configured, its masked key, URL and model."""
    from csvanalyst.config import provider_setting
    from csvanalyst.llm.anthropic import AnthropicClient
    from csvanalyst.llm.openai import OpenAIClient

    openai_key = os.environ.get("OPENAI_API_KEY", "")
    openai_url = provider_setting("openai_base_url")
    anthropic_key = os.environ.get("ANTHROPIC_API_KEY", "")
    chosen = resolve_provider("auto")
    rows = [
        _row("openai", bool(openai_key or openai_url), openai_key, openai_url, OpenAIClient.default_model()),
        _row(
            "anthropic",
            bool(anthropic_key),
            anthropic_key,
            provider_setting("anthropic_base_url"),
            AnthropicClient.default_model(),
        ),
        _row("offline", True, "", "", "rule-based planner"),
    ]
    for row in rows:
        row["selected_by_auto"] = row["provider"] == chosen
    return rows


def _row(provider: str, configured: bool, key: str, base_url: str, model: str) -> dict[str, Any]:
    return {
        "provider": provider,
        "configured": configured,
        "key": mask_key(key) if key else "",
        "base_url": base_url,
        "default_model": model,
    }
