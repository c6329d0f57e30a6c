"""How large a context window a local OpenAI-compatible server gives the model, read from its metadata.

Servers publish it in different places, none of them part of the OpenAI API: vLLM as `max_model_len`
(LM Studio as `max_context_length`, others as `context_length`) in each /v1/models entry, llama.cpp as
`n_ctx` in `/props`, Ollama as `num_ctx` in the parameters of `/api/show`. Each is tried in turn; when
none answers, the report says what was tried, so `doctor` can say the window could not be determined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from csvanalyst.llm.openai import OpenAIClient

MODEL_FIELDS = ("max_model_len", "max_context_length", "context_length", "context_window")
TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ContextWindow:
    tokens: int | None
    source: str  # where the figure was read, or what was tried when there is none


def context_window(client: OpenAIClient) -> ContextWindow:
    """The server's context window for the client's model, or None with what was tried."""
    tried = []
    for probe in (_from_models, _from_llamacpp_props, _from_ollama_show):
        tokens, source = probe(client)
        if tokens is not None:
            return ContextWindow(tokens, source)
        tried.append(source)
    return ContextWindow(None, "; ".join(tried))


def _from_models(client: OpenAIClient) -> tuple[int | None, str]:
    import openai

    try:
        entries = client.models()
    except openai.OpenAIError as exc:
        return None, f"/v1/models failed ({type(exc).__name__})"
    entry = next((e for e in entries if e.get("id") == client.model), entries[0] if len(entries) == 1 else None)
    if entry is None:
        return None, f"/v1/models does not list {client.model!r}"
    for name in MODEL_FIELDS:
        if _positive(entry.get(name)):
            return int(entry[name]), f"{name} of {entry['id']} in /v1/models"
    return None, "/v1/models has no context length field"


def _from_llamacpp_props(client: OpenAIClient) -> tuple[int | None, str]:
    body = _json(client, "GET", "/props")
    if body is None:
        return None, "no /props (llama.cpp)"
    for holder in (body.get("default_generation_settings") or {}, body):
        if _positive(holder.get("n_ctx")):
            return int(holder["n_ctx"]), "n_ctx in /props (llama.cpp)"
    return None, "/props has no n_ctx"


def _from_ollama_show(client: OpenAIClient) -> tuple[int | None, str]:
    body = _json(client, "POST", "/api/show", {"model": client.model})
    if body is None:
        return None, "no /api/show (Ollama)"
    found = re.search(r"^\s*num_ctx\s+(\d+)", str(body.get("parameters") or ""), re.MULTILINE)
    if found:
        return int(found.group(1)), f"num_ctx of {client.model} in /api/show (Ollama)"
    maximum = next((v for k, v in (body.get("model_info") or {}).items() if k.endswith(".context_length")), None)
    extra = f"; the model allows {maximum}" if _positive(maximum) else ""
    return None, f"{client.model} sets no num_ctx in /api/show, so Ollama's default applies{extra}"


def _json(client: OpenAIClient, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    """A JSON body from the server's root (its base URL without /v1), or None when it has none."""
    import httpx

    root = re.sub(r"/v1/?$", "", client.base_url)
    try:
        response = httpx.request(method, root + path, json=payload, timeout=TIMEOUT_S)
        body = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
