"""Whether a local model server's context window holds our first request, for `doctor`.

A local server with a small window (Ollama's default num_ctx, a llama.cpp server started with `-c 2048`)
cuts the system prompt silently, and the model then answers without the schema. The first request is
measured as `--show-prompt` measures it, on the largest dataset profiled here, plus room for the reply.
"""

from __future__ import annotations

from typing import Any

from csvanalyst.config import Settings, provider_setting
from csvanalyst.errors import CsvAnalystError

PROBE_QUESTION = "how many rows are there"


def context_window_report(settings: Settings) -> dict[str, Any] | None:
    """The window, the first request and a warning when one is due; None without a local server."""
    from csvanalyst.agent.toolsets import choose_tool_set, is_local_openai_server
    from csvanalyst.llm.base import ModelSettings

    base_url = provider_setting("openai_base_url")
    if not is_local_openai_server(base_url):
        return None
    report: dict[str, Any] = {"server": base_url}
    try:
        from csvanalyst.llm.openai import OpenAIClient
        from csvanalyst.llm.server_info import context_window

        client = OpenAIClient()
        window = context_window(client)
    except CsvAnalystError as exc:
        report.update(context_window=None, source=exc.message, warning=f"{base_url} could not be asked: {exc.message}")
        return report
    tool_set = choose_tool_set(settings.tool_set, "openai", base_url)
    request, dataset = first_request_tokens(settings, tool_set)
    reply = ModelSettings().max_tokens
    report.update(
        model=client.model,
        context_window=window.tokens,
        source=window.source,
        tool_set=tool_set,
        first_request_tokens=request,
        measured_on=dataset,
        reply_tokens=reply,
    )
    if window.tokens is None:
        report["warning"] = (
            f"The context window of {client.model} at {base_url} could not be determined ({window.source}). "
            f"Our first request is about {request} tokens, plus up to {reply} for the reply: "
            "make sure the server's window is at least that."
        )
    elif window.tokens < request + reply:
        report["warning"] = (
            f"{client.model} at {base_url} has a context window of {window.tokens} tokens, smaller than our first "
            f"request (about {request} tokens on {dataset}) plus up to {reply} for the reply; the server will cut "
            f"the prompt. Start it with a window of at least {request + reply} tokens (llama.cpp -c, vLLM "
            "--max-model-len, Ollama num_ctx)."
        )
    return report


def first_request_tokens(settings: Settings, tool_set: str) -> tuple[int, str]:
    """About how many tokens the first request of a question costs, on the largest dataset profiled here."""
    from csvanalyst.agent.prompts import build_messages, estimated_tokens
    from csvanalyst.agent.tools import tool_specs
    from csvanalyst.catalog import registry
    from csvanalyst.core.query import python_refusal

    tools = [t.model_dump() for t in tool_specs(python=python_refusal(settings, None) is None, tool_set=tool_set)]  # type: ignore[arg-type]
    names = [s.name for s in registry.list_datasets() if s.rows is not None] or ["retail"]
    largest, on = estimated_tokens({"tools": tools}), "no dataset"
    for name in names:
        try:
            info = registry.get_dataset(name)
        except CsvAnalystError:
            continue
        messages = build_messages(info, PROBE_QUESTION, [], tool_set=tool_set)  # type: ignore[arg-type]
        size = estimated_tokens({"messages": [m.model_dump(exclude_defaults=True) for m in messages], "tools": tools})
        if size > largest or on == "no dataset":
            largest, on = size, name
    return largest, on
