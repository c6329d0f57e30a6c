"""`doctor` checks a local server's context window against our first request.

The window is read through the real openai SDK (and plain HTTP for the servers' own endpoints) from the
local wire-format server, serving the metadata vLLM, llama.cpp and Ollama publish.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from csvanalyst.config import get_settings
from csvanalyst.core.context_check import context_window_report
from csvanalyst.testing.wire_server import WireServer

MODEL = "small-local"


def _models(**fields: Any) -> dict[str, Any]:
    entry = {"id": MODEL, "object": "model", "created": 0, "owned_by": "local", **fields}
    return {"object": "list", "data": [entry]}


@pytest.fixture(autouse=True)
def _local_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "CSVANALYST_MODEL", "CSVANALYST_TOOL_SET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_MODEL", MODEL)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _report(monkeypatch: pytest.MonkeyPatch, metadata: dict[str, Any]) -> tuple[dict[str, Any], WireServer]:
    server = WireServer(metadata=metadata).start()
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_url)
    try:
        report = context_window_report(get_settings())
    finally:
        server.stop()
    assert report is not None
    return report, server


def test_a_vllm_window_smaller_than_the_first_request_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    report, server = _report(monkeypatch, {"/v1/models": _models(max_model_len=1024)})
    assert report["context_window"] == 1024 and "max_model_len" in report["source"]
    assert report["tool_set"] == "compact" and report["first_request_tokens"] > 300
    assert "smaller than our first request" in report["warning"] and "--max-model-len" in report["warning"]
    assert server.metadata_requests[0].path == "/v1/models"


def test_a_window_that_holds_the_request_and_reply_gives_no_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    report, _ = _report(monkeypatch, {"/v1/models": _models(max_model_len=32_768)})
    assert report["context_window"] == 32_768 and "warning" not in report
    assert report["first_request_tokens"] + report["reply_tokens"] < 32_768


def test_llamacpp_props_are_read_when_models_has_no_length(monkeypatch: pytest.MonkeyPatch) -> None:
    metadata = {
        "/v1/models": _models(meta={"n_ctx_train": 131_072}),
        "/props": {"default_generation_settings": {"n_ctx": 2048}},
    }
    report, _ = _report(monkeypatch, metadata)
    assert report["context_window"] == 2048 and "/props" in report["source"]
    assert "warning" in report  # 2048 cannot hold the request and a 2048-token reply


def test_ollama_num_ctx_is_read_from_api_show_for_the_configured_model(monkeypatch: pytest.MonkeyPatch) -> None:
    show = {
        "parameters": 'num_ctx                        8192\nstop "<|eot|>"',
        "model_info": {"llama.context_length": 131_072},
    }
    report, server = _report(monkeypatch, {"/v1/models": _models(), "/api/show": show})
    assert report["context_window"] == 8192 and "Ollama" in report["source"]
    asked = next(r for r in server.metadata_requests if r.path == "/api/show")
    assert asked.body == {"model": MODEL}


def test_no_metadata_at_all_says_it_could_not_be_determined(monkeypatch: pytest.MonkeyPatch) -> None:
    report, _ = _report(monkeypatch, {})
    assert report["context_window"] is None
    assert "could not be determined" in report["warning"]
    assert "/v1/models failed" in report["source"] and "/props" in report["source"] and "/api/show" in report["source"]


def test_ollama_without_num_ctx_names_the_models_maximum_and_does_not_guess(monkeypatch: pytest.MonkeyPatch) -> None:
    show = {"parameters": 'stop "<|eot|>"', "model_info": {"llama.context_length": 131_072}}
    report, _ = _report(monkeypatch, {"/api/show": show})
    assert report["context_window"] is None and "131072" in report["source"]


def test_hosted_openai_is_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
    assert context_window_report(get_settings()) is None


def test_doctor_shows_the_warning_and_puts_it_in_next_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    with WireServer(metadata={"/v1/models": _models(max_model_len=1024)}) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.openai_url)
        proc = subprocess.run(
            [sys.executable, "-m", "csvanalyst", "doctor", "--json"], capture_output=True, text=True, timeout=120
        )
        human = subprocess.run(
            [sys.executable, "-m", "csvanalyst", "doctor"], capture_output=True, text=True, timeout=120
        )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["model_server"]["context_window"] == 1024
    assert any("context window of 1024 tokens" in step for step in doc["next_steps"])
    assert "Local model server" in human.stdout and "context window 1024 tokens" in human.stdout
