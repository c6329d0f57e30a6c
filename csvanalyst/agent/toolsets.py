"""Which tools a model is offered: the full QueryPlan set, or a compact SQL-first set for local servers.

Small models behind OpenAI-compatible local servers (llama.cpp, vLLM, Ollama) do worst with the nested
QueryPlan schema, and some such servers drop nested schemas altogether; two flat tools with one string
parameter each cost a fraction of the tokens and leave nothing to drop. Hosted providers keep the full set.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

ToolSet = Literal["full", "compact"]

FULL_TOOLS = ("run_plan", "run_sql", "run_python", "describe_table", "list_datasets", "make_chart")
COMPACT_TOOLS = ("run_sql", "describe_table", "run_python")
HOSTED_OPENAI_HOSTS = frozenset({"api.openai.com"})


def tool_names(tool_set: ToolSet, *, python: bool) -> tuple[str, ...]:
    """The tools of a set, in the order they are offered; run_python only when Python analysis is on."""
    names = COMPACT_TOOLS if tool_set == "compact" else FULL_TOOLS
    return tuple(name for name in names if python or name != "run_python")


def is_local_openai_server(base_url: str) -> bool:
    """An OpenAI-compatible server that is not OpenAI's own API (no base URL means OpenAI's API)."""
    host = (urlsplit(base_url).hostname or "").lower() if base_url else ""
    return bool(host) and host not in HOSTED_OPENAI_HOSTS


def choose_tool_set(setting: str, provider: str, base_url: str) -> ToolSet:
    """The `tool_set` setting, with `auto` meaning compact for a local OpenAI-compatible server only."""
    if setting == "full":
        return "full"
    if setting == "compact":
        return "compact"
    return "compact" if provider == "openai" and is_local_openai_server(base_url) else "full"


def tool_set_for(setting: str, client: object) -> ToolSet:
    """`choose_tool_set` for a model client (its provider name and, for OpenAI, its base URL)."""
    provider = str(getattr(client, "provider", ""))
    return choose_tool_set(setting, provider, str(getattr(client, "base_url", "") or ""))
